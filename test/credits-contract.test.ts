import { Metadata, status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCreditsClient } from '../src/grpc/client';
import type { ApplyCheckoutRequest } from '../src/contract/generated/credits/v1/ApplyCheckoutRequest';
import type { ApplyCheckoutResponse__Output } from '../src/contract/generated/credits/v1/ApplyCheckoutResponse';
import type { LineItem } from '../src/contract/generated/credits/v1/LineItem';
import { call, checkLedger, startCreditsHarness, TEST_TOKEN, type CreditsHarness } from './support/credits-harness';
import { applyCheckoutRequestFor, checkoutSession, stripeEvent, stripeId, type SessionOverrides, type StripeEventType } from './support/stripe-events';

let h: CreditsHarness;
const auth = () => {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${TEST_TOKEN}`);
  return metadata;
};

beforeAll(async () => {
  h = await startCreditsHarness({ priceCredits: { price_pack_100: 100, price_pack_500: 500 }, maxPerPurchase: 10_000 });
});
afterAll(() => h?.close());

function request(type: StripeEventType, session: Record<string, unknown>, lineItems: LineItem[] = [], id?: string): ApplyCheckoutRequest {
  const event = stripeEvent(type, session, id);
  return { ...applyCheckoutRequestFor(event), line_items: lineItems };
}

async function apply(req: ApplyCheckoutRequest): Promise<ApplyCheckoutResponse__Output> {
  const result = await call(h.client, h.client.ApplyCheckout, req, auth());
  if (!result.ok) throw new Error(`ApplyCheckout failed: ${result.error.code} ${result.error.details}`);
  return result.response as ApplyCheckoutResponse__Output;
}

const purchase = (overrides: SessionOverrides = {}) => checkoutSession({ metadata: { credits: '100' }, ...overrides });

async function createUser(email: string) {
  const { rows } = await h.sql.query<{ id: string; uuid: string }>('INSERT INTO users (email) VALUES ($1) RETURNING id, uuid', [email]);
  return rows[0]!;
}

async function eventRow(eventId: string) {
  const { rows } = await h.sql.query('SELECT status, outcome, error_message, attempts, user_id FROM stripe_events WHERE event_id = $1', [eventId]);
  return rows[0];
}

async function ledgerCount(sessionId: string): Promise<number> {
  const { rows } = await h.sql.query('SELECT count(*)::int AS n FROM credit_transactions WHERE checkout_session_id = $1', [sessionId]);
  return rows[0].n;
}

describe('ResolveUser and GetBalance', () => {
  let user: { id: string; uuid: string };
  beforeAll(async () => {
    user = await createUser('Resolve.Me@Example.com');
  });

  it.each([
    ['its UUID', () => user.uuid, 'MATCH_KIND_UUID'],
    ['its UUID in upper case with spaces', () => `  ${user.uuid.toUpperCase()} `, 'MATCH_KIND_UUID'],
    ['its integer id', () => user.id, 'MATCH_KIND_LEGACY_ID'],
    ['its email in another case', () => ' resolve.me@EXAMPLE.com ', 'MATCH_KIND_EMAIL'],
  ])('when identified by %s, then the user is found', async (_name, identifier, kind) => {
    const result = await call(h.client, h.client.ResolveUser, { identifier: identifier() }, auth());
    expect(result.ok && result.response).toMatchObject({
      user: { id: user.uuid, legacy_id: user.id, email: 'Resolve.Me@Example.com', credits_balance: '0' },
      matched_by: kind,
    });
    const balance = await call(h.client, h.client.GetBalance, { identifier: identifier() }, auth());
    expect(balance.ok && balance.response).toEqual({ user_id: user.uuid, balance: '0', held: '0', available: '0' });
  });

  it.each(['', '   ', 'null', 'None', 'undefined', 'nil', '<user_id>', '{{customer.email}}', '{{ CHECKOUT_SESSION_ID }}'])(
    'when the identifier is the placeholder %j, then INVALID_ARGUMENT IDENTIFIER_PLACEHOLDER',
    async (identifier) => {
      for (const method of [h.client.ResolveUser, h.client.GetBalance]) {
        const result = await call(h.client, method, { identifier }, auth());
        expect(result.ok).toBe(false);
        if (!result.ok) {
          expect(result.error.code).toBe(status.INVALID_ARGUMENT);
          expect(result.errorCode).toBe('IDENTIFIER_PLACEHOLDER');
        }
      }
    },
  );

  it.each(['abc', 'a@b', 'two@@example.com', 'has space@example.com', '0', '-1', '1.5', '9223372036854775808', `${'a'.repeat(250)}@example.com`, '1e3'])(
    'when the identifier is malformed (%s), then INVALID_ARGUMENT IDENTIFIER_INVALID',
    async (identifier) => {
      const result = await call(h.client, h.client.GetBalance, { identifier }, auth());
      expect(!result.ok && [result.error.code, result.errorCode]).toEqual([status.INVALID_ARGUMENT, 'IDENTIFIER_INVALID']);
    },
  );

  it.each(['nobody@example.com', '00000000-0000-4000-8000-000000000000', '9223372036854775807'])(
    'when a well-formed identifier (%s) names nobody, then NOT_FOUND USER_NOT_FOUND',
    async (identifier) => {
      const result = await call(h.client, h.client.ResolveUser, { identifier }, auth());
      expect(!result.ok && [result.error.code, result.errorCode]).toEqual([status.NOT_FOUND, 'USER_NOT_FOUND']);
    },
  );
});

describe('authentication', () => {
  it.each([
    ['no token', () => new Metadata(), 'AUTH_TOKEN_MISSING'],
    ['a wrong token', () => { const m = new Metadata(); m.set('authorization', 'Bearer wrong'); return m; }, 'AUTH_TOKEN_INVALID'],
    ['a non-bearer scheme', () => { const m = new Metadata(); m.set('authorization', `Basic ${TEST_TOKEN}`); return m; }, 'AUTH_TOKEN_INVALID'],
  ])('when a call carries %s, then UNAUTHENTICATED and nothing is written', async (_name, metadata, code) => {
    const anonymous = createCreditsClient(h.address);
    const { rows: before } = await h.sql.query('SELECT count(*)::int AS n FROM stripe_events');
    const req = request('checkout.session.completed', purchase());
    const result = await call(anonymous, anonymous.ApplyCheckout, req, metadata());
    expect(!result.ok && [result.error.code, result.errorCode]).toEqual([status.UNAUTHENTICATED, code]);
    const balance = await call(anonymous, anonymous.GetBalance, { identifier: 'buyer@example.com' }, metadata());
    expect(!balance.ok && balance.error.code).toBe(status.UNAUTHENTICATED);
    const { rows: after } = await h.sql.query('SELECT count(*)::int AS n FROM stripe_events');
    expect(after[0].n).toBe(before[0].n);
    anonymous.close();
  });
});

describe('ApplyCheckout', () => {
  it('when a paid session names a new email, then the user is created and credited once', async () => {
    const email = `new-${stripeId('u')}@example.com`;
    const req = request('checkout.session.completed', purchase({ email, metadata: { credits: '250' } }));
    const response = await apply(req);
    expect(response).toMatchObject({ outcome: 'APPLY_CHECKOUT_OUTCOME_APPLIED', credits_granted: '250', balance_after: '250' });
    expect(response.user?.email).toBe(email);
    expect(await eventRow(req.event_id!)).toMatchObject({ status: 'completed', outcome: 'applied', attempts: 1 });
    expect(await ledgerCount(req.session!.id!)).toBe(1);
  });

  it('when the same event is delivered again, then it is a duplicate and the balance stays', async () => {
    const email = `again-${stripeId('u')}@example.com`;
    const req = request('checkout.session.completed', purchase({ email }));
    await apply(req);
    const second = await apply(req);
    expect(second).toMatchObject({ outcome: 'APPLY_CHECKOUT_OUTCOME_DUPLICATE', credits_granted: '0', balance_after: '100', reason: 'event_already_processed' });
    expect(await eventRow(req.event_id!)).toMatchObject({ status: 'completed', attempts: 2 });
    expect(await ledgerCount(req.session!.id!)).toBe(1);
  });

  it('when completed and async_payment_succeeded of one session both arrive, then it is credited once', async () => {
    const session = purchase({ email: `both-${stripeId('u')}@example.com` });
    const first = await apply(request('checkout.session.completed', session));
    const second = await apply(request('checkout.session.async_payment_succeeded', session));
    expect(first.outcome).toBe('APPLY_CHECKOUT_OUTCOME_APPLIED');
    expect(second).toMatchObject({ outcome: 'APPLY_CHECKOUT_OUTCOME_DUPLICATE', reason: 'checkout_session_already_credited', balance_after: '100' });
    expect(await ledgerCount(session.id as string)).toBe(1);
  });

  it('when the payment is pending, then nothing is credited until async_payment_succeeded', async () => {
    const email = `pending-${stripeId('u')}@example.com`;
    const unpaid = purchase({ email, payment_status: 'unpaid' });
    const pendingReq = request('checkout.session.completed', unpaid);
    const pending = await apply(pendingReq);
    expect(pending).toMatchObject({ outcome: 'APPLY_CHECKOUT_OUTCOME_PAYMENT_PENDING', credits_granted: '0', user: null });
    expect(await eventRow(pendingReq.event_id!)).toMatchObject({ status: 'pending', outcome: 'payment_pending' });
    expect(await ledgerCount(unpaid.id as string)).toBe(0);

    const paid = await apply(request('checkout.session.async_payment_succeeded', { ...unpaid, payment_status: 'paid' }));
    expect(paid).toMatchObject({ outcome: 'APPLY_CHECKOUT_OUTCOME_APPLIED', credits_granted: '100', balance_after: '100' });
    expect(await ledgerCount(unpaid.id as string)).toBe(1);
  });

  it('when the delayed payment fails, then it is recorded and nothing is credited', async () => {
    const session = purchase({ email: `failed-${stripeId('u')}@example.com`, payment_status: 'unpaid' });
    const req = request('checkout.session.async_payment_failed', session);
    expect(await apply(req)).toMatchObject({ outcome: 'APPLY_CHECKOUT_OUTCOME_PAYMENT_FAILED', credits_granted: '0' });
    expect(await eventRow(req.event_id!)).toMatchObject({ status: 'completed', outcome: 'payment_failed' });
    expect(await ledgerCount(session.id as string)).toBe(0);
  });

  it('when the event is of another type, then it is stored as ignored', async () => {
    const event = stripeEvent('charge.succeeded', { object: 'charge', id: stripeId('ch') });
    const req = applyCheckoutRequestFor(event);
    expect(await apply(req)).toMatchObject({ outcome: 'APPLY_CHECKOUT_OUTCOME_IGNORED', reason: 'event_type_not_handled' });
    expect(await eventRow(req.event_id!)).toMatchObject({ status: 'ignored' });
  });

  it('when the session is a subscription, then it is ignored with a reason', async () => {
    const req = request('checkout.session.completed', purchase({ mode: 'subscription' }));
    expect(await apply(req)).toMatchObject({ outcome: 'APPLY_CHECKOUT_OUTCOME_IGNORED', reason: 'mode_subscription' });
  });

  it('when line items are priced, then credits are their sum', async () => {
    const session = purchase({ email: `items-${stripeId('u')}@example.com`, metadata: { credits: '7' } });
    const req = request('checkout.session.completed', session, [
      { price_id: 'price_pack_100', quantity: '3' },
      { price_id: 'price_pack_500', quantity: '1' },
    ]);
    expect(await apply(req)).toMatchObject({ outcome: 'APPLY_CHECKOUT_OUTCOME_APPLIED', credits_granted: '800' });
  });

  it.each([
    ['no identifier at all', { email: null, customer_email: null, client_reference_id: null }, 'user_unresolved'],
    ['only placeholders', { email: null, client_reference_id: '{{CLIENT_REFERENCE_ID}}', metadata: { credits: '5', user_id: 'null' } }, 'user_unresolved'],
    ['no credits anywhere', { metadata: {} }, 'credits_unknown'],
    ['credits that are not an integer', { metadata: { credits: '12.5' } }, 'credits_invalid'],
    ['negative credits', { metadata: { credits: '-5' } }, 'credits_invalid'],
    ['zero credits', { metadata: { credits: '0' } }, 'credits_invalid'],
    ['credits above the maximum', { metadata: { credits: '10001' } }, 'credits_invalid'],
  ] as [string, SessionOverrides, string][])('when the session has %s, then it is rejected, stored as failed, and nobody is created', async (_name, overrides, reason) => {
    const email = `rejected-${stripeId('u')}@example.com`;
    const req = request('checkout.session.completed', purchase({ email, ...overrides }));
    const response = await apply(req);
    expect(response).toMatchObject({ outcome: 'APPLY_CHECKOUT_OUTCOME_REJECTED', reason, credits_granted: '0' });
    expect(await eventRow(req.event_id!)).toMatchObject({ status: 'failed', outcome: 'rejected' });
    expect((await eventRow(req.event_id!)).error_message).toContain(reason);
    const { rows } = await h.sql.query('SELECT count(*)::int AS n FROM users WHERE lower(email) = lower($1)', [email]);
    expect(rows[0].n).toBe(0);
  });

  it('when a rejected event is delivered again after the cause is fixed, then it is applied', async () => {
    const session = purchase({ email: null, client_reference_id: 'fixed-later@example.com' });
    const req = request('checkout.session.completed', session);
    expect((await apply(req)).outcome).toBe('APPLY_CHECKOUT_OUTCOME_REJECTED');
    await createUser('fixed-later@example.com');
    expect(await apply(req)).toMatchObject({ outcome: 'APPLY_CHECKOUT_OUTCOME_APPLIED', balance_after: '100' });
    expect(await eventRow(req.event_id!)).toMatchObject({ status: 'completed', attempts: 2, error_message: null });
  });

  it('when metadata.user_id, client_reference_id and email all name users, then metadata.user_id wins', async () => {
    const byId = await createUser(`by-id-${stripeId('u')}@example.com`);
    const byRef = await createUser(`by-ref-${stripeId('u')}@example.com`);
    const response = await apply(
      request('checkout.session.completed', purchase({ metadata: { credits: '100', user_id: byId.id }, client_reference_id: byRef.uuid })),
    );
    expect(response.user?.id).toBe(byId.uuid);
  });

  it('when metadata.user_id is a placeholder, then client_reference_id decides', async () => {
    const byRef = await createUser(`ref-${stripeId('u')}@example.com`);
    const response = await apply(
      request('checkout.session.completed', purchase({ metadata: { credits: '100', user_id: '<user_id>' }, client_reference_id: byRef.id })),
    );
    expect(response.user?.id).toBe(byRef.uuid);
  });

  it('when a customer bought before, then a later session with only the customer id credits the same user', async () => {
    const customer = stripeId('cus');
    const email = `customer-${stripeId('u')}@example.com`;
    const first = await apply(request('checkout.session.completed', purchase({ email, customer })));
    const second = await apply(request('checkout.session.completed', purchase({ email: null, customer })));
    expect(second.user?.id).toBe(first.user?.id);
    expect(second.balance_after).toBe('200');
  });

  it.each([
    ['no event id', (r: ApplyCheckoutRequest) => ({ ...r, event_id: '' })],
    ['an event id with spaces', (r: ApplyCheckoutRequest) => ({ ...r, event_id: 'evt 1' })],
    ['a checkout type without a session', (r: ApplyCheckoutRequest) => ({ ...r, session: null })],
    ['event JSON that is not JSON', (r: ApplyCheckoutRequest) => ({ ...r, event_json: '{"id":' })],
    ['event JSON of another event', (r: ApplyCheckoutRequest) => ({ ...r, event_json: JSON.stringify({ id: 'evt_other' }) })],
    ['a zero quantity', (r: ApplyCheckoutRequest) => ({ ...r, line_items: [{ price_id: 'price_pack_100', quantity: '0' }] })],
  ])('when the request has %s, then INVALID_ARGUMENT REQUEST_INVALID and nothing is stored', async (_name, mutate) => {
    const req = mutate(request('checkout.session.completed', purchase()));
    const result = await call(h.client, h.client.ApplyCheckout, req, auth());
    expect(!result.ok && [result.error.code, result.errorCode]).toEqual([status.INVALID_ARGUMENT, 'REQUEST_INVALID']);
    if (req.event_id) expect(await eventRow(req.event_id)).toBeUndefined();
  });

  it('when 20 deliveries of one event race, then exactly one applies', async () => {
    const req = request('checkout.session.completed', purchase({ email: `race-${stripeId('u')}@example.com` }));
    const responses = await Promise.all(Array.from({ length: 20 }, () => apply(req)));
    const outcomes = responses.map((r) => r.outcome);
    expect(outcomes.filter((o) => o === 'APPLY_CHECKOUT_OUTCOME_APPLIED')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'APPLY_CHECKOUT_OUTCOME_DUPLICATE')).toHaveLength(19);
    expect(await ledgerCount(req.session!.id!)).toBe(1);
    expect(await eventRow(req.event_id!)).toMatchObject({ attempts: 20 });
  });

  it('when 10 purchases by one new email race, then exactly one user holds all the credits', async () => {
    const email = `crowd-${stripeId('u')}@example.com`;
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => apply(request('checkout.session.completed', purchase({ email: email.toUpperCase() })))),
    );
    expect(new Set(responses.map((r) => r.user?.id)).size).toBe(1);
    const { rows } = await h.sql.query('SELECT credits_balance FROM users WHERE lower(email) = lower($1)', [email]);
    expect(rows).toEqual([{ credits_balance: '1000' }]);
  });

  it('after every scenario, each balance equals the sum of its ledger rows', async () => {
    const check = await checkLedger(h.sql);
    expect(check.users).toBeGreaterThan(10);
    expect(check).toMatchObject({ mismatched: 0, negative: 0 });
    const { rows } = await h.sql.query("SELECT count(*)::int AS n FROM stripe_events WHERE status = 'processing'");
    expect(rows[0].n).toBe(0);
  });

  it('never logs an email address or the token', () => {
    expect(h.logs.text()).not.toMatch(/@example\.com/i);
    expect(h.logs.text()).not.toContain(TEST_TOKEN);
  });
});
