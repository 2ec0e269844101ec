import { Metadata } from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startCreditsRuntime } from '../src/app/credits';
import { loadConfig } from '../src/config';
import type { ApplyCheckoutResponse__Output } from '../src/contract/generated/credits/v1/ApplyCheckoutResponse';
import type { LineItem } from '../src/contract/stripe-event';
import { ADVISORY_LOCK_KEYS, advisoryXactLock } from '../src/db/advisory-lock';
import { initORM, type MikroORM } from '../src/db/orm';
import { reconcileEvents, reconcileFailed, reconcileWindowMs, type ReconcileOptions, type ReconcileReport } from '../src/ops/reconcile';
import { startReconcileLoop, type ReconcilePassResult } from '../src/ops/reconcile-loop';
import { collectStats } from '../src/ops/stats';
import { verifyDatabase } from '../src/ops/verify';
import { createStripeApi } from '../src/stripe-api/client';
import { cli } from './support/cli';
import { call, checkLedger, startCreditsHarness, type CreditsHarness } from './support/credits-harness';
import { deliver, startEdge } from './support/edge-harness';
import { FAKE_STRIPE_KEY, startFakeStripe, type FakeStripe } from './support/fake-stripe';
import { captureLogs } from './support/log-capture';
import { applyCheckoutRequestFor, checkoutSession, lineItem, stripeEvent, stripeId, type SessionOverrides, type StripeEventType } from './support/stripe-events';

const PACK = 'price_pack_100';
const rules = { priceCredits: { [PACK]: 100 }, maxPerPurchase: 1_000_000, maxBalance: Number.MAX_SAFE_INTEGER, livemode: false };
const HOUR_AGO = () => new Date(Date.now() - 3_600_000);

let h: CreditsHarness;
let fake: FakeStripe;

beforeAll(async () => {
  h = await startCreditsHarness({ priceCredits: rules.priceCredits });
});
afterAll(() => h?.close());
// Each test has a Stripe account of its own: what it lists is what the test added.
beforeEach(async () => {
  fake = await startFakeStripe();
});
afterEach(() => fake?.close());

const stripeApi = (maxRetries = 1) => createStripeApi({ secretKey: FAKE_STRIPE_KEY, apiBase: fake.url, timeoutMs: 5_000, maxRetries });

function reconcile(options: Partial<ReconcileOptions> = {}, orm: MikroORM = h.orm): Promise<ReconcileReport> {
  return reconcileEvents({ em: orm.em.fork(), store: h.store, stripe: stripeApi() }, { since: HOUR_AGO(), rules, logger: captureLogs().logger, ...options });
}

interface Purchase {
  event: Record<string, unknown>;
  eventId: string;
  sessionId: string;
  email: string;
  /** What the session's line items are, as the edge would send them. */
  lineItems: LineItem[];
}

interface PurchaseOptions extends SessionOverrides {
  type?: StripeEventType;
  /** Packs of 100 credits in the session's line items (default 1); 0: no line items at all. */
  packs?: number;
  /** The event as Stripe lists it: delivered to every endpoint (default) or not. */
  delivered?: boolean;
  /** Added to Stripe's event list (default) or not (a session whose other event is). */
  listed?: boolean;
  /** Line items as Stripe answers them, instead of `packs`. */
  stripeLineItems?: Record<string, unknown>[];
  /** The event's `created`, unix seconds (default now). */
  created?: number;
}

/** A Checkout purchase Stripe knows about: its event in /v1/events and its session's line items. */
function stripeHas(options: PurchaseOptions = {}): Purchase {
  const { type = 'checkout.session.completed', packs = 1, delivered = true, listed = true, stripeLineItems, created, ...overrides } = options;
  const email = overrides.email ?? `reconcile-${stripeId('u')}@example.com`;
  const session = checkoutSession({ metadata: {}, ...overrides, email });
  const event: Record<string, unknown> = { ...stripeEvent(type, session), ...(created === undefined ? {} : { created }) };
  const sessionId = session.id as string;
  fake.setLineItems(sessionId, stripeLineItems ?? (packs > 0 ? [lineItem(PACK, packs)] : []));
  if (listed) fake.addEvent(event, { delivered });
  return { event, eventId: event.id as string, sessionId, email, lineItems: packs > 0 && !stripeLineItems ? [{ priceId: PACK, quantity: packs }] : [] };
}

/** The same session, another event of it (e.g. async_payment_succeeded after a pending completed). */
function laterEvent(purchase: Purchase, type: StripeEventType, overrides: SessionOverrides, delivered = false): Purchase {
  const session = { ...((purchase.event.data as { object: Record<string, unknown> }).object), ...overrides };
  const event = stripeEvent(type, session);
  fake.addEvent(event, { delivered });
  return { ...purchase, event, eventId: event.id as string };
}

/** Delivered as the webhook does: the edge's ApplyCheckout over the real gRPC server, with the line items it fetched. */
async function deliverByWebhook(purchase: Purchase): Promise<string> {
  const result = await call(h.client, h.client.ApplyCheckout, applyCheckoutRequestFor(purchase.event, purchase.lineItems), new Metadata());
  if (!result.ok) throw new Error(`ApplyCheckout failed: ${result.error.details}`);
  return (result.response as ApplyCheckoutResponse__Output).outcome;
}

async function eventRow(eventId: string) {
  const { rows } = await h.sql.query('SELECT status, outcome, source, attempts, error_message FROM stripe_events WHERE event_id = $1', [eventId]);
  return rows[0] as { status: string; outcome: string; source: string; attempts: number; error_message: string | null } | undefined;
}

async function purchaseRows(sessionId: string): Promise<number> {
  const { rows } = await h.sql.query(`SELECT count(*)::int AS n FROM credit_transactions WHERE checkout_session_id = $1`, [sessionId]);
  return rows[0].n;
}

async function balanceOf(email: string): Promise<string | undefined> {
  const { rows } = await h.sql.query('SELECT credits_balance FROM users WHERE lower(email) = lower($1)', [email]);
  return rows[0]?.credits_balance;
}

async function storedEventCount(): Promise<number> {
  const { rows } = await h.sql.query('SELECT count(*)::int AS n FROM stripe_events');
  return rows[0].n;
}

// pg_locks covers the whole server: only this test database's advisory locks.
const ADVISORY_LOCKS_HERE = `SELECT count(*)::int AS n FROM pg_locks
  WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`;

const lineItemRequests = () => fake.requests.filter((r) => r.path.endsWith('/line_items'));
const eventListRequests = () => fake.requests.filter((r) => r.path === '/v1/events');

describe('reconcile against the Events API', { timeout: 120_000 }, () => {
  it('when events were never delivered, then they are applied with source reconcile; events the webhook delivered are left alone', async () => {
    const byWebhook = stripeHas({ packs: 1 });
    expect(await deliverByWebhook(byWebhook)).toBe('APPLY_CHECKOUT_OUTCOME_APPLIED');
    const missed = stripeHas({ packs: 2, delivered: false });
    const unpaid = stripeHas({ payment_status: 'unpaid', delivered: false });
    const setup = stripeHas({ mode: 'setup', delivered: false });

    const report = await reconcile();

    expect(report.counts).toEqual({
      listed: 4, alreadyDone: 1, applied: 1, duplicate: 0, paymentPending: 1, paymentFailed: 0, ignored: 1, rejected: 0, purchasePending: 0, failed: 0, wouldApply: 0,
    });
    expect(report.complete).toBe(true);
    expect(reconcileFailed(report)).toBe(false);
    expect(report.items.find((item) => item.eventId === missed.eventId)).toMatchObject({ storedStatus: null, outcome: 'applied', creditsGranted: 200 });
    expect(eventListRequests()[0]!.query).toMatchObject({
      'types[0]': 'checkout.session.completed',
      'types[1]': 'checkout.session.async_payment_succeeded',
      'types[2]': 'checkout.session.async_payment_failed',
      'types[3]': 'charge.refunded',
      'types[4]': 'charge.dispute.created',
      'types[5]': 'charge.dispute.closed',
      'created[gte]': String(Math.floor(new Date(report.since).getTime() / 1000)),
    });
    // Line items are fetched for the one purchase about to be credited, as the edge does.
    expect(lineItemRequests().map((r) => r.path)).toEqual([`/v1/checkout/sessions/${missed.sessionId}/line_items`]);

    expect(await eventRow(missed.eventId)).toMatchObject({ status: 'completed', outcome: 'applied', source: 'reconcile', attempts: 1 });
    expect(await eventRow(unpaid.eventId)).toMatchObject({ status: 'pending', source: 'reconcile' });
    expect(await eventRow(setup.eventId)).toMatchObject({ status: 'ignored', source: 'reconcile' });
    expect(await eventRow(byWebhook.eventId)).toMatchObject({ status: 'completed', source: 'webhook', attempts: 1 });
    expect(await balanceOf(missed.email)).toBe('200');
    expect(await balanceOf(byWebhook.email)).toBe('100');
    expect(await purchaseRows(missed.sessionId)).toBe(1);

    // Again: everything is done; nothing is written, not even an attempt.
    const again = await reconcile();
    expect(again.counts).toMatchObject({ listed: 4, alreadyDone: 4, applied: 0, paymentPending: 0, failed: 0 });
    expect(again.items).toEqual([]);
    expect(await eventRow(missed.eventId)).toMatchObject({ attempts: 1 });
    expect(await eventRow(unpaid.eventId)).toMatchObject({ attempts: 1 });

    // --undelivered-only asks Stripe for delivery_success=false.
    const undelivered = await reconcile({ undeliveredOnly: true });
    expect(undelivered.counts).toMatchObject({ listed: 3, alreadyDone: 3 });
    expect(eventListRequests().at(-1)!.query).toMatchObject({ delivery_success: 'false' });

    // A webhook arriving after reconcile changes nothing, and keeps the source.
    expect(await deliverByWebhook(missed)).toBe('APPLY_CHECKOUT_OUTCOME_DUPLICATE');
    expect(await eventRow(missed.eventId)).toMatchObject({ source: 'reconcile', attempts: 2 });
    expect(await balanceOf(missed.email)).toBe('200');

    const stats = await collectStats(h.orm.em.fork(), { since: HOUR_AGO() });
    expect(stats.purchasesBySource.reconcile).toBeGreaterThanOrEqual(1);
    expect((await verifyDatabase(h.orm)).ok).toBe(true);
  });

  it('when a session was completed by webhook and its async_payment_succeeded comes by reconcile, then it is credited once', async () => {
    // Paid at once and credited by the webhook: a later succeeded event of the session is a duplicate.
    const paid = stripeHas({ packs: 3 });
    expect(await deliverByWebhook(paid)).toBe('APPLY_CHECKOUT_OUTCOME_APPLIED');
    const paidAgain = laterEvent(paid, 'checkout.session.async_payment_succeeded', { payment_status: 'paid' });

    // Paid later: the webhook stored the completed event as pending; reconcile finds the success.
    const delayed = stripeHas({ packs: 2, payment_status: 'unpaid' });
    expect(await deliverByWebhook(delayed)).toBe('APPLY_CHECKOUT_OUTCOME_PAYMENT_PENDING');
    const succeeded = laterEvent(delayed, 'checkout.session.async_payment_succeeded', { payment_status: 'paid' });

    const report = await reconcile();
    expect(report.counts).toMatchObject({ listed: 4, alreadyDone: 2, applied: 1, duplicate: 1, failed: 0 });
    expect(report.items.find((item) => item.eventId === paidAgain.eventId)).toMatchObject({ outcome: 'duplicate', reason: 'checkout_session_already_credited' });
    expect(report.items.find((item) => item.eventId === succeeded.eventId)).toMatchObject({ outcome: 'applied', creditsGranted: 200 });

    expect(await purchaseRows(paid.sessionId)).toBe(1);
    expect(await balanceOf(paid.email)).toBe('300');
    expect(await purchaseRows(delayed.sessionId)).toBe(1);
    expect(await balanceOf(delayed.email)).toBe('200');
    expect(await eventRow(succeeded.eventId)).toMatchObject({ status: 'completed', outcome: 'applied', source: 'reconcile' });

    // The webhook delivering the succeeded event late: the event is already processed.
    expect(await deliverByWebhook(succeeded)).toBe('APPLY_CHECKOUT_OUTCOME_DUPLICATE');
    expect(await balanceOf(delayed.email)).toBe('200');
    expect((await checkLedger(h.sql)).mismatched).toBe(0);
  });

  it('when Stripe has more events than one page (250), then every page is followed and each purchase is applied once', async () => {
    const email = `many-${stripeId('u')}@example.com`;
    const purchases = Array.from({ length: 250 }, () => stripeHas({ email, delivered: false }));
    const report = await reconcile();
    expect(report.counts).toMatchObject({ listed: 250, alreadyDone: 0, applied: 250, failed: 0 });
    expect(report.complete).toBe(true);
    expect(eventListRequests()).toHaveLength(3);
    expect(eventListRequests().map((r) => r.query.starting_after)).toEqual([undefined, report.items[99]!.eventId, report.items[199]!.eventId]);
    expect(await balanceOf(email)).toBe(String(250 * 100));
    const { rows } = await h.sql.query(`SELECT count(*)::int AS n FROM stripe_events WHERE event_id = ANY($1) AND source = 'reconcile' AND status = 'completed'`, [
      purchases.map((p) => p.eventId),
    ]);
    expect(rows[0].n).toBe(250);
  });

  it('when the API answers 500, or 429 with Retry-After, then 200, then the run retries and completes', async () => {
    const first = stripeHas({ delivered: false });
    fake.failNext(1, 500);
    const afterServerError = await reconcile();
    expect(afterServerError).toMatchObject({ complete: true, counts: { listed: 1, applied: 1, failed: 0 } });
    expect(eventListRequests()).toHaveLength(2);

    const second = stripeHas({ delivered: false });
    fake.failNext(1, 429, { 'retry-after': '1' });
    const afterRateLimit = await reconcile();
    expect(afterRateLimit).toMatchObject({ complete: true, counts: { listed: 2, alreadyDone: 1, applied: 1, failed: 0 } });
    expect(eventListRequests()).toHaveLength(4);
    expect(await balanceOf(first.email)).toBe('100');
    expect(await balanceOf(second.email)).toBe('100');
  });

  it("when the Stripe API fails for one event's line items, then that event alone fails, is not stored, and the next run applies it", async () => {
    const now = Math.floor(Date.now() / 1000);
    const [older, middle, newest] = [30, 20, 10].map((secondsAgo) => stripeHas({ delivered: false, created: now - secondsAgo })) as [Purchase, Purchase, Purchase];
    // Newest first: once the newest is handled, the middle one's line items fail on every try.
    const report = await reconcile({
      onProgress: (_handled, _listed, item) => {
        if (item?.eventId === newest.eventId) fake.failNext(2, 503);
      },
    });
    expect(report.items.map((item) => [item.eventId, item.outcome])).toEqual([
      [newest.eventId, 'applied'],
      [middle.eventId, 'failed'],
      [older.eventId, 'applied'],
    ]);
    expect(report.failures).toEqual([{ eventId: middle.eventId, eventType: 'checkout.session.completed', reason: expect.stringContaining('stripe_api: Stripe API listLineItems unavailable: 503') }]);
    expect(report.complete).toBe(true);
    expect(reconcileFailed(report)).toBe(true);
    expect(await eventRow(middle.eventId)).toBeUndefined();
    expect(await balanceOf(middle.email)).toBeUndefined();

    const next = await reconcile();
    expect(next.counts).toMatchObject({ listed: 3, alreadyDone: 2, applied: 1, failed: 0 });
    expect(await balanceOf(middle.email)).toBe('100');
  });

  it('when listing fails for good on the second page, then the run stops having written whole events and says how far it got', async () => {
    const now = Math.floor(Date.now() / 1000);
    const purchases = Array.from({ length: 150 }, (_, i) => stripeHas({ delivered: false, created: now - 1_000 + i }));
    const report = await reconcile({
      onProgress: (handled) => {
        if (handled === 100) fake.failWith(500);
      },
    });
    expect(report.complete).toBe(false);
    expect(report.stoppedEarly).toContain('Stripe API listEvents unavailable: 500');
    expect(report.counts).toMatchObject({ listed: 100, applied: 100, failed: 0 });
    expect(report.reachedBack).toBe(new Date(((purchases[50]!.event as { created: number }).created) * 1000).toISOString());
    expect(reconcileFailed(report)).toBe(true);
    const applied = purchases.slice(50);
    const { rows } = await h.sql.query(`SELECT count(*)::int AS n FROM credit_transactions WHERE checkout_session_id = ANY($1)`, [applied.map((p) => p.sessionId)]);
    expect(rows[0].n).toBe(100);
    expect((await verifyDatabase(h.orm)).ok).toBe(true);

    fake.failWith(undefined);
    const rest = await reconcile();
    expect(rest).toMatchObject({ complete: true, counts: { listed: 150, alreadyDone: 100, applied: 50 } });
  });

  it('when an event was stored as rejected (the edge had no line items), then reconcile applies it with the line items it fetches', async () => {
    const purchase = stripeHas({ packs: 2, delivered: true });
    // Delivered while the edge had no STRIPE_SECRET_KEY: no line items, no metadata.
    expect(await deliverByWebhook({ ...purchase, lineItems: [] })).toBe('APPLY_CHECKOUT_OUTCOME_REJECTED');
    expect(await eventRow(purchase.eventId)).toMatchObject({ status: 'failed', outcome: 'rejected', source: 'webhook' });

    const report = await reconcile();
    expect(report.items).toEqual([expect.objectContaining({ eventId: purchase.eventId, storedStatus: 'failed', outcome: 'applied', creditsGranted: 200 })]);
    expect(await eventRow(purchase.eventId)).toMatchObject({ status: 'completed', outcome: 'applied', source: 'webhook', attempts: 2, error_message: null });
    expect(await balanceOf(purchase.email)).toBe('200');
  });

  it('when a webhook and reconcile apply the same new event at once, then it is credited once', async () => {
    const purchases = Array.from({ length: 10 }, () => stripeHas({ packs: 1, delivered: false }));
    const [, report] = await Promise.all([Promise.all(purchases.map((p) => deliverByWebhook(p))), reconcile()]);
    expect(report.counts.failed).toBe(0);
    for (const purchase of purchases) {
      expect(await purchaseRows(purchase.sessionId)).toBe(1);
      expect(await balanceOf(purchase.email)).toBe('100');
    }
    expect((await checkLedger(h.sql)).mismatched).toBe(0);
  });
});

describe('line items decide the credits as at the edge', { timeout: 120_000 }, () => {
  it('when the same purchases come by the edge and by reconcile, then each gets the same outcome and credits', async () => {
    const edge = await startEdge(h.address, { STRIPE_SECRET_KEY: FAKE_STRIPE_KEY, STRIPE_API_BASE: fake.url });
    try {
      const cases: [string, PurchaseOptions][] = [
        ['priced line items beat metadata', { packs: 3, metadata: { credits: '5' } }],
        ['more lines than one page: metadata decides', { stripeLineItems: Array.from({ length: 101 }, () => lineItem(PACK, 1)), metadata: { credits: '7' } }],
        ['a price not sold as credits: metadata decides', { stripeLineItems: [lineItem('price_unknown', 2)], metadata: { credits: '9' } }],
        ['no price and no metadata: rejected', { stripeLineItems: [lineItem('price_unknown', 1)], metadata: {} }],
      ];
      const outcomes: Record<string, { edge: unknown; reconcile: unknown }> = {};
      const byReconcile = new Map<string, Purchase>();
      for (const [name, options] of cases) {
        const viaEdge = stripeHas({ ...options, listed: false });
        const answer = await deliver(edge.url, viaEdge.event);
        expect(answer.status).toBe(200);
        outcomes[name] = { edge: { outcome: answer.body.outcome, credits: answer.body.creditsGranted, balance: await balanceOf(viaEdge.email) }, reconcile: undefined };
        byReconcile.set(name, stripeHas({ ...options, delivered: false }));
      }
      const report = await reconcile();
      expect(report.counts).toMatchObject({ listed: 4, applied: 3, rejected: 1, failed: 0 });
      for (const [name, purchase] of byReconcile) {
        const item = report.items.find((i) => i.eventId === purchase.eventId)!;
        outcomes[name]!.reconcile = { outcome: item.outcome, credits: item.creditsGranted, balance: await balanceOf(purchase.email) };
      }
      expect(outcomes).toEqual({
        'priced line items beat metadata': { edge: { outcome: 'applied', credits: 300, balance: '300' }, reconcile: { outcome: 'applied', credits: 300, balance: '300' } },
        'more lines than one page: metadata decides': { edge: { outcome: 'applied', credits: 7, balance: '7' }, reconcile: { outcome: 'applied', credits: 7, balance: '7' } },
        'a price not sold as credits: metadata decides': { edge: { outcome: 'applied', credits: 9, balance: '9' }, reconcile: { outcome: 'applied', credits: 9, balance: '9' } },
        // Rejected before anyone is credited: no user is created.
        'no price and no metadata: rejected': { edge: { outcome: 'rejected', credits: 0, balance: undefined }, reconcile: { outcome: 'rejected', credits: 0, balance: undefined } },
      });
      const rejected = byReconcile.get('no price and no metadata: rejected')!;
      expect(await eventRow(rejected.eventId)).toMatchObject({ status: 'failed', outcome: 'rejected', source: 'reconcile' });
      expect(report.items.find((i) => i.eventId === rejected.eventId)).toMatchObject({ reason: 'credits_unknown' });
    } finally {
      await edge.close();
    }
  });
});

describe('only one reconcile at a time', { timeout: 120_000 }, () => {
  it('when a pass holds the advisory lock, then another replica cannot take it until the pass ends', async () => {
    const replica = await initORM({ url: h.database.url, poolMax: 3, echo: false, logger: captureLogs().logger });
    try {
      const here = advisoryXactLock(h.orm, ADVISORY_LOCK_KEYS.reconcile);
      const there = advisoryXactLock(replica, ADVISORY_LOCK_KEYS.reconcile);
      const purchase = stripeHas({ delivered: false });
      const outer = await here(async () => {
        const inner = await there(() => reconcile({}, replica));
        expect(inner).toEqual({ acquired: false });
        const { rows } = await h.sql.query(ADVISORY_LOCKS_HERE);
        expect(rows[0].n).toBe(1);
        return reconcile();
      });
      expect(outer).toMatchObject({ acquired: true, result: { counts: { applied: 1 } } });
      expect(await purchaseRows(purchase.sessionId)).toBe(1);
      // Ending the pass's transaction released the lock.
      const { rows } = await h.sql.query(ADVISORY_LOCKS_HERE);
      expect(rows[0].n).toBe(0);
      expect(await there(async () => 'ran')).toEqual({ acquired: true, result: 'ran' });
    } finally {
      await replica.close();
    }
  });

  it('when two replicas reconcile at once through the lock, then each purchase is credited once', async () => {
    const replica = await initORM({ url: h.database.url, poolMax: 3, echo: false, logger: captureLogs().logger });
    try {
      const purchases = Array.from({ length: 30 }, () => stripeHas({ delivered: false }));
      const runs = await Promise.all(
        [h.orm, replica].map((orm) => advisoryXactLock(orm, ADVISORY_LOCK_KEYS.reconcile)(() => reconcile({}, orm))),
      );
      const applied = runs.reduce((sum, run) => sum + (run.acquired ? run.result.counts.applied : 0), 0);
      expect(applied).toBe(30);
      for (const purchase of purchases) expect(await purchaseRows(purchase.sessionId)).toBe(1);
    } finally {
      await replica.close();
    }
  });

  it('when the loop runs passes, then they never overlap, and close() stops a running pass between events', async () => {
    let active = 0;
    let maxActive = 0;
    const results: ReconcilePassResult[] = [];
    let passes = 0;
    let stopping!: () => void;
    const lastPassStarted = new Promise<void>((resolve) => (stopping = resolve));
    const loop = startReconcileLoop({
      intervalMs: 1,
      windowMs: reconcileWindowMs(60_000),
      tryExclusive: advisoryXactLock(h.orm, ADVISORY_LOCK_KEYS.reconcile),
      logger: captureLogs().logger,
      onPass: (result) => results.push(result),
      pass: async ({ since, signal }) => {
        active += 1;
        maxActive = Math.max(maxActive, active);
        passes += 1;
        expect(Date.now() - since.getTime()).toBeGreaterThanOrEqual(3_600_000);
        if (passes === 5) {
          stopping();
          // A pass in the middle of its events when the process stops.
          await new Promise((resolve) => signal.addEventListener('abort', resolve));
        }
        const report = await reconcile({ signal });
        active -= 1;
        return report;
      },
    });
    await lastPassStarted;
    await loop.close();
    expect(maxActive).toBe(1);
    expect(passes).toBe(5);
    expect(results.map((r) => r.status)).toEqual(['completed', 'completed', 'completed', 'completed', 'stopped']);
    // Closed: no pass starts any more, and the lock is free.
    expect(await advisoryXactLock(h.orm, ADVISORY_LOCK_KEYS.reconcile)(async () => passes)).toEqual({ acquired: true, result: 5 });
  });
});

/** The credits process's metrics page. */
async function scrape(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

/** One series' value on a metrics page; undefined when the series is absent. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

describe('the reconcile loop of the credits process', { timeout: 120_000 }, () => {
  it('when RECONCILE_INTERVAL_S is set, then the process reconciles on its own and exports the metrics', async () => {
    const missed = stripeHas({ packs: 4, delivered: false });
    const config = loadConfig({
      NODE_ENV: 'test',
      DATABASE_URL: h.database.url,
      DB_POOL_MAX: '3',
      GRPC_PORT: '0',
      METRICS_PORT: '0',
      SHUTDOWN_GRACE_MS: '1000',
      RECONCILE_INTERVAL_S: '60',
      STRIPE_SECRET_KEY: FAKE_STRIPE_KEY,
      STRIPE_API_BASE: fake.url,
      STRIPE_PRICE_CREDITS: JSON.stringify(rules.priceCredits),
    });
    const logs = captureLogs();
    // A period shorter than configuration allows, so the test sees several passes.
    const runtime = await startCreditsRuntime({ config, logger: logs.logger, migrate: true, database: { url: h.database.url, stop: async () => {} }, reconcileIntervalMs: 50 });
    try {
      const metric = async (name: string, labels = '') => sample(await scrape(runtime.metrics.port), name, labels);
      expect(await metric('credits_reconcile_failures_total', '{kind="run"}')).toBe(0);
      // Wait for two completed passes: the purchase is recovered by the first and found done by the second.
      while (((await metric('credits_reconcile_runs_total', '{result="completed"}')) ?? 0) < 2) await new Promise((resolve) => setTimeout(resolve, 25));

      expect(await metric('credits_reconcile_recovered_events_total')).toBe(1);
      expect(await metric('credits_reconcile_last_success_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 600);
      expect(await metric('credits_reconcile_failures_total', '{kind="event"}')).toBe(0);
      expect(await eventRow(missed.eventId)).toMatchObject({ status: 'completed', source: 'reconcile', attempts: 1 });
      expect(await balanceOf(missed.email)).toBe('400');
      expect(logs.text()).toContain('reconcile: purchase recovered');
      expect(logs.text()).not.toContain(missed.email);
    } finally {
      await runtime.close();
    }
  });

  it('when a pass cannot list events, then it counts a failed run and the next pass tries again', async () => {
    fake.failWith(500);
    const config = loadConfig({
      NODE_ENV: 'test',
      DATABASE_URL: h.database.url,
      GRPC_PORT: '0',
      METRICS_PORT: '0',
      SHUTDOWN_GRACE_MS: '1000',
      RECONCILE_INTERVAL_S: '60',
      STRIPE_SECRET_KEY: FAKE_STRIPE_KEY,
      STRIPE_API_BASE: fake.url,
      STRIPE_API_MAX_RETRIES: '0',
    });
    const runtime = await startCreditsRuntime({ config, logger: captureLogs().logger, migrate: false, database: { url: h.database.url, stop: async () => {} }, reconcileIntervalMs: 20 });
    try {
      const failedRuns = async () => sample(await scrape(runtime.metrics.port), 'credits_reconcile_failures_total', '{kind="run"}') ?? 0;
      while ((await failedRuns()) < 2) await new Promise((resolve) => setTimeout(resolve, 25));
      const text = await scrape(runtime.metrics.port);
      expect(text).toMatch(/^credits_reconcile_last_success_timestamp_seconds 0$/m);
    } finally {
      await runtime.close();
    }
  });
});

describe('npm run cli -- reconcile', { timeout: 180_000 }, () => {
  const env = () => ({ STRIPE_SECRET_KEY: FAKE_STRIPE_KEY, STRIPE_API_BASE: fake.url, STRIPE_PRICE_CREDITS: JSON.stringify(rules.priceCredits) });

  it('when run, then it prints the summary; --dry-run writes nothing; a second run finds everything done', async () => {
    const byWebhook = stripeHas();
    await deliverByWebhook(byWebhook);
    const missed = stripeHas({ packs: 2, delivered: false });
    const before = await storedEventCount();

    const dry = await cli(['reconcile', '--dry-run'], h.database.url, env());
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(new RegExp(`${missed.eventId}\\s+checkout.session.completed\\s+\\S+\\s+not stored\\s+would_apply\\s+0\\s+200 credits from line items`));
    expect(dry.stdout).toContain('Dry run, nothing written: events since');
    expect(dry.stdout).toContain('listed 2, already done 1, would apply 1, failed 0');
    expect(dry.stderr).toBe('');
    expect(await storedEventCount()).toBe(before);
    expect(await balanceOf(missed.email)).toBeUndefined();

    const run = await cli(['reconcile', '--since', '24h'], h.database.url, env());
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`${missed.eventId}\\s+checkout.session.completed\\s+\\S+\\s+not stored\\s+applied\\s+200`));
    expect(run.stdout).toContain('listed 2, already done 1, applied 1, pending 0, failed 0 (duplicate 0, payment failed 0, ignored 0, rejected 0)');
    expect(await balanceOf(missed.email)).toBe('200');
    expect(await eventRow(missed.eventId)).toMatchObject({ source: 'reconcile' });

    const again = await cli(['reconcile', '--json'], h.database.url, env());
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ dryRun: false, complete: true, counts: { listed: 2, alreadyDone: 2, applied: 0, failed: 0 }, items: [] });

    const stats = await cli(['stats', '--json'], h.database.url);
    expect(JSON.parse(stats.stdout).purchasesBySource.reconcile).toBeGreaterThanOrEqual(1);
  });

  it('when two CLI runs reconcile at once (no lock), then each purchase is credited once', async () => {
    const purchases = Array.from({ length: 20 }, () => stripeHas({ delivered: false }));
    const runs = await Promise.all([1, 2].map(() => cli(['reconcile', '--json'], h.database.url, env())));
    expect(runs.map((run) => run.code)).toEqual([0, 0]);
    const reports = runs.map((run) => JSON.parse(run.stdout) as ReconcileReport);
    expect(reports.reduce((sum, report) => sum + report.counts.applied, 0)).toBe(20);
    for (const report of reports) expect(report.counts.failed).toBe(0);
    for (const purchase of purchases) {
      expect(await purchaseRows(purchase.sessionId)).toBe(1);
      expect(await balanceOf(purchase.email)).toBe('100');
    }
  });

  it('when Stripe fails or refuses, the key is missing or the window too long, then the exit code says so', async () => {
    stripeHas({ delivered: false });
    fake.failWith(500);
    const failing = await cli(['reconcile'], h.database.url, { ...env(), STRIPE_API_MAX_RETRIES: '0' });
    expect(failing.code).toBe(1);
    expect(failing.stdout).toContain('Incomplete: Stripe API listEvents unavailable: 500 api_error');
    expect(failing.stdout).toContain('0 event(s) listed');
    fake.failWith(undefined);

    const wrongKey = await cli(['reconcile'], h.database.url, { ...env(), STRIPE_SECRET_KEY: 'sk_test_wrong_key_0000' });
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stdout).toContain('Incomplete: Stripe API listEvents rejected: 401');
    expect(wrongKey.stdout + wrongKey.stderr).not.toContain('sk_test_wrong_key_0000');

    const noKey = await cli(['reconcile'], h.database.url, { STRIPE_API_BASE: fake.url });
    expect(noKey.code).toBe(78);
    expect(noKey.stderr).toContain('STRIPE_SECRET_KEY: required for reconcile');

    const tooOld = await cli(['reconcile', '--since', '31d'], h.database.url, env());
    expect(tooOld.code).toBe(2);
    expect(tooOld.stderr).toContain('Stripe keeps events for 30 days');

    const help = await cli(['reconcile', '--help'], 'postgres://nobody@127.0.0.1:1/none');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: npm run cli -- reconcile');
  });
});
