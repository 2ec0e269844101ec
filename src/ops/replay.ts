import type { CheckoutOutcome } from '../contract/outcomes.js';
import { decodeStripeEvent, StripeEventInvalid, type StripeEvent } from '../contract/stripe-event.js';
import { applyStripeEvent } from '../credits/checkout.js';
import { purchaseCredits, type CreditRules } from '../credits/credit-rules.js';
import { CheckoutRejected, CreditsError } from '../credits/errors.js';
import type { CreditsStore } from '../credits/ports.js';
import { classifyDatabaseError } from '../db/errors.js';
import type { EntityManager } from '../db/orm.js';
import type { Logger } from '../logger.js';
import { OperationRefused } from './errors.js';
import { table } from './text-table.js';
import { sql } from '../db/sql.js';

export type ReplaySelection = { eventId: string } | { failed: true; since?: Date };

export interface StoredEvent {
  eventId: string;
  eventType: string;
  status: string;
  attempts: number;
  errorMessage: string | null;
  receivedAt: string;
  payload: unknown;
}

/** `would_replay` in a dry run; `error` when the event could not be processed at all. */
export type ReplayOutcome = CheckoutOutcome | 'would_replay' | 'error';

export interface ReplayItem {
  eventId: string;
  eventType: string;
  previousStatus: string;
  outcome: ReplayOutcome;
  reason: string;
  creditsGranted: number;
}

export interface ReplayReport {
  dryRun: boolean;
  items: ReplayItem[];
  summary: Partial<Record<ReplayOutcome, number>>;
  /** Set when the database went away mid-run; the events after that were not attempted. */
  stoppedEarly?: string;
}

export interface ReplayOptions {
  rules: CreditRules;
  logger: Logger;
  dryRun?: boolean;
  onProgress?: (done: number, total: number, item: ReplayItem) => void;
}

interface StoredRow {
  event_id: string;
  event_type: string;
  status: string;
  attempts: number;
  error_message: string | null;
  received_at: Date;
  payload: unknown;
}

export async function findStoredEvents(em: EntityManager, selection: ReplaySelection): Promise<StoredEvent[]> {
  const columns = 'event_id, event_type, status, attempts, error_message, received_at, payload';
  const rows =
    'eventId' in selection
      ? await sql<StoredRow[]>(em, `SELECT ${columns} FROM stripe_events WHERE event_id = ?`, [selection.eventId])
      : await sql<StoredRow[]>(em,
          // Oldest first: a session's `completed` is retried before its `async_payment_succeeded`.
          `SELECT ${columns} FROM stripe_events WHERE status = 'failed' AND received_at >= ? ORDER BY received_at, id`,
          [selection.since ?? new Date(0)],
        );
  if ('eventId' in selection && rows.length === 0) throw new OperationRefused(`no stored event with id ${selection.eventId}`);
  return rows.map((row) => ({
    eventId: row.event_id,
    eventType: row.event_type,
    status: row.status,
    attempts: row.attempts,
    errorMessage: row.error_message,
    receivedAt: new Date(row.received_at).toISOString(),
    payload: row.payload,
  }));
}

/** The event the webhook decoded, decoded again from what was stored. */
export function stripeEventFromStored(stored: StoredEvent): StripeEvent {
  try {
    // Stored payloads carry no line items: the credits come from the session's metadata.
    return decodeStripeEvent(JSON.stringify(stored.payload));
  } catch (error) {
    if (error instanceof StripeEventInvalid) {
      throw new CreditsError('REQUEST_INVALID', error.kind === 'invalid' ? `stored payload: ${error.message}` : 'stored payload is not a Stripe event');
    }
    throw error;
  }
}

/** What a dry run can tell without writing: whether the payload is valid and what its metadata buys. */
function preview(stored: StoredEvent, rules: CreditRules): string {
  const event = stripeEventFromStored(stored);
  if (!event.session) return 'no checkout session: would be ignored';
  try {
    return `${purchaseCredits(event.lineItems, event.session.metadata, rules)} credits from metadata; user resolved at replay`;
  } catch (error) {
    if (error instanceof CheckoutRejected) return `would be rejected again: ${error.reason}`;
    throw error;
  }
}

function itemFor(stored: StoredEvent, outcome: ReplayOutcome, reason: string, creditsGranted = 0): ReplayItem {
  return { eventId: stored.eventId, eventType: stored.eventType, previousStatus: stored.status, outcome, reason, creditsGranted };
}

async function replayOne(store: CreditsStore, stored: StoredEvent, rules: CreditRules, logger: Logger): Promise<ReplayItem> {
  const result = await applyStripeEvent(store, stripeEventFromStored(stored), rules, logger.child({ stripeEventId: stored.eventId }));
  return itemFor(stored, result.outcome, result.reason, result.creditsGranted);
}

/**
 * Re-applies stored events through applyStripeEvent, the path webhooks take, so a replay is
 * idempotent: an event already credited answers `duplicate` and changes nothing.
 */
export async function replayEvents(em: EntityManager, store: CreditsStore, selection: ReplaySelection, options: ReplayOptions): Promise<ReplayReport> {
  const { rules, logger, dryRun = false, onProgress } = options;
  const stored = await findStoredEvents(em, selection);
  const report: ReplayReport = { dryRun, items: [], summary: {} };
  for (const event of stored) {
    let item: ReplayItem;
    try {
      item = dryRun ? itemFor(event, 'would_replay', preview(event, rules)) : await replayOne(store, event, rules, logger);
    } catch (error) {
      const known = error instanceof CreditsError ? error : classifyDatabaseError(error);
      if (!known) logger.error({ err: error, stripeEventId: event.eventId }, 'replay failed unexpectedly');
      item = itemFor(event, 'error', known ? `${known.code}: ${known.message}` : `unexpected: ${error instanceof Error ? error.message : String(error)}`);
      if (known?.code === 'DATABASE_UNAVAILABLE') report.stoppedEarly = known.message;
    }
    report.items.push(item);
    report.summary[item.outcome] = (report.summary[item.outcome] ?? 0) + 1;
    onProgress?.(report.items.length, stored.length, item);
    if (report.stoppedEarly) break;
  }
  return report;
}

/** Anything not credited or settled this time needs a person: the CLI exits 1. */
export function replayNeedsAttention(report: ReplayReport): boolean {
  return report.stoppedEarly !== undefined || report.items.some((item) => item.outcome === 'rejected' || item.outcome === 'error');
}

export function formatReplayReport(report: ReplayReport): string {
  if (report.items.length === 0) return 'Nothing to replay.';
  const lines = [
    table([
      ['event', 'type', 'was', report.dryRun ? 'plan' : 'outcome', 'credits', 'reason'],
      ...report.items.map((item) => [item.eventId, item.eventType, item.previousStatus, item.outcome, String(item.creditsGranted), item.reason]),
    ]),
    '',
    `${report.dryRun ? 'Dry run, nothing written' : 'Replayed'}: ${report.items.length} event(s): ${Object.entries(report.summary)
      .map(([outcome, count]) => `${outcome} ${count}`)
      .join(', ')}`,
  ];
  if (report.stoppedEarly) lines.push(`Stopped early: ${report.stoppedEarly}`);
  if (report.items.some((item) => item.reason.includes('credits_unknown'))) {
    lines.push(
      'Note: stored payloads carry no line items and replay does not call the Stripe API, so it credits from metadata only;',
      '      have Stripe resend those events (the edge then fetches their line items).',
    );
  }
  return lines.join('\n');
}
