import type { EventOutcome } from '../contract/outcomes.js';
import { decodeStripeEvent, isReversalEventType, sessionAboutToBeCredited, StripeEventInvalid, type LineItem, type StripeEvent } from '../contract/stripe-event.js';
import { applyStripeEvent } from '../credits/checkout.js';
import { purchaseCredits, type CreditRules } from '../credits/credit-rules.js';
import { CheckoutRejected, CreditsError } from '../credits/errors.js';
import type { ChargeLookup, CreditsStore } from '../credits/ports.js';
import { classifyDatabaseError } from '../db/errors.js';
import type { EntityManager } from '../db/orm.js';
import type { Logger } from '../logger.js';
import { sql } from '../db/sql.js';
import { StripeApiError } from '../stripe-api/errors.js';
import { OperationRefused } from './errors.js';
import { table } from './text-table.js';

export type ReplaySelection = { eventId: string } | { failed: true; since?: Date };

export interface StoredEvent {
  eventId: string;
  eventType: string;
  status: string;
  attempts: number;
  errorMessage: string | null;
  receivedAt: string;
  payload: unknown;
  /** The line items stored with the event, when they were fetched for it. */
  lineItems: LineItem[] | null;
}

/**
 * `would_replay` in a dry run; `refused` when replaying could credit differently from the
 * webhook (its inputs are not all stored); `error` when the event could not be processed at all.
 */
export type ReplayOutcome = EventOutcome | 'would_replay' | 'refused' | 'error';

export interface ReplayItem {
  eventId: string;
  eventType: string;
  previousStatus: string;
  outcome: ReplayOutcome;
  reason: string;
  creditsGranted: number;
  /** Credits a refund or dispute took back (or a won dispute gave back, negative). */
  creditsReversed?: number;
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
  /** Fetches a session's line items as the edge does, for events stored without them (STRIPE_SECRET_KEY set). */
  fetchLineItems?: (sessionId: string) => Promise<LineItem[]>;
  /** Looks up a disputed charge's PaymentIntent, as CreditsService does (STRIPE_SECRET_KEY set). */
  charges?: ChargeLookup;
}

interface StoredRow {
  event_id: string;
  event_type: string;
  status: string;
  attempts: number;
  error_message: string | null;
  received_at: Date;
  payload: unknown;
  line_items: LineItem[] | null;
}

export async function findStoredEvents(em: EntityManager, selection: ReplaySelection): Promise<StoredEvent[]> {
  const columns = 'event_id, event_type, status, attempts, error_message, received_at, payload, line_items';
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
    lineItems: row.line_items,
  }));
}

/** The event the webhook decoded, decoded again from what was stored. */
export function stripeEventFromStored(stored: StoredEvent): StripeEvent {
  try {
    return decodeStripeEvent(JSON.stringify(stored.payload), stored.lineItems ?? []);
  } catch (error) {
    if (error instanceof StripeEventInvalid) {
      throw new CreditsError('REQUEST_INVALID', error.kind === 'invalid' ? `stored payload: ${error.message}` : 'stored payload is not a Stripe event');
    }
    throw error;
  }
}

/** What a dry run can tell without writing: whether the payload is valid and what its stored inputs buy. */
function preview(stored: StoredEvent, rules: CreditRules): string {
  const event = stripeEventFromStored(stored);
  if (isReversalEventType(event.type)) return 'refund or dispute: reverses its share of the purchase when applied (pending until the purchase is credited)';
  if (!event.session) return 'no checkout session: would be ignored';
  try {
    const source = stored.lineItems ? 'stored line items and metadata' : 'metadata';
    return `${purchaseCredits(event.lineItems, event.session.metadata, rules)} credits from ${source}; user resolved at replay`;
  } catch (error) {
    if (error instanceof CheckoutRejected) return `would be rejected again: ${error.reason}`;
    throw error;
  }
}

function itemFor(stored: StoredEvent, outcome: ReplayOutcome, reason: string, creditsGranted = 0): ReplayItem {
  return { eventId: stored.eventId, eventType: stored.eventType, previousStatus: stored.status, outcome, reason, creditsGranted };
}

class InputsMissing extends Error {}

/**
 * The event with the inputs the webhook credited from. An event stored without line items, whose
 * credits line items could decide (STRIPE_PRICE_CREDITS is set), gets them from the Stripe API as
 * the edge would, or is refused: crediting it from metadata could give another amount.
 */
async function replayInputs(stored: StoredEvent, options: ReplayOptions): Promise<StripeEvent> {
  const event = stripeEventFromStored(stored);
  const sessionId = sessionAboutToBeCredited(event);
  if (stored.lineItems || !sessionId || Object.keys(options.rules.priceCredits).length === 0) return event;
  if (!options.fetchLineItems) {
    throw new InputsMissing('line_items_unknown: stored without line items and STRIPE_SECRET_KEY is unset; set it, or resend the event from Stripe');
  }
  return { ...event, lineItems: await options.fetchLineItems(sessionId) };
}

async function replayOne(store: CreditsStore, stored: StoredEvent, options: ReplayOptions): Promise<ReplayItem> {
  let event: StripeEvent;
  try {
    event = await replayInputs(stored, options);
  } catch (error) {
    if (error instanceof InputsMissing) return itemFor(stored, 'refused', error.message);
    throw error;
  }
  const logger = options.logger.child({ stripeEventId: stored.eventId });
  const result = await applyStripeEvent(store, event, options.rules, logger, { source: 'webhook', appliedBy: 'replay' }, { charges: options.charges });
  const item = itemFor(stored, result.outcome, result.reason, result.creditsGranted);
  const reversed = result.creditsReversed - result.creditsRestored;
  return reversed === 0 ? item : { ...item, creditsReversed: reversed };
}

/**
 * Re-applies stored events through applyStripeEvent, the path webhooks take, so a replay is
 * idempotent: an event already credited answers `duplicate` and changes nothing.
 */
export async function replayEvents(em: EntityManager, store: CreditsStore, selection: ReplaySelection, options: ReplayOptions): Promise<ReplayReport> {
  const { dryRun = false, onProgress } = options;
  const stored = await findStoredEvents(em, selection);
  const report: ReplayReport = { dryRun, items: [], summary: {} };
  for (const event of stored) {
    const { item, stop } = await replayItem(store, event, options);
    report.items.push(item);
    report.summary[item.outcome] = (report.summary[item.outcome] ?? 0) + 1;
    onProgress?.(report.items.length, stored.length, item);
    if (stop) {
      report.stoppedEarly = stop;
      break;
    }
  }
  return report;
}

/** One event's result; `stop` when the database went away, so the rest are not attempted. */
async function replayItem(store: CreditsStore, event: StoredEvent, options: ReplayOptions): Promise<{ item: ReplayItem; stop?: string }> {
  try {
    return { item: options.dryRun ? itemFor(event, 'would_replay', preview(event, options.rules)) : await replayOne(store, event, options) };
  } catch (error) {
    if (error instanceof StripeApiError) {
      return { item: itemFor(event, 'error', `stripe_api_${error.status ?? 'unreachable'}: the line items could not be fetched; retry later`) };
    }
    const known = error instanceof CreditsError ? error : classifyDatabaseError(error);
    if (!known) options.logger.error({ err: error, stripeEventId: event.eventId }, 'replay failed unexpectedly');
    const reason = known ? `${known.code}: ${known.message}` : `unexpected: ${error instanceof Error ? error.message : String(error)}`;
    return { item: itemFor(event, 'error', reason), stop: known?.code === 'DATABASE_UNAVAILABLE' ? known.message : undefined };
  }
}

/** Anything not credited or settled this time needs a person: the CLI exits 1. */
export function replayNeedsAttention(report: ReplayReport): boolean {
  return report.stoppedEarly !== undefined || report.items.some((item) => ['rejected', 'refused', 'error'].includes(item.outcome));
}

/** Credits added (a purchase), or taken back (negative: a refund or dispute), or given back (a won dispute). */
function creditsMoved(item: ReplayItem): string {
  return item.creditsReversed ? String(-item.creditsReversed) : String(item.creditsGranted);
}

export function formatReplayReport(report: ReplayReport): string {
  if (report.items.length === 0) return 'Nothing to replay.';
  const lines = [
    table([
      ['event', 'type', 'was', report.dryRun ? 'plan' : 'outcome', 'credits', 'reason'],
      ...report.items.map((item) => [item.eventId, item.eventType, item.previousStatus, item.outcome, creditsMoved(item), item.reason]),
    ]),
    '',
    `${report.dryRun ? 'Dry run, nothing written' : 'Replayed'}: ${report.items.length} event(s): ${Object.entries(report.summary)
      .map(([outcome, count]) => `${outcome} ${count}`)
      .join(', ')}`,
  ];
  if (report.stoppedEarly) lines.push(`Stopped early: ${report.stoppedEarly}`);
  if (report.items.some((item) => item.reason.includes('credits_unknown'))) {
    lines.push(
      'Note: credits_unknown means no line item has a price in STRIPE_PRICE_CREDITS and the session has no credits in its',
      '      metadata; correct STRIPE_PRICE_CREDITS (or grant by hand) and replay again.',
    );
  }
  if (report.items.some((item) => item.reason.startsWith('charge_lookup_'))) {
    lines.push(
      'Note: charge_lookup_* means a dispute named only its charge and the charge could not be looked up; with',
      '      STRIPE_SECRET_KEY set (and the Stripe API answering), replay looks it up as CreditsService does.',
    );
  }
  if (report.items.some((item) => item.outcome === 'refused')) {
    lines.push(
      'Note: refused events were stored without the line items their credits depend on; with STRIPE_SECRET_KEY set,',
      '      replay fetches them from the Stripe API as the edge does.',
    );
  }
  return lines.join('\n');
}
