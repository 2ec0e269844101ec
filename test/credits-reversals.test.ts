import { Metadata } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApplyStripeEventResponse__Output } from '../src/contract/generated/credits/v1/ApplyStripeEventResponse';
import type { ListTransactionsResponse__Output } from '../src/contract/generated/credits/v1/ListTransactionsResponse';
import type { ReserveCreditsResponse__Output } from '../src/contract/generated/credits/v1/ReserveCreditsResponse';
import type { SpendCreditsResponse__Output } from '../src/contract/generated/credits/v1/SpendCreditsResponse';
import { decodeStripeEvent } from '../src/contract/stripe-event';
import {
  creditsShare,
  reversalClaims,
  reversalMove,
  reversedSoFar,
  targetReversal,
} from '../src/credits/reversals';
import { webhookReceivedBody } from '../src/edge/webhook-schemas';
import { createCreditsMetrics } from '../src/observability/credits-metrics';
import { collectStats } from '../src/ops/stats';
import { verifyDatabase } from '../src/ops/verify';
import { cli } from './support/cli';
import { call, checkLedger, startCreditsHarness, TEST_TOKEN, type CallResult, type CreditsHarness } from './support/credits-harness';
import { deliver, startEdge, type Answer, type EdgeHarness } from './support/edge-harness';
import { FAKE_STRIPE_KEY, startFakeStripe, type FakeStripe } from './support/fake-stripe';
import { uniqueEmail } from './support/ops-seed';
import {
  applyCheckoutRequestFor,
  charge,
  checkoutSession,
  dispute,
  stripeEvent,
  stripeId,
  type ChargeOverrides,
  type DisputeOverrides,
} from './support/stripe-events';

// Refunds and disputes through the real edge (events signed as Stripe signs them) and the real
// CreditsService on PostgreSQL; a fake Stripe API answers the charge look-ups.

describe('the reversal arithmetic (domain, pure)', () => {
  const purchase = { credits: 100, amountPaid: 2000 };
  const refunded = (amountRefunded: number, amount = 2000) =>
    decodeStripeEvent(JSON.stringify(stripeEvent('charge.refunded', charge({ amount, amount_refunded: amountRefunded, payment_intent: 'pi_x' }))));
  const disputed = (type: 'charge.dispute.created' | 'charge.dispute.closed', overrides: DisputeOverrides) =>
    decodeStripeEvent(JSON.stringify(stripeEvent(type, dispute({ payment_intent: 'pi_x', ...overrides }))));

  it('when a part of a payment is refunded, then its credits are floor(credits × part / whole), within 0..credits', () => {
    expect(creditsShare(100, 500, 2000)).toBe(25);
    expect(creditsShare(100, 1999, 2000)).toBe(99);
    expect(creditsShare(3, 1, 2)).toBe(1);
    expect(creditsShare(100, 2000, 2000)).toBe(100);
    expect(creditsShare(100, 5000, 2000)).toBe(100);
    expect(creditsShare(100, 0, 2000)).toBe(0);
    expect(creditsShare(100, 500, 0)).toBe(0);
    expect(creditsShare(1_000_000, 99_999_999, 100_000_000)).toBe(999_999);
  });

  it('when refunds are cumulative, then the largest amount_refunded counts, whatever the order', () => {
    const claims = reversalClaims([refunded(1500), refunded(500), refunded(1000)], purchase);
    expect(claims.refund).toBe(75);
    expect(targetReversal(100, claims)).toBe(75);
  });

  it('when disputes and refunds add up to more than the purchase, then the target stops at its credits', () => {
    const claims = reversalClaims([refunded(1000), disputed('charge.dispute.created', { id: 'dp_1', amount: 2000 })], purchase);
    expect(targetReversal(100, claims)).toBe(100);
  });

  it('when a dispute is won (before or after it was opened), then it claims nothing; lost, it keeps its claim', () => {
    const won = reversalClaims([disputed('charge.dispute.closed', { id: 'dp_1', amount: 1000, status: 'won' }), disputed('charge.dispute.created', { id: 'dp_1', amount: 1000 })], purchase);
    expect(targetReversal(100, won)).toBe(0);
    const inquiry = reversalClaims([disputed('charge.dispute.created', { id: 'dp_2', amount: 1000 }), disputed('charge.dispute.closed', { id: 'dp_2', amount: 1000, status: 'warning_closed' })], purchase);
    expect(targetReversal(100, inquiry)).toBe(0);
    const lost = reversalClaims([disputed('charge.dispute.closed', { id: 'dp_3', amount: 1000, status: 'lost' })], purchase);
    expect(targetReversal(100, lost)).toBe(50);
  });

  it('when credits were spent, then a reversal takes what is available and the rest is its shortfall, still counted as reversed', () => {
    expect(reversalMove(100, { net: 0, outstanding: 0 }, 30n)).toEqual({ direction: 'take', due: 100, taken: 30, shortfall: 70 });
    expect(reversalMove(100, { net: 0, outstanding: 0 }, -5n)).toEqual({ direction: 'take', due: 100, taken: 0, shortfall: 100 });
    expect(reversalMove(100, { net: 25, outstanding: 0 }, 500n)).toEqual({ direction: 'take', due: 75, taken: 75, shortfall: 0 });
    expect(reversedSoFar([{ kind: 'refund', amount: -30, shortfall: 70 }])).toEqual({ net: 100, outstanding: 70 });
    expect(reversalMove(100, { net: 100, outstanding: 70 }, 0n)).toEqual({ direction: 'none' });
  });

  it('when a won dispute gives back, then what was never taken is cancelled first and only what was taken is credited again', () => {
    const rows = [{ kind: 'dispute' as const, amount: -20, shortfall: 80 }];
    expect(reversalMove(0, reversedSoFar(rows), 0n)).toEqual({ direction: 'give_back', cancelled: 100, restored: 20, notTaken: 80 });
    const after = reversedSoFar([...rows, { kind: 'dispute_won', amount: 20, shortfall: 80 }]);
    expect(after).toEqual({ net: 0, outstanding: 0 });
    // A refund keeps half reversed: 50 are cancelled, all of them from the 80 never taken.
    expect(reversalMove(50, reversedSoFar(rows), 0n)).toEqual({ direction: 'give_back', cancelled: 50, restored: 0, notTaken: 50 });
  });
});

let h: CreditsHarness;
let stripe: FakeStripe;
let edge: EdgeHarness;
const metrics = createCreditsMetrics({ pool: () => undefined });

beforeAll(async () => {
  stripe = await startFakeStripe();
  h = await startCreditsHarness({ stripeApiBase: stripe.url, onEventResult: metrics.onEventResult });
  edge = await startEdge(h.address);
});
afterAll(async () => {
  await edge?.close();
  await h?.close();
  await stripe?.close();
});

const auth = () => {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${TEST_TOKEN}`);
  return metadata;
};

function ok<T>(result: CallResult<T>): T {
  if (!result.ok) throw new Error(`call failed: ${result.error.code} ${result.errorCode} ${result.error.details}`);
  return result.response;
}

interface Purchase {
  email: string;
  userId: string;
  paymentIntent: string;
  sessionId: string;
  chargeId: string;
}

/** A Checkout purchase of `credits` paid with `amount` (cents), delivered by the edge, unless `deliver: false`. */
async function buy(credits = 100, options: { amount?: number; deliver?: boolean } = {}): Promise<Purchase & { event: Record<string, unknown> }> {
  const email = uniqueEmail('buyer');
  const session = checkoutSession({ email, amount_total: options.amount ?? 2000, metadata: { credits: String(credits) } });
  const event = stripeEvent('checkout.session.completed', session);
  const paymentIntent = session.payment_intent as string;
  let userId = '';
  if (options.deliver !== false) {
    expect(await deliver(edge.url, event)).toMatchObject({ status: 200, body: { outcome: 'applied', creditsGranted: credits } });
    userId = (await userOf(email))!.id;
  }
  return { email, userId, paymentIntent, sessionId: session.id as string, chargeId: stripeId('ch'), event };
}

async function userOf(email: string) {
  const { rows } = await h.sql.query<{ id: string; uuid: string; credits_balance: string }>('SELECT id, uuid, credits_balance FROM users WHERE email = $1', [email]);
  return rows[0];
}

const balance = async (email: string) => (await userOf(email))?.credits_balance;

/** A charge.refunded event for the purchase, the charge refunded so far `amountRefunded` of `amount`. */
function refundEvent(p: Purchase, amountRefunded: number, overrides: ChargeOverrides = {}, created?: number) {
  const event = stripeEvent('charge.refunded', charge({ id: p.chargeId, payment_intent: p.paymentIntent, amount: 2000, amount_refunded: amountRefunded, ...overrides }));
  return created === undefined ? event : { ...event, created };
}

function disputeEvent(type: 'charge.dispute.created' | 'charge.dispute.closed', p: Purchase, overrides: DisputeOverrides = {}, created?: number) {
  const event = stripeEvent(type, dispute({ charge: p.chargeId, payment_intent: p.paymentIntent, ...overrides }));
  return created === undefined ? event : { ...event, created };
}

async function ledgerOf(userId: string) {
  const { rows } = await h.sql.query(
    `SELECT kind, amount, shortfall, balance_after, stripe_charge_id, stripe_dispute_id, refunded_amount
     FROM credit_transactions WHERE user_id = $1 ORDER BY id`,
    [userId],
  );
  return rows.map((row) => ({
    kind: row.kind,
    amount: Number(row.amount),
    shortfall: Number(row.shortfall),
    balanceAfter: Number(row.balance_after),
    ...(row.stripe_charge_id && row.kind === 'refund' ? { charge: row.stripe_charge_id, refunded: Number(row.refunded_amount) } : {}),
    ...(row.stripe_dispute_id ? { dispute: row.stripe_dispute_id } : {}),
  }));
}

async function eventRow(eventId: string) {
  const { rows } = await h.sql.query('SELECT status, outcome, error_message, payment_intent, attempts FROM stripe_events WHERE event_id = $1', [eventId]);
  return rows[0];
}

const applied = (creditsReversed: number, extra: Record<string, unknown> = {}) => ({
  status: 200,
  body: { received: true, outcome: 'applied', creditsGranted: 0, creditsReversed, creditsRestored: 0, shortfall: 0, ...extra },
});

describe('refunds', () => {
  it('when a purchase is refunded in part and then in full, then 25 and then the other 75 credits are taken back, each a refund row', async () => {
    const p = await buy(100);
    const partial = await deliver(edge.url, refundEvent(p, 500));
    expect(partial).toEqual(applied(25));
    expect(webhookReceivedBody.safeParse(partial.body).success).toBe(true);
    expect(await balance(p.email)).toBe('75');
    expect(await deliver(edge.url, refundEvent(p, 2000, { refunded: true }))).toEqual(applied(75));
    expect(await balance(p.email)).toBe('0');
    expect(await ledgerOf(p.userId)).toEqual([
      { kind: 'purchase', amount: 100, shortfall: 0, balanceAfter: 100 },
      { kind: 'refund', amount: -25, shortfall: 0, balanceAfter: 75, charge: p.chargeId, refunded: 500 },
      { kind: 'refund', amount: -75, shortfall: 0, balanceAfter: 0, charge: p.chargeId, refunded: 2000 },
    ]);

    // ListTransactions shows them with the charge as reference.
    const listed = ok(await call<object, ListTransactionsResponse__Output>(h.client, h.client.ListTransactions, { identifier: p.email, page_size: 0, page_token: '' }, auth()));
    expect(listed.transactions.map((t) => [t.kind, t.amount, t.reference, t.shortfall])).toEqual([
      ['TRANSACTION_KIND_REFUND', '-75', p.chargeId, '0'],
      ['TRANSACTION_KIND_REFUND', '-25', p.chargeId, '0'],
      ['TRANSACTION_KIND_PURCHASE', '100', p.sessionId, '0'],
    ]);
  });

  it('when one refund event comes twice, or two events carry the same cumulative amount, then the credits are taken once', async () => {
    const p = await buy(100);
    const first = refundEvent(p, 1000);
    expect(await deliver(edge.url, first)).toEqual(applied(50));
    expect(await deliver(edge.url, first)).toMatchObject({ status: 200, body: { outcome: 'duplicate', reason: 'event_already_processed', creditsReversed: 0 } });
    expect(await deliver(edge.url, refundEvent(p, 1000))).toMatchObject({ status: 200, body: { outcome: 'duplicate', reason: 'refund_already_reversed', creditsReversed: 0 } });
    expect(await balance(p.email)).toBe('50');
    expect((await ledgerOf(p.userId)).filter((row) => row.kind === 'refund')).toHaveLength(1);
    expect(await eventRow(first.id as string)).toMatchObject({ status: 'completed', outcome: 'applied', attempts: 2, payment_intent: p.paymentIntent });
  });

  it('when partial refunds arrive in reverse order, then only the increase of each is applied and the total is right', async () => {
    const p = await buy(100);
    const answers: Answer[] = [];
    for (const refunded of [1500, 500, 1000]) answers.push(await deliver(edge.url, refundEvent(p, refunded)));
    expect(answers.map((a) => [a.body.outcome, a.body.creditsReversed, a.body.reason])).toEqual([
      ['applied', 75, undefined],
      ['duplicate', 0, 'refund_already_reversed'],
      ['duplicate', 0, 'refund_already_reversed'],
    ]);
    expect(await deliver(edge.url, refundEvent(p, 2000))).toEqual(applied(25));
    expect(await balance(p.email)).toBe('0');
    // Never below zero, never more than the purchase: one more full refund moves nothing.
    expect(await deliver(edge.url, refundEvent(p, 2000))).toMatchObject({ body: { outcome: 'duplicate', reason: 'purchase_fully_reversed' } });
  });

  it('when the refund arrives before the checkout event, then it waits as pending and is applied in the transaction that credits the purchase', async () => {
    const p = await buy(100, { deliver: false });
    const early = refundEvent(p, 500);
    expect(await deliver(edge.url, early)).toEqual({
      status: 200,
      body: { received: true, outcome: 'purchase_pending', creditsGranted: 0, creditsReversed: 0, creditsRestored: 0, shortfall: 0, reason: 'purchase_not_credited_yet' },
    });
    expect(await eventRow(early.id as string)).toMatchObject({ status: 'pending', outcome: 'purchase_pending', error_message: 'purchase_not_credited_yet' });
    expect(await userOf(p.email)).toBeUndefined();

    expect(await deliver(edge.url, p.event)).toMatchObject({ status: 200, body: { outcome: 'applied', creditsGranted: 100 } });
    const user = (await userOf(p.email))!;
    expect(user.credits_balance).toBe('75');
    expect(await ledgerOf(user.id)).toEqual([
      { kind: 'purchase', amount: 100, shortfall: 0, balanceAfter: 100 },
      { kind: 'refund', amount: -25, shortfall: 0, balanceAfter: 75, charge: p.chargeId, refunded: 500 },
    ]);
    expect(await eventRow(early.id as string)).toMatchObject({ status: 'completed', outcome: 'applied', error_message: null });
    // Redelivered now, it is done.
    expect(await deliver(edge.url, early)).toMatchObject({ body: { outcome: 'duplicate', reason: 'event_already_processed' } });
  });

  it('when several reversals wait, then they are applied with the purchase in the order Stripe created them', async () => {
    const p = await buy(100, { deliver: false });
    const disputeId = stripeId('dp');
    const created = Math.floor(Date.now() / 1000);
    // Delivered in the wrong order: the win first, then the refund, then the dispute it closes.
    await deliver(edge.url, disputeEvent('charge.dispute.closed', p, { id: disputeId, amount: 2000, status: 'won' }, created + 20));
    await deliver(edge.url, refundEvent(p, 1000, {}, created + 30));
    await deliver(edge.url, disputeEvent('charge.dispute.created', p, { id: disputeId, amount: 2000 }, created + 10));
    expect(await deliver(edge.url, p.event)).toMatchObject({ body: { outcome: 'applied', creditsGranted: 100 } });
    const user = (await userOf(p.email))!;
    // dispute (−100), won (+100), refund (−50): as if they had come in order after the purchase.
    expect(await ledgerOf(user.id)).toEqual([
      { kind: 'purchase', amount: 100, shortfall: 0, balanceAfter: 100 },
      { kind: 'dispute', amount: -100, shortfall: 0, balanceAfter: 0, dispute: disputeId },
      { kind: 'dispute_won', amount: 100, shortfall: 0, balanceAfter: 100, dispute: disputeId },
      { kind: 'refund', amount: -50, shortfall: 0, balanceAfter: 50, charge: p.chargeId, refunded: 1000 },
    ]);
  });

  it('when the credits were spent, then the refund takes what is left, the balance ends at 0 and the rest is recorded as shortfall', async () => {
    const p = await buy(100);
    ok(
      await call<object, SpendCreditsResponse__Output>(h.client, h.client.SpendCredits, { identifier: p.email, amount: '80', idempotency_key: stripeId('spend') }, auth()),
    );
    const logged = h.logs.lines.length;
    expect(await deliver(edge.url, refundEvent(p, 2000))).toEqual(applied(20, { shortfall: 80 }));
    expect(await balance(p.email)).toBe('0');
    expect((await ledgerOf(p.userId)).at(-1)).toEqual({ kind: 'refund', amount: -20, shortfall: 80, balanceAfter: 0, charge: p.chargeId, refunded: 2000 });
    // The operator learns who, by user id; the email never reaches a log line.
    const lines = h.logs.lines.slice(logged).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.find((line) => String(line.msg).startsWith('reversal shortfall'))).toMatchObject({ level: 40, userId: p.userId, shortfall: 80, kind: 'refund' });
    expect(h.logs.lines.slice(logged).join('\n')).not.toContain(p.email);
    // Another refund event cannot take the shortfall later: it is counted as reversed.
    expect(await deliver(edge.url, refundEvent(p, 2000))).toMatchObject({ body: { outcome: 'duplicate', reason: 'purchase_fully_reversed' } });
    expect(await metrics.registry.getSingleMetricAsString('credits_reversal_shortfall_total')).toMatch(/credits_reversal_shortfall_total\{kind="refund"\} ([8-9]\d|\d{3,})/);
  });

  it('when credits are held by a reservation, then the refund leaves them held, takes only the available ones, and the capture still succeeds', async () => {
    const p = await buy(100);
    const reserved = ok(
      await call<object, ReserveCreditsResponse__Output>(
        h.client,
        h.client.ReserveCredits,
        { identifier: p.email, amount: '70', idempotency_key: stripeId('job'), ttl_seconds: 600 },
        auth(),
      ),
    );
    expect(await deliver(edge.url, refundEvent(p, 2000))).toEqual(applied(30, { shortfall: 70 }));
    expect(await balance(p.email)).toBe('70');
    const captured = await call(h.client, h.client.CaptureReservation, { reservation_id: reserved.reservation!.id, amount: '0' }, auth());
    expect(captured.ok).toBe(true);
    expect(await balance(p.email)).toBe('0');
  });

  it('when a charge has no PaymentIntent, then it paid for no Checkout purchase: ignored', async () => {
    const event = stripeEvent('charge.refunded', charge({ amount_refunded: 2000 }));
    expect(await deliver(edge.url, event)).toMatchObject({ status: 200, body: { outcome: 'ignored', reason: 'charge_not_from_checkout' } });
    expect(await eventRow(event.id as string)).toMatchObject({ status: 'ignored' });
  });
});

describe('disputes', () => {
  it('when a dispute is opened and then won, then its credits are taken and given back once', async () => {
    const p = await buy(100);
    const disputeId = stripeId('dp');
    expect(await deliver(edge.url, disputeEvent('charge.dispute.created', p, { id: disputeId, amount: 1000 }))).toEqual(applied(50));
    expect(await balance(p.email)).toBe('50');
    const won = disputeEvent('charge.dispute.closed', p, { id: disputeId, amount: 1000, status: 'won' });
    expect(await deliver(edge.url, won)).toEqual({ status: 200, body: { received: true, outcome: 'applied', creditsGranted: 0, creditsReversed: 0, creditsRestored: 50, shortfall: 0 } });
    expect(await deliver(edge.url, { ...won, id: stripeId('evt') })).toMatchObject({ body: { outcome: 'duplicate', reason: 'dispute_already_won', creditsRestored: 0 } });
    expect(await deliver(edge.url, disputeEvent('charge.dispute.created', p, { id: disputeId, amount: 1000 }))).toMatchObject({
      body: { outcome: 'duplicate', reason: 'dispute_already_closed' },
    });
    expect(await balance(p.email)).toBe('100');
    expect((await ledgerOf(p.userId)).slice(1)).toEqual([
      { kind: 'dispute', amount: -50, shortfall: 0, balanceAfter: 50, dispute: disputeId },
      { kind: 'dispute_won', amount: 50, shortfall: 0, balanceAfter: 100, dispute: disputeId },
    ]);
  });

  it('when a dispute is opened and then lost, then its credits stay taken back', async () => {
    const p = await buy(100);
    const disputeId = stripeId('dp');
    expect(await deliver(edge.url, disputeEvent('charge.dispute.created', p, { id: disputeId }))).toEqual(applied(100));
    expect(await deliver(edge.url, disputeEvent('charge.dispute.closed', p, { id: disputeId, status: 'lost' }))).toMatchObject({
      status: 200,
      body: { outcome: 'ignored', reason: 'dispute_lost', creditsRestored: 0 },
    });
    expect(await balance(p.email)).toBe('0');
    expect((await ledgerOf(p.userId)).map((row) => row.kind)).toEqual(['purchase', 'dispute']);
  });

  it('when a purchase is refunded and disputed, then never more than it credited is taken, and a won dispute gives back only its own part', async () => {
    const p = await buy(100);
    const disputeId = stripeId('dp');
    expect(await deliver(edge.url, refundEvent(p, 1000))).toEqual(applied(50));
    // The dispute claims the whole charge: only the 50 not refunded are left to take.
    expect(await deliver(edge.url, disputeEvent('charge.dispute.created', p, { id: disputeId, amount: 2000 }))).toEqual(applied(50));
    expect(await deliver(edge.url, refundEvent(p, 2000))).toMatchObject({ body: { outcome: 'duplicate', reason: 'purchase_fully_reversed' } });
    expect(await balance(p.email)).toBe('0');
    // Won: what the full refund claims stays reversed, so nothing comes back.
    expect(await deliver(edge.url, disputeEvent('charge.dispute.closed', p, { id: disputeId, amount: 2000, status: 'won' }))).toMatchObject({
      body: { outcome: 'ignored', reason: 'nothing_to_give_back', creditsRestored: 0 },
    });
    expect(await balance(p.email)).toBe('0');

    // An inquiry closed after a quarter was refunded gives back the other three quarters.
    const q = await buy(100);
    const inquiry = stripeId('dp');
    expect(await deliver(edge.url, disputeEvent('charge.dispute.created', q, { id: inquiry, amount: 2000, status: 'warning_needs_response' }))).toEqual(applied(100));
    expect(await deliver(edge.url, refundEvent(q, 500))).toMatchObject({ body: { outcome: 'duplicate', reason: 'purchase_fully_reversed' } });
    expect(await deliver(edge.url, disputeEvent('charge.dispute.closed', q, { id: inquiry, amount: 2000, status: 'warning_closed' }))).toMatchObject({
      body: { outcome: 'applied', creditsRestored: 75 },
    });
    expect(await balance(q.email)).toBe('75');
  });

  it('when a dispute names only its charge, then the charge is looked up in Stripe to find the purchase', async () => {
    const p = await buy(100);
    stripe.setCharge(charge({ id: p.chargeId, payment_intent: p.paymentIntent }));
    const event = disputeEvent('charge.dispute.created', p, { payment_intent: null, amount: 2000 });
    expect(await deliver(edge.url, event)).toEqual(applied(100));
    expect(stripe.requests.filter((r) => r.path === `/v1/charges/${p.chargeId}`)).toHaveLength(1);
    expect(await eventRow(event.id as string)).toMatchObject({ status: 'completed', payment_intent: p.paymentIntent });
  });

  it('when the charge cannot be looked up, then the dispute is stored as failed with the reason, and replay applies it once it can', async () => {
    const p = await buy(100);
    const event = disputeEvent('charge.dispute.created', p, { payment_intent: null, amount: 2000 });
    // The fake Stripe does not know the charge yet.
    expect(await deliver(edge.url, event)).toMatchObject({ status: 200, body: { outcome: 'rejected', reason: 'charge_lookup_failed' } });
    expect(await eventRow(event.id as string)).toMatchObject({ status: 'failed', outcome: 'rejected', error_message: expect.stringContaining('charge_lookup_failed') });
    expect(await balance(p.email)).toBe('100');

    // Without STRIPE_SECRET_KEY the CLI cannot look it up either: still failed, exit 1.
    const blind = await cli(['replay', '--event', event.id as string], h.database.url);
    expect(blind.code).toBe(1);
    expect(blind.stdout).toContain('charge_lookup_unavailable');

    stripe.setCharge(charge({ id: p.chargeId, payment_intent: p.paymentIntent }));
    const env = { STRIPE_SECRET_KEY: FAKE_STRIPE_KEY, STRIPE_API_BASE: stripe.url };
    const replayed = await cli(['replay', '--event', event.id as string], h.database.url, env);
    expect(replayed.code).toBe(0);
    expect(replayed.stdout).toMatch(/applied\s+-100/);
    expect(await balance(p.email)).toBe('0');
    expect(await eventRow(event.id as string)).toMatchObject({ status: 'completed', outcome: 'applied' });
    // Replaying again is a no-op.
    expect((await cli(['replay', '--event', event.id as string], h.database.url, env)).stdout).toContain('event_already_processed');
    expect(await balance(p.email)).toBe('0');
  });
});

describe('concurrency', () => {
  it('when 20 deliveries of one refund race, then one applies it and 19 are duplicates', async () => {
    const p = await buy(100);
    const event = refundEvent(p, 2000);
    const answers = await Promise.all(Array.from({ length: 20 }, () => deliver(edge.url, event)));
    expect(answers.filter((a) => a.body.outcome === 'applied')).toHaveLength(1);
    expect(answers.filter((a) => a.body.outcome === 'duplicate')).toHaveLength(19);
    expect(await balance(p.email)).toBe('0');
    expect((await ledgerOf(p.userId)).filter((row) => row.kind === 'refund')).toEqual([
      { kind: 'refund', amount: -100, shortfall: 0, balanceAfter: 0, charge: p.chargeId, refunded: 2000 },
    ]);
  });

  it('when refunds with different event ids race each other and their purchase, then every purchase ends reversed exactly once', async () => {
    const purchases = await Promise.all(Array.from({ length: 8 }, () => buy(100, { deliver: false })));
    await Promise.all(
      purchases.flatMap((p) => [
        deliver(edge.url, p.event),
        deliver(edge.url, refundEvent(p, 500)),
        deliver(edge.url, refundEvent(p, 500)),
        deliver(edge.url, refundEvent(p, 1000)),
      ]),
    );
    for (const p of purchases) expect(await balance(p.email)).toBe('50');
    const { rows } = await h.sql.query(
      `SELECT count(*)::int AS n FROM stripe_events WHERE status = 'pending' AND payment_intent = ANY ($1)`,
      [purchases.map((p) => p.paymentIntent)],
    );
    expect(rows[0].n).toBe(0);
  });
});

describe('ApplyStripeEvent over gRPC', () => {
  const applyStripeEvent = (event_json: string, stripe_signature = 't=1,v1=forwarded') =>
    call<object, ApplyStripeEventResponse__Output>(h.client, h.client.ApplyStripeEvent, { event_json, stripe_signature, line_items: [] }, auth());

  it('when a refund is applied, then the answer names the user, the credits reversed and the balance after', async () => {
    const p = await buy(100);
    const answer = ok(await applyStripeEvent(JSON.stringify(refundEvent(p, 1000))));
    expect(answer).toMatchObject({
      outcome: 'APPLY_STRIPE_EVENT_OUTCOME_APPLIED',
      user: { email: p.email, legacy_id: p.userId },
      credits_granted: '0',
      credits_reversed: '50',
      credits_restored: '0',
      shortfall: '0',
      balance_after: '50',
      reason: '',
    });
  });

  it('when a checkout event comes through it, then it credits as ApplyCheckout does', async () => {
    const p = await buy(100, { deliver: false });
    expect(ok(await applyStripeEvent(JSON.stringify(p.event)))).toMatchObject({ outcome: 'APPLY_STRIPE_EVENT_OUTCOME_APPLIED', credits_granted: '100', balance_after: '100' });
  });

  it('when event_json is not a storable event, then INVALID_ARGUMENT REQUEST_INVALID and nothing is stored', async () => {
    const result = await applyStripeEvent('{"id":"evt_x","type":"charge.refunded","data":{"object":{"object":"customer"}}}');
    expect(result.ok ? 'OK' : [result.error.code, result.errorCode, result.error.details]).toEqual([3, 'REQUEST_INVALID', 'charge: data.object of charge.refunded must be a charge']);
    expect(await eventRow('evt_x')).toBeUndefined();
  });

  it('when a refund comes through ApplyCheckout (an edge older than ApplyStripeEvent), then it is applied all the same', async () => {
    const p = await buy(100, { deliver: false });
    const early = refundEvent(p, 2000);
    const answer = ok(await call(h.client, h.client.ApplyCheckout, applyCheckoutRequestFor(early), auth()));
    expect(answer).toMatchObject({ outcome: 'APPLY_CHECKOUT_OUTCOME_PAYMENT_PENDING', reason: 'purchase_not_credited_yet' });
    expect(await deliver(edge.url, p.event)).toMatchObject({ body: { outcome: 'applied' } });
    expect(await balance(p.email)).toBe('0');
  });
});

describe('the books after all of it', () => {
  it('when everything above has run, then verify finds no problem, balances equal their ledgers, and stats count the shortfall', async () => {
    const report = await verifyDatabase(h.orm);
    expect(report.checks.filter((check) => check.status !== 'ok').map((check) => [check.id, check.problems])).toEqual([]);
    expect(await checkLedger(h.sql)).toMatchObject({ mismatched: 0, negative: 0 });
    const stats = await collectStats(h.orm.em.fork(), { since: new Date(Date.now() - 3_600_000) });
    expect(Number(stats.reversals.shortfall)).toBeGreaterThanOrEqual(150);
    expect(stats.reversals.shortfallRows).toBeGreaterThanOrEqual(2);
    expect(Number(stats.reversals.reversed.refund)).toBeGreaterThan(0);
    expect(Number(stats.reversals.restored)).toBeGreaterThan(0);
  });

  it('when a refund row reverses more than its purchase credited, then verify reports it', async () => {
    const p = await buy(100);
    const forged = stripeId('evt');
    const { rows } = await h.sql.query(`SELECT id FROM credit_transactions WHERE kind = 'purchase' AND payment_intent = $1`, [p.paymentIntent]);
    const purchaseId = rows[0].id;
    // Balance and ledger move together, so only the reversal checks can tell: 100 taken and 50 "owed" of a 100-credit purchase.
    await h.sql.query(`UPDATE users SET credits_balance = credits_balance - 100 WHERE id = $1`, [p.userId]);
    await h.sql.query(
      `INSERT INTO credit_transactions (user_id, amount, kind, purchase_id, stripe_event_id, stripe_charge_id, refunded_amount, shortfall, balance_after)
       VALUES ($1, -100, 'refund', $2, $3, $4, 2000, 50, 0)`,
      [p.userId, purchaseId, forged, p.chargeId],
    );
    const report = await verifyDatabase(h.orm);
    expect(report.ok).toBe(false);
    const failing = Object.fromEntries(report.checks.filter((check) => check.status === 'problem').map((check) => [check.id, check.problems]));
    expect(failing).toEqual({
      'invariant.reversal_within_purchase': [`purchase row ${purchaseId} (user ${p.userId}) credited 100, its refunds and disputes reverse 150`],
      'invariant.reversal_has_event': [expect.stringContaining(`event ${forged} is not its applied Stripe event`)],
    });
  });
});
