import { describe, expect, it } from 'vitest';
import { decodeStripeEvent, type StripeEvent } from '../src/contract/stripe-event';
import { applyStripeEvent } from '../src/credits/checkout';
import { resolveCheckoutUser } from '../src/credits/checkout-user';
import { correctBalance } from '../src/credits/corrections';
import { CreditsError } from '../src/credits/errors';
import type { UnitOfWork } from '../src/credits/ports';
import { captureLogs } from './support/log-capture';
import { MemoryStore } from './support/memory-store';
import { checkoutSession, stripeEvent, type SessionOverrides, type StripeEventType } from './support/stripe-events';

// The domain's decisions against in-memory ports: no database, no gRPC. The same cases run on
// PostgreSQL through the real service in credits-contract.test.ts.
const rules = { priceCredits: { price_pack_100: 100 }, maxPerPurchase: 10_000, maxBalance: 1_000_000, livemode: false };
const { logger } = captureLogs();

function purchase(type: StripeEventType, overrides: SessionOverrides = {}): StripeEvent {
  return decodeStripeEvent(JSON.stringify(stripeEvent(type, checkoutSession({ metadata: { credits: '100' }, ...overrides }))));
}

const apply = (store: MemoryStore, event: StripeEvent) => applyStripeEvent(store, event, rules, logger);

describe('applyStripeEvent: the checkout decision', () => {
  it('when a paid session arrives, then its buyer is created by email and credited once, and the event is completed', async () => {
    const store = new MemoryStore();
    const result = await apply(store, purchase('checkout.session.completed', { email: 'new@example.com' }));
    expect(result).toMatchObject({ outcome: 'applied', creditsGranted: 100, user: { email: 'new@example.com', creditsBalance: '100' } });
    expect(store.state.ledger).toHaveLength(1);
    expect([...store.state.events.values()]).toMatchObject([{ status: 'completed', outcome: 'applied' }]);
  });

  it('when the same event comes twice, then the second is a duplicate and nothing more is credited', async () => {
    const store = new MemoryStore();
    const event = purchase('checkout.session.completed');
    await apply(store, event);
    expect(await apply(store, event)).toMatchObject({ outcome: 'duplicate', reason: 'event_already_processed', creditsGranted: 0 });
    expect(store.state.ledger).toHaveLength(1);
    expect(store.state.events.get(event.id)?.attempts).toBe(2);
  });

  it('when completed and async_payment_succeeded of one session both arrive, then the session is credited once', async () => {
    const store = new MemoryStore();
    const session = checkoutSession({ metadata: { credits: '100' } });
    await apply(store, decodeStripeEvent(JSON.stringify(stripeEvent('checkout.session.completed', session))));
    const second = await apply(store, decodeStripeEvent(JSON.stringify(stripeEvent('checkout.session.async_payment_succeeded', session))));
    expect(second).toMatchObject({ outcome: 'duplicate', reason: 'checkout_session_already_credited' });
    expect(store.state.users[0]?.creditsBalance).toBe('100');
  });

  it.each([
    ['an unpaid session', purchase('checkout.session.completed', { payment_status: 'unpaid' }), 'payment_pending', 'pending'],
    ['a failed delayed payment', purchase('checkout.session.async_payment_failed'), 'payment_failed', 'completed'],
    ['a subscription', purchase('checkout.session.completed', { mode: 'subscription' }), 'ignored', 'ignored'],
    ['another event type', decodeStripeEvent(JSON.stringify(stripeEvent('customer.created', { object: 'customer', id: 'cus_1' }))), 'ignored', 'ignored'],
  ] as const)('when %s arrives, then %s is stored as %s and nothing is credited', async (_name, event, outcome, status) => {
    const store = new MemoryStore();
    expect(await apply(store, event)).toMatchObject({ outcome, creditsGranted: 0 });
    expect(store.state.events.get(event.id)?.status).toBe(status);
    expect(store.state.ledger).toEqual([]);
  });

  it('when a pending purchase is paid later, then the later event credits it', async () => {
    const store = new MemoryStore();
    const session = checkoutSession({ payment_status: 'unpaid', metadata: { credits: '40' } });
    await apply(store, decodeStripeEvent(JSON.stringify(stripeEvent('checkout.session.completed', session))));
    const paid = decodeStripeEvent(JSON.stringify(stripeEvent('checkout.session.async_payment_succeeded', { ...session, payment_status: 'paid' })));
    expect(await apply(store, paid)).toMatchObject({ outcome: 'applied', creditsGranted: 40 });
  });

  it('when the credits cannot be decided, then it is rejected, stored as failed, and the user it would have created is rolled back', async () => {
    const store = new MemoryStore();
    const event = purchase('checkout.session.completed', { email: 'ghost@example.com', metadata: {} });
    expect(await apply(store, event)).toMatchObject({ outcome: 'rejected', reason: 'credits_unknown' });
    expect(store.state.events.get(event.id)).toMatchObject({ status: 'failed', outcome: 'rejected' });
    expect(store.state.users).toEqual([]);
  });

  it('when the store loses a race twice, then the purchase is retried and applied; a third loss reaches the caller', async () => {
    const store = new MemoryStore();
    let failures = 2;
    const transaction = store.transaction.bind(store);
    store.transaction = <T>(work: (uow: UnitOfWork) => Promise<T>) =>
      failures-- > 0 ? Promise.reject(new CreditsError('TRANSACTION_CONFLICT', 'lost a race')) : transaction(work);
    expect(await apply(store, purchase('checkout.session.completed'))).toMatchObject({ outcome: 'applied' });
    failures = 3;
    await expect(apply(store, purchase('checkout.session.completed'))).rejects.toMatchObject({ code: 'TRANSACTION_CONFLICT' });
  });
});

describe('resolveCheckoutUser: which user a purchase credits', () => {
  const resolve = (store: MemoryStore, overrides: SessionOverrides) =>
    store.transaction(async (uow) => (await resolveCheckoutUser(uow.users, purchase('checkout.session.completed', overrides).session!, logger)).user);

  it('when metadata.user_id, client_reference_id and the email each name someone, then metadata.user_id wins', async () => {
    const store = new MemoryStore();
    const byId = store.addUser('by-id@example.com');
    const byRef = store.addUser('by-ref@example.com');
    store.addUser('by-email@example.com');
    const user = await resolve(store, { metadata: { user_id: byId.id }, client_reference_id: byRef.uuid, email: 'by-email@example.com' });
    expect(user.id).toBe(byId.id);
  });

  it('when metadata.user_id is a placeholder or names nobody, then client_reference_id decides', async () => {
    const store = new MemoryStore();
    const byRef = store.addUser('by-ref@example.com');
    expect((await resolve(store, { metadata: { user_id: '{{user_id}}' }, client_reference_id: byRef.email })).id).toBe(byRef.id);
    expect((await resolve(store, { metadata: { user_id: '999' }, client_reference_id: byRef.uuid })).id).toBe(byRef.id);
  });

  it('when only the Stripe customer is known, then the user it was linked to by an earlier purchase is found', async () => {
    const store = new MemoryStore();
    const first = await resolve(store, { customer: 'cus_returning', email: 'returning@example.com' });
    expect((await resolve(store, { customer: 'cus_returning', email: null })).id).toBe(first.id);
  });

  it('when nothing names or creates a user, then it is rejected as user_unresolved', async () => {
    await expect(resolve(new MemoryStore(), { email: null, customer_email: null, client_reference_id: 'null' })).rejects.toMatchObject({ reason: 'user_unresolved' });
  });
});

describe('correctBalance', () => {
  it('when a revoke would take the balance below zero, then INSUFFICIENT_CREDITS and nothing is written', async () => {
    const store = new MemoryStore();
    const user = store.addUser('support@example.com', 10);
    await expect(correctBalance(store, 'revoke', { user: user.uuid, credits: 11, reason: 'too much', operator: 'support-test' })).rejects.toMatchObject({ code: 'INSUFFICIENT_CREDITS' });
    expect(store.state.ledger).toEqual([]);
    expect(await correctBalance(store, 'revoke', { user: user.uuid, credits: 10, reason: 'all', operator: 'support-test' })).toMatchObject({ balanceBefore: '10', balanceAfter: '0' });
  });
});
