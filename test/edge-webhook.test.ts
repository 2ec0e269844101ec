import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkLedger, startCreditsHarness, type CreditsHarness } from './support/credits-harness';
import { deliver, ROTATED_SECRET, sign, post, startEdge, WEBHOOK_SECRET, type EdgeHarness } from './support/edge-harness';
import { checkoutSession, stripeEvent, stripeId, type SessionOverrides } from './support/stripe-events';

let h: CreditsHarness;
let edge: EdgeHarness;

beforeAll(async () => {
  h = await startCreditsHarness();
  // Mid-rotation: Stripe signs with both the current and the next secret.
  edge = await startEdge(h.address, { STRIPE_WEBHOOK_SECRET: `${WEBHOOK_SECRET}, ${ROTATED_SECRET}` });
});
afterAll(async () => {
  await edge?.close();
  await h?.close();
});

const purchase = (overrides: SessionOverrides = {}) =>
  checkoutSession({ email: `buyer-${stripeId('u')}@example.com`, metadata: { credits: '100' }, ...overrides });

async function createUser(email: string) {
  const { rows } = await h.sql.query<{ id: string; uuid: string }>('INSERT INTO users (email) VALUES ($1) RETURNING id, uuid', [email]);
  return rows[0]!;
}

async function balanceOf(email: string): Promise<string | undefined> {
  const { rows } = await h.sql.query('SELECT credits_balance FROM users WHERE lower(email) = lower($1)', [email]);
  return rows[0]?.credits_balance;
}

async function eventRow(eventId: string) {
  const { rows } = await h.sql.query('SELECT event_type, status, outcome, attempts, payload FROM stripe_events WHERE event_id = $1', [eventId]);
  return rows[0];
}

async function ledgerCount(sessionId: string): Promise<number> {
  const { rows } = await h.sql.query('SELECT count(*)::int AS n FROM credit_transactions WHERE checkout_session_id = $1', [sessionId]);
  return rows[0].n;
}

describe('POST /webhooks/stripe with a signed checkout event', () => {
  it('when a paid session names a new email, then 200 applied, the user is created and credited once', async () => {
    const session = purchase();
    const event = stripeEvent('checkout.session.completed', session);
    const answer = await deliver(edge.url, event);
    expect(answer).toEqual({ status: 200, body: { received: true, outcome: 'applied', creditsGranted: 100 } });
    expect(await balanceOf((session.customer_details as { email: string }).email)).toBe('100');
    const row = await eventRow(event.id as string);
    expect(row).toMatchObject({ event_type: 'checkout.session.completed', status: 'completed', outcome: 'applied', attempts: 1 });
    expect(row.payload).toEqual(event);
    expect(await ledgerCount(session.id as string)).toBe(1);
  });

  it('when client_reference_id names an existing user, then that user is credited, not the Checkout email', async () => {
    const user = await createUser(`account-${stripeId('u')}@example.com`);
    const session = purchase({ client_reference_id: user.uuid });
    expect((await deliver(edge.url, stripeEvent('checkout.session.completed', session))).body.outcome).toBe('applied');
    const { rows } = await h.sql.query('SELECT credits_balance FROM users WHERE id = $1', [user.id]);
    expect(rows[0].credits_balance).toBe('100');
    expect(await balanceOf((session.customer_details as { email: string }).email)).toBeUndefined();
  });

  it('when metadata.user_id names an existing user, then that user is credited', async () => {
    const user = await createUser(`by-id-${stripeId('u')}@example.com`);
    const session = purchase({ metadata: { credits: '250', user_id: user.id } });
    const answer = await deliver(edge.url, stripeEvent('checkout.session.completed', session));
    expect(answer).toMatchObject({ status: 200, body: { outcome: 'applied', creditsGranted: 250 } });
    const { rows } = await h.sql.query('SELECT credits_balance FROM users WHERE id = $1', [user.id]);
    expect(rows[0].credits_balance).toBe('250');
  });

  it('when Stripe redelivers the same event, then 200 duplicate and the balance stays', async () => {
    const session = purchase();
    const email = (session.customer_details as { email: string }).email;
    const delivery = sign(JSON.stringify(stripeEvent('checkout.session.completed', session)));
    expect((await post(edge.url, '/webhooks/stripe', delivery.payload, delivery.signature)).body.outcome).toBe('applied');
    const again = await post(edge.url, '/webhooks/stripe', delivery.payload, delivery.signature);
    expect(again).toEqual({ status: 200, body: { received: true, outcome: 'duplicate', creditsGranted: 0, reason: 'event_already_processed' } });
    expect(await balanceOf(email)).toBe('100');
    expect(await eventRow(JSON.parse(delivery.payload).id)).toMatchObject({ status: 'completed', attempts: 2 });
    expect(await ledgerCount(session.id as string)).toBe(1);
  });

  it('when completed and then async_payment_succeeded arrive for one session, then it is credited once', async () => {
    const session = purchase();
    expect((await deliver(edge.url, stripeEvent('checkout.session.completed', session))).body.outcome).toBe('applied');
    const second = await deliver(edge.url, stripeEvent('checkout.session.async_payment_succeeded', session));
    expect(second).toMatchObject({ status: 200, body: { outcome: 'duplicate', reason: 'checkout_session_already_credited' } });
    expect(await balanceOf((session.customer_details as { email: string }).email)).toBe('100');
    expect(await ledgerCount(session.id as string)).toBe(1);
  });

  it('when the session is unpaid, then 200 payment_pending, and the async success credits it', async () => {
    const unpaid = purchase({ payment_status: 'unpaid' });
    const email = (unpaid.customer_details as { email: string }).email;
    const pendingEvent = stripeEvent('checkout.session.completed', unpaid);
    expect(await deliver(edge.url, pendingEvent)).toEqual({
      status: 200,
      body: { received: true, outcome: 'payment_pending', creditsGranted: 0, reason: 'awaiting_async_payment' },
    });
    expect(await eventRow(pendingEvent.id as string)).toMatchObject({ status: 'pending' });
    expect(await balanceOf(email)).toBeUndefined();

    const paid = await deliver(edge.url, stripeEvent('checkout.session.async_payment_succeeded', { ...unpaid, payment_status: 'paid' }));
    expect(paid).toMatchObject({ status: 200, body: { outcome: 'applied', creditsGranted: 100 } });
    expect(await balanceOf(email)).toBe('100');
  });

  it('when the delayed payment fails, then 200 payment_failed and nothing is credited', async () => {
    const session = purchase({ payment_status: 'unpaid' });
    const event = stripeEvent('checkout.session.async_payment_failed', session);
    expect(await deliver(edge.url, event)).toMatchObject({ status: 200, body: { outcome: 'payment_failed', creditsGranted: 0 } });
    expect(await eventRow(event.id as string)).toMatchObject({ status: 'completed', outcome: 'payment_failed' });
    expect(await ledgerCount(session.id as string)).toBe(0);
    expect(await balanceOf((session.customer_details as { email: string }).email)).toBeUndefined();
  });

  it('when the purchase cannot be credited as sent, then 200 rejected and it is stored as failed for replay', async () => {
    const event = stripeEvent('checkout.session.completed', purchase({ metadata: {} }));
    expect(await deliver(edge.url, event)).toMatchObject({ status: 200, body: { outcome: 'rejected', reason: 'credits_unknown' } });
    expect(await eventRow(event.id as string)).toMatchObject({ status: 'failed', outcome: 'rejected' });
  });

  it('when the event is of a type nobody handles, then 200 ignored and it is stored as ignored', async () => {
    const event = stripeEvent('charge.succeeded', { object: 'charge', id: stripeId('ch'), amount: 2000 });
    expect(await deliver(edge.url, event)).toEqual({
      status: 200,
      body: { received: true, outcome: 'ignored', creditsGranted: 0, reason: 'event_type_not_handled' },
    });
    expect(await eventRow(event.id as string)).toMatchObject({ event_type: 'charge.succeeded', status: 'ignored' });
  });

  it('when the event id is malformed, then CreditsService says INVALID_ARGUMENT and the edge answers 400', async () => {
    const event = stripeEvent('checkout.session.completed', purchase(), 'evt with spaces');
    const answer = await deliver(edge.url, event);
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code: 'REQUEST_INVALID', message: expect.stringContaining('event_id') });
    expect(await eventRow('evt with spaces')).toBeUndefined();
  });
});

describe('secrets and routes', () => {
  it('when the event is signed with the second secret of a rotation, then it is accepted', async () => {
    const session = purchase();
    const answer = await deliver(edge.url, stripeEvent('checkout.session.completed', session), { secret: ROTATED_SECRET });
    expect(answer).toMatchObject({ status: 200, body: { outcome: 'applied' } });
    expect(await ledgerCount(session.id as string)).toBe(1);
  });

  it.each(['/webhooks/stripe/hotfix', '/api/stripe/webhook/hotfix'])('when Stripe posts to the alias %s, then it is handled like the endpoint', async (path) => {
    const session = purchase();
    const answer = await deliver(edge.url, stripeEvent('checkout.session.completed', session), { path });
    expect(answer).toMatchObject({ status: 200, body: { outcome: 'applied' } });
    expect(await balanceOf((session.customer_details as { email: string }).email)).toBe('100');
  });
});

describe('logs', () => {
  it('carry the event id on the edge and in CreditsService, and never an email, a signature or a secret', async () => {
    const email = `private-${stripeId('u')}@example.com`;
    const event = stripeEvent('checkout.session.completed', purchase({ email, customer_email: email }));
    const delivery = sign(JSON.stringify(event));
    expect((await post(edge.url, '/webhooks/stripe', delivery.payload, delivery.signature)).status).toBe(200);

    const edgeLines = edge.logs.lines.map((line) => JSON.parse(line)).filter((line) => line.stripeEventId === event.id);
    expect(edgeLines).toContainEqual(
      expect.objectContaining({ msg: 'stripe webhook', eventType: 'checkout.session.completed', outcome: 'applied', status: 200, durationMs: expect.any(Number) }),
    );
    // The id travelled as gRPC metadata into the service's own log lines.
    expect(h.logs.lines.some((line) => line.includes(`"stripeEventId":"${event.id as string}"`))).toBe(true);

    const everything = `${edge.logs.text()}\n${h.logs.text()}`;
    expect(everything).not.toMatch(/@example\.com/i);
    const v1 = /v1=([0-9a-f]{64})/.exec(delivery.signature)![1]!;
    expect(everything).not.toContain(v1);
    expect(everything).not.toContain(WEBHOOK_SECRET);
    expect(everything).not.toContain(ROTATED_SECRET);
  });

  it('after every scenario, each balance equals the sum of its ledger rows and no event is left processing', async () => {
    expect(await checkLedger(h.sql)).toMatchObject({ mismatched: 0, negative: 0 });
    const { rows } = await h.sql.query("SELECT count(*)::int AS n FROM stripe_events WHERE status = 'processing'");
    expect(rows[0].n).toBe(0);
  });
});
