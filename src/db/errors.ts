import { ConnectionException, DeadlockException, DriverException, LockWaitTimeoutException } from '@mikro-orm/core';
import { CreditsError } from '../credits/errors.js';

// SQLSTATE classes: 08 connection, 57P0x shutdown/crash, 53 resources; 40001/40P01 lost a race.
const UNAVAILABLE_STATES = /^(08...|57P0[1-4]|53...)$/;
const CONFLICT_STATES = new Set(['40001', '40P01', '55P03']);
const UNAVAILABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND']);
// knex ends a transaction whose BEGIN failed (the connection broke) and rejects every later query with
// "Transaction query already complete": nothing was written, so it is an outage like the others.
const UNAVAILABLE_MESSAGES =
  /Timeout acquiring a connection|Connection terminated|connection timeout|Client has encountered a connection error|not queryable|Transaction query already complete/i;

function stateOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { sqlState, code } = error as { sqlState?: unknown; code?: unknown };
  if (typeof sqlState === 'string') return sqlState;
  return typeof code === 'string' ? code : undefined;
}

function constraintOf(...errors: unknown[]): string | undefined {
  for (const error of errors) {
    const constraint = (error as { constraint?: unknown } | null)?.constraint;
    if (typeof constraint === 'string') return constraint;
  }
  return undefined;
}

/**
 * Turns what the database driver threw into the domain's error: an outage is UNAVAILABLE (the
 * caller retries later), a lost race is a conflict (retried here first), anything else INTERNAL.
 */
export function classifyDatabaseError(error: unknown): CreditsError | undefined {
  if (error instanceof CreditsError) return error;
  const previous = error instanceof DriverException ? (error as { previous?: unknown }).previous : undefined;
  const state = stateOf(error) ?? stateOf(previous);
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof DeadlockException || error instanceof LockWaitTimeoutException || (state && CONFLICT_STATES.has(state))) {
    return new CreditsError('TRANSACTION_CONFLICT', 'the transaction lost a race with another; retry');
  }
  if (
    error instanceof ConnectionException ||
    (state && (UNAVAILABLE_STATES.test(state) || UNAVAILABLE_ERRNOS.has(state))) ||
    UNAVAILABLE_MESSAGES.test(message)
  ) {
    return new CreditsError('DATABASE_UNAVAILABLE', 'the database is unavailable; retry later');
  }
  if (state === '57014') return new CreditsError('DEADLINE_EXCEEDED', 'the database statement timed out');
  // The CHECK is the last line of defence; the domain checks available credits before it writes.
  if (state === '23514' && constraintOf(error, previous) === 'users_credits_balance_non_negative') {
    return new CreditsError('INSUFFICIENT_CREDITS', 'the balance would fall below zero; nothing was written');
  }
  return undefined;
}

/**
 * What may be logged about a failure. A driver error's message and stack hold the SQL with its
 * parameters (emails, whole Stripe events) and its detail quotes values: keep codes and names only.
 */
export function loggableError(error: unknown): unknown {
  if (!(error instanceof DriverException)) return error;
  const fields = error as DriverException & Partial<Record<'severity' | 'routine' | 'table' | 'column' | 'constraint', string>>;
  return {
    type: error.name,
    sqlState: stateOf(error),
    severity: fields.severity,
    routine: fields.routine,
    table: fields.table,
    column: fields.column,
    constraint: fields.constraint,
    stack: error.stack?.split('\n').filter((line) => line.trim().startsWith('at ')).join('\n'),
  };
}

/**
 * Runs database work and rethrows its failures in the domain's terms: what the driver threw
 * becomes a CreditsError (an unexpected one INTERNAL, carrying only loggable fields); the
 * domain's own errors pass through untouched.
 */
export async function translateDatabaseErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const known = classifyDatabaseError(error);
    if (known) throw known;
    if (error instanceof DriverException) {
      throw new CreditsError('INTERNAL', 'internal error', { err: loggableError(error) as Record<string, unknown> });
    }
    throw error;
  }
}
