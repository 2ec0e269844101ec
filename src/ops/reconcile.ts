import { HANDLED_EVENT_TYPES } from '../contract/handled-event-types.js';
import type { EventOutcome } from '../contract/outcomes.js';
import { decodeStripeEvent, isReversalEventType, sessionAboutToBeCredited, StripeEventInvalid, type LineItem, type StripeEvent } from '../contract/stripe-event.js';
import { applyStripeEvent } from '../credits/checkout.js';
import { purchaseCredits, type CreditRules } from '../credits/credit-rules.js';
import { CheckoutRejected, CreditsError } from '../credits/errors.js';
import type { CreditsStore } from '../credits/ports.js';
import { classifyDatabaseError, translateDatabaseErrors } from '../db/errors.js';
import type { EntityManager } from '../db/orm.js';
import { sql } from '../db/sql.js';
import type { Logger } from '../logger.js';
import { stripeChargeLookup } from '../stripe-api/charge-lookup.js';
import { creditableLineItems, type ListedStripeEvent, type StripeApi } from '../stripe-api/client.js';
import { StripeApiError } from '../stripe-api/errors.js';
import { table } from './text-table.js';

/**
 * Reconcile: the events Stripe has and this service never stored (a webhook endpoint down for
 * longer than Stripe retries, a wrong webhook secret, an event answered 400 by a bug) are listed
 * from Stripe's Events API and applied through applyStripeEvent, exactly as the webhook would
 * apply them: the same line items, the same outcomes, rows and dedupe.
 */

/** Stripe keeps events for 30 days; older ones cannot be listed. */
export const STRIPE_EVENT_RETENTION_MS = 30 * 86_400_000;
/** What `reconcile` looks at when no --since is given. */
export const DEFAULT_RECONCILE_WINDOW_MS = 3 * 86_400_000;
const HOUR_MS = 3_600_000;

/**
 * The window each periodic pass looks back over: three intervals, so that a pass or two that
 * did not run (a restart, Stripe unavailable, another replica's pass cut short) are covered by
 * the next, and at least an hour. With the allowed intervals (60 s to 1 day) it is 1 hour to 3 days.
 */
export function reconcileWindowMs(intervalMs: number): number {
  return Math.min(Math.max(3 * intervalMs, HOUR_MS), STRIPE_EVENT_RETENTION_MS);
}

/** `would_apply` in a dry run; `failed` when the event could not be applied this time (retried next run). */
export type ReconcileOutcome = EventOutcome | 'would_apply' | 'failed';

export interface ReconcileItem {
  eventId: string;
  eventType: string;
  /** When Stripe created the event. */
  created: string;
  /** How the event was stored before this run (failed, processing) or null when it was not stored at all. */
  storedStatus: string | null;
  outcome: ReconcileOutcome;
  reason: string;
  creditsGranted: number;
}

export interface ReconcileCounts {
  /** Events Stripe listed in the window. */
  listed: number;
  /** Listed events already stored as completed, ignored or pending: nothing to do. */
  alreadyDone: number;
  applied: number;
  duplicate: number;
  paymentPending: number;
  paymentFailed: number;
  ignored: number;
  rejected: number;
  /** Refunds and disputes of purchases not credited yet: stored as pending, applied with the purchase. */
  purchasePending: number;
  /** Could not be applied (Stripe API, an event that does not decode, the database): retried next run. */
  failed: number;
  wouldApply: number;
}

export interface ReconcileReport {
  dryRun: boolean;
  /** The window: events created at or after this time. */
  since: string;
  undeliveredOnly: boolean;
  types: readonly string[];
  startedAt: string;
  finishedAt: string;
  counts: ReconcileCounts;
  /** Every listed event that was not already done, in the order handled (newest first, as Stripe lists). */
  items: ReconcileItem[];
  /** The events that failed, with why. */
  failures: { eventId: string; eventType: string; reason: string }[];
  /** True when every page was listed and every listed event was handled. */
  complete: boolean;
  /** Why the run ended before the end of the list (Stripe kept failing, the database went away, shutdown). */
  stoppedEarly?: string;
  /** The creation time of the oldest event listed: how far back (newest first) the run got. */
  reachedBack?: string;
}

export interface ReconcileDeps {
  /** For reading which listed events are stored already. */
  em: EntityManager;
  store: CreditsStore;
  stripe: StripeApi;
}

export interface ReconcileOptions {
  since: Date;
  rules: CreditRules;
  logger: Logger;
  /** Only events Stripe has not delivered successfully to every endpoint (delivery_success=false). */
  undeliveredOnly?: boolean;
  dryRun?: boolean;
  /** Ends the run between two events (the credits process is stopping). */
  signal?: AbortSignal;
  /** After each event handled; `listed` grows as pages arrive. */
  onProgress?: (handled: number, listed: number, item: ReconcileItem | undefined) => void;
}

// Statuses whose decision can no longer change: completed and ignored are final, and a pending
// event (a session still unpaid) is decided from the event alone, which never changes; its
// async_payment_succeeded is another event. A pending refund or dispute waits for its purchase,
// which applies it when it is credited. Failed (rejected) and processing are tried again.
const DONE_STATUSES = new Set(['completed', 'ignored', 'pending']);

const OUTCOME_COUNTS: Record<ReconcileOutcome, keyof ReconcileCounts> = {
  applied: 'applied',
  duplicate: 'duplicate',
  payment_pending: 'paymentPending',
  payment_failed: 'paymentFailed',
  ignored: 'ignored',
  rejected: 'rejected',
  purchase_pending: 'purchasePending',
  failed: 'failed',
  would_apply: 'wouldApply',
};

function emptyCounts(): ReconcileCounts {
  return {
    listed: 0,
    alreadyDone: 0,
    applied: 0,
    duplicate: 0,
    paymentPending: 0,
    paymentFailed: 0,
    ignored: 0,
    rejected: 0,
    purchasePending: 0,
    failed: 0,
    wouldApply: 0,
  };
}

/** The stored status of each of these event ids that is stored at all. */
async function storedStatuses(em: EntityManager, eventIds: readonly string[]): Promise<Map<string, string>> {
  if (eventIds.length === 0) return new Map();
  const rows = await translateDatabaseErrors(() =>
    sql<{ event_id: string; status: string }[]>(em, `SELECT event_id, status FROM stripe_events WHERE event_id IN (${eventIds.map(() => '?').join(', ')})`, eventIds),
  );
  return new Map(rows.map((row) => [row.event_id, row.status]));
}

/** Thrown inside one event's handling: that event failed, the run goes on. */
class EventFailed extends Error {}

/** The run was asked to stop (the process is shutting down). */
class Stopped extends Error {}
const shuttingDown = 'stopped: the process is shutting down';

/** The session's line items as the edge fetches them: all of them, or none when Stripe says the list is partial. */
async function lineItemsFor(event: StripeEvent, stripe: StripeApi, logger: Logger): Promise<LineItem[]> {
  const sessionId = sessionAboutToBeCredited(event);
  if (!sessionId) return [];
  try {
    const listed = await stripe.listLineItems(sessionId);
    if (!listed.complete) logger.warn({ lines: listed.items.length }, 'Stripe API: line items incomplete, not used');
    return creditableLineItems(listed);
  } catch (error) {
    // Never credit with a guess: the event stays unapplied and the next run asks again.
    if (error instanceof StripeApiError) throw new EventFailed(`stripe_api: ${error.message}`);
    throw error;
  }
}

function decode(listed: ListedStripeEvent, lineItems: readonly LineItem[] = []): StripeEvent {
  try {
    return decodeStripeEvent(listed.rawJson, lineItems);
  } catch (error) {
    if (error instanceof StripeEventInvalid) throw new EventFailed(`invalid_event: ${error.message}`);
    throw error;
  }
}

/** What a dry run can tell without writing: what the event would do, and what its line items or metadata buy. */
async function preview(deps: ReconcileDeps, listed: ListedStripeEvent, rules: CreditRules, logger: Logger): Promise<string> {
  const event = decode(listed);
  const session = event.session;
  if (isReversalEventType(event.type)) return 'refund or dispute: reverses its share of the purchase when applied (pending until the purchase is credited)';
  if (!sessionAboutToBeCredited(event)) {
    if (!session) return 'no checkout session: would be ignored';
    if (event.type === 'checkout.session.async_payment_failed') return 'payment failed: no credits';
    if (session.mode !== 'payment') return `mode ${session.mode || 'missing'}: would be ignored`;
    if (session.paymentStatus === 'unpaid') return 'payment pending: no credits yet';
    return `payment_status ${session.paymentStatus || 'missing'}: would be ignored`;
  }
  const [credited] = await translateDatabaseErrors(() =>
    sql<{ n: number }[]>(deps.em, `SELECT count(*)::int AS n FROM credit_transactions WHERE checkout_session_id = ? AND kind = 'purchase'`, [session!.id]),
  );
  if ((credited?.n ?? 0) > 0) return 'session already credited: would be a duplicate';
  const withItems = decode(listed, await lineItemsFor(event, deps.stripe, logger));
  try {
    const credits = purchaseCredits(withItems.lineItems, session!.metadata, rules);
    return `${credits} credits from ${withItems.lineItems.length ? 'line items' : 'metadata'}; user resolved when applied`;
  } catch (error) {
    if (error instanceof CheckoutRejected) return `would be rejected: ${error.reason}`;
    throw error;
  }
}

interface Handled {
  item: ReconcileItem;
  /** Set when the database is gone: the run stops after this event. */
  stop?: string;
}

async function handle(deps: ReconcileDeps, listed: ListedStripeEvent, storedStatus: string | null, options: ReconcileOptions): Promise<Handled> {
  const { event: raw } = listed;
  const logger = options.logger.child({ stripeEventId: raw.id });
  const item = (outcome: ReconcileOutcome, reason: string, creditsGranted = 0): ReconcileItem => ({
    eventId: raw.id,
    eventType: raw.type,
    created: new Date(raw.created * 1000).toISOString(),
    storedStatus,
    outcome,
    reason,
    creditsGranted,
  });
  try {
    if (options.dryRun) return { item: item('would_apply', await preview(deps, listed, options.rules, logger)) };
    const bare = decode(listed);
    const event = decode(listed, await lineItemsFor(bare, deps.stripe, logger));
    const result = await applyStripeEvent(deps.store, event, options.rules, logger, { source: 'reconcile' }, { charges: stripeChargeLookup(deps.stripe) });
    if (result.outcome === 'applied' && isReversalEventType(event.type)) {
      logger.info({ reversed: result.creditsReversed, restored: result.creditsRestored, shortfall: result.shortfall }, 'reconcile: refund or dispute recovered');
    } else if (result.outcome === 'applied') logger.info({ credits: result.creditsGranted }, 'reconcile: purchase recovered');
    return { item: item(result.outcome, result.reason, result.creditsGranted) };
  } catch (error) {
    if (error instanceof EventFailed) {
      logger.warn({ reason: error.message }, 'reconcile: event failed');
      return { item: item('failed', error.message) };
    }
    const known = error instanceof CreditsError ? error : classifyDatabaseError(error);
    if (!known) logger.error({ err: error }, 'reconcile: event failed unexpectedly');
    else logger.warn({ code: known.code }, 'reconcile: event failed');
    const reason = known ? `${known.code}: ${known.message}` : `unexpected: ${error instanceof Error ? error.message : String(error)}`;
    return { item: item('failed', reason), stop: known?.code === 'DATABASE_UNAVAILABLE' ? known.message : undefined };
  }
}

/**
 * Lists the handled event types created since `options.since` (every page, newest first) and
 * applies each one not stored as done, one transaction per event. Nothing is written in a dry
 * run. Stripe failing for good, or the database going away, ends the run early with what it did.
 */
export async function reconcileEvents(deps: ReconcileDeps, options: ReconcileOptions): Promise<ReconcileReport> {
  const { since, undeliveredOnly = false, dryRun = false, signal, onProgress } = options;
  const report: ReconcileReport = {
    dryRun,
    since: since.toISOString(),
    undeliveredOnly,
    types: HANDLED_EVENT_TYPES,
    startedAt: new Date().toISOString(),
    finishedAt: '',
    counts: emptyCounts(),
    items: [],
    failures: [],
    complete: false,
  };
  const createdGte = Math.max(0, Math.floor(since.getTime() / 1000));
  let handled = 0;
  let pageLeft = 0;
  let page: ListedStripeEvent[] = [];

  /** One page at a time: one query for which of its events are stored, then each event in turn. */
  const handlePage = async (): Promise<string | undefined> => {
    const events = page;
    page = [];
    let statuses: Map<string, string>;
    try {
      statuses = await storedStatuses(deps.em, events.map(({ event }) => event.id));
    } catch (error) {
      const known = classifyDatabaseError(error);
      if (!known) throw error;
      return `${known.code}: ${known.message}`;
    }
    for (const listed of events) {
      if (signal?.aborted) return shuttingDown;
      const storedStatus = statuses.get(listed.event.id) ?? null;
      handled += 1;
      if (storedStatus !== null && DONE_STATUSES.has(storedStatus)) {
        report.counts.alreadyDone += 1;
        onProgress?.(handled, report.counts.listed, undefined);
        continue;
      }
      const { item, stop } = await handle(deps, listed, storedStatus, options);
      report.items.push(item);
      report.counts[OUTCOME_COUNTS[item.outcome]] += 1;
      if (item.outcome === 'failed') report.failures.push({ eventId: item.eventId, eventType: item.eventType, reason: item.reason });
      onProgress?.(handled, report.counts.listed, item);
      if (stop) return `the database went away: ${stop}`;
    }
    return undefined;
  };

  try {
    if (signal?.aborted) throw new Stopped();
    const listing = deps.stripe.listEvents({
      types: HANDLED_EVENT_TYPES,
      createdGte,
      ...(undeliveredOnly ? { deliverySuccess: false as const } : {}),
      onPage: (count) => {
        pageLeft = count;
      },
    });
    for await (const listed of listing) {
      if (signal?.aborted) throw new Stopped();
      report.counts.listed += 1;
      report.reachedBack = new Date(listed.event.created * 1000).toISOString();
      page.push(listed);
      pageLeft -= 1;
      if (pageLeft > 0) continue;
      report.stoppedEarly = await handlePage();
      if (report.stoppedEarly) break;
    }
    if (!report.stoppedEarly && page.length) report.stoppedEarly = await handlePage();
    report.complete = report.stoppedEarly === undefined;
  } catch (error) {
    if (error instanceof Stopped) report.stoppedEarly = shuttingDown;
    // The events already read were handled, each in its own transaction; the rest were not reached.
    else if (error instanceof StripeApiError) report.stoppedEarly = error.message;
    else throw error;
  }
  report.finishedAt = new Date().toISOString();
  return report;
}

/** The run could not finish, or some event could not be applied: the CLI exits 1. */
export function reconcileFailed(report: ReconcileReport): boolean {
  return !report.complete || report.counts.failed > 0;
}

export function formatReconcileReport(report: ReconcileReport): string {
  const { counts } = report;
  const lines: string[] = [];
  const scope = `${report.undeliveredOnly ? 'undelivered ' : ''}events since ${report.since} (${report.types.join(', ')})`;
  if (report.items.length) {
    lines.push(
      table([
        ['event', 'type', 'created', 'was', report.dryRun ? 'plan' : 'outcome', 'credits', 'reason'],
        ...report.items.map((item) => [
          item.eventId,
          item.eventType,
          item.created,
          item.storedStatus ?? 'not stored',
          item.outcome,
          String(item.creditsGranted),
          item.reason,
        ]),
      ]),
      '',
    );
  }
  lines.push(
    `${report.dryRun ? 'Dry run, nothing written' : 'Reconciled'}: ${scope}`,
    `  listed ${counts.listed}, already done ${counts.alreadyDone}, ` +
      (report.dryRun
        ? `would apply ${counts.wouldApply}, failed ${counts.failed}`
        : `applied ${counts.applied}, pending ${counts.paymentPending}, failed ${counts.failed}` +
          ` (duplicate ${counts.duplicate}, payment failed ${counts.paymentFailed}, ignored ${counts.ignored}, rejected ${counts.rejected})` +
          (counts.purchasePending > 0 ? `, ${counts.purchasePending} refund(s) or dispute(s) waiting for their purchase` : '')),
  );
  for (const failure of report.failures) lines.push(`  failed: ${failure.eventId} ${failure.eventType}: ${failure.reason}`);
  if (counts.rejected > 0) {
    lines.push(`  ${counts.rejected} rejected: stored as failed with the reason; see \`npm run cli -- stats\`, fix the cause, then \`replay --failed\``);
  }
  if (report.stoppedEarly) {
    const reached = report.reachedBack ? ` back to events created ${report.reachedBack}` : '';
    lines.push(
      `Incomplete: ${report.stoppedEarly}`,
      `  ${counts.listed} event(s) listed${reached} (newest first), ${counts.alreadyDone + report.items.length} handled, each written whole. Run reconcile again to finish.`,
    );
  }
  return lines.join('\n');
}
