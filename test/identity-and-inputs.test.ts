import { Metadata } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config';
import { call, startCreditsHarness, type CreditsHarness } from './support/credits-harness';
import { cli } from './support/cli';
import { deliver, startEdge, WEBHOOK_SECRET, type EdgeHarness } from './support/edge-harness';
import { FAKE_STRIPE_KEY, startFakeStripe, type FakeStripe } from './support/fake-stripe';
import { balanceOf, insertUser, uniqueEmail } from './support/ops-seed';
import { applyCheckoutRequestFor, checkoutSession, lineItem, stripeEvent, stripeId, type SessionOverrides } from './support/stripe-events';

// The right user gets the right amount on every path: the real edge (with line items from a fake
// Stripe API) in front of the real CreditsService on PostgreSQL, and replay through the CLI.
const PRICES = '{"price_pack_100": 100}';
const MAX_BALANCE = 10_000;
const config = loadConfig({ STRIPE_PRICE_CREDITS: PRICES, STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET });

let h: CreditsHarness;
let stripe: FakeStripe;
let edge: EdgeHarness;

beforeAll(async () => {
  h = await startCreditsHarness({ priceCredits: config.credits.priceCredits, maxBalance: MAX_BALANCE });
  stripe = await startFakeStripe();
  edge = await startEdge(h.address, { STRIPE_SECRET_KEY: FAKE_STRIPE_KEY, STRIPE_API_BASE: stripe.url });
});
afterAll(async () => {
  await edge?.close();
  await stripe?.close();
  await h?.close();
});

/** A paid session whose line items the fake Stripe lists as none, so its metadata decides the credits. */
function purchase(overrides: SessionOverrides): Record<string, unknown> {
  const session = checkoutSession({ metadata: { credits: '5' }, ...overrides });
  stripe.setLineItems(session.id as string, []);
  return session;
}
const pay = (session: Record<string, unknown>, event: Partial<Record<string, unknown>> = {}) =>
  deliver(edge.url, { ...stripeEvent('checkout.session.completed', session), ...event });

async function userByEmail(email: string) {
  const { rows } = await h.sql.query<{ id: string; email: string; credits_balance: string }>(
    'SELECT id, email, credits_balance FROM users WHERE email = $1',
    [email],
  );
  return rows;
}

async function customerOwner(customerId: string): Promise<string | undefined> {
  const { rows } = await h.sql.query('SELECT user_id FROM stripe_customers WHERE customer_id = $1', [customerId]);
  return rows[0] && String(rows[0].user_id);
}

async function eventRow(eventId: string) {
  const { rows } = await h.sql.query('SELECT status, outcome, error_message, line_items FROM stripe_events WHERE event_id = $1', [eventId]);
  return rows[0];
}

describe('which user a Stripe customer belongs to', () => {
  it("when a purchase names user V but is paid by buyer B's customer, then V is credited, the customer is not linked to V, and B's next purchase credits B", async () => {
    const victim = await insertUser(h, uniqueEmail('v'));
    const buyerEmail = uniqueEmail('b');
    const customer = stripeId('cus');
    expect(await pay(purchase({ client_reference_id: victim.uuid, customer, email: buyerEmail }))).toMatchObject({ status: 200, body: { outcome: 'applied' } });
    expect(await balanceOf(h, victim.id)).toBe('5');
    expect(await customerOwner(customer)).toBeUndefined();

    expect(await pay(purchase({ customer, email: buyerEmail }))).toMatchObject({ status: 200, body: { outcome: 'applied' } });
    const [buyer] = await userByEmail(buyerEmail);
    expect(buyer).toMatchObject({ credits_balance: '5' });
    expect(await customerOwner(customer)).toBe(buyer!.id);
    expect(await balanceOf(h, victim.id)).toBe('5');

    // Linked by the buyer's own email: a later session with only the customer id finds the buyer.
    await pay(purchase({ customer, email: null }));
    expect((await userByEmail(buyerEmail))[0]?.credits_balance).toBe('10');
  });

  it('when a customer is already linked to another user, then linking it again leaves the link unchanged', async () => {
    const owner = await insertUser(h, uniqueEmail('owner'));
    const other = await insertUser(h, uniqueEmail('other'));
    const customer = stripeId('cus');
    const links = await h.store.transaction(async (uow) => [
      await uow.users.linkStripeCustomer(owner.id, customer),
      await uow.users.linkStripeCustomer(owner.id, customer),
      await uow.users.linkStripeCustomer(other.id, customer),
    ]);
    expect(links).toEqual(['linked', 'already_linked', 'linked_to_another_user']);
    expect(await customerOwner(customer)).toBe(owner.id);
  });
});

describe('the same inputs on every path', () => {
  it('when the webhook credits from line items, then they are stored with the event and replay credits the same amount', async () => {
    const email = uniqueEmail('lines');
    // Rejected first (no such user yet), so that replay has something to do.
    const session = purchase({ email: null, client_reference_id: email, metadata: { credits: '5000' } });
    stripe.setLineItems(session.id as string, [lineItem('price_pack_100', 1)]);
    const event = stripeEvent('checkout.session.completed', session);
    expect(await deliver(edge.url, event)).toMatchObject({ body: { outcome: 'rejected', reason: 'user_unresolved' } });
    expect((await eventRow(event.id as string))?.line_items).toEqual([{ priceId: 'price_pack_100', quantity: 1 }]);

    const user = await insertUser(h, email);
    const run = await cli(['replay', '--event', event.id as string], h.database.url, { STRIPE_PRICE_CREDITS: PRICES });
    expect(run.code).toBe(0);
    expect(await balanceOf(h, user.id)).toBe('100');
  });

  it('when a stored event lacks the line items its credits depend on, then replay refuses without a key and fetches them with one', async () => {
    const email = uniqueEmail('unfetched');
    const session = purchase({ email: null, client_reference_id: email, metadata: { credits: '5000' } });
    const event = stripeEvent('checkout.session.completed', session);
    // Delivered over gRPC without line items, as an edge without STRIPE_SECRET_KEY does.
    await call(h.client, h.client.ApplyCheckout, applyCheckoutRequestFor(event), new Metadata());
    const user = await insertUser(h, email);

    const refused = await cli(['replay', '--event', event.id as string], h.database.url, { STRIPE_PRICE_CREDITS: PRICES });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('line_items_unknown');
    expect(await balanceOf(h, user.id)).toBe('0');

    stripe.setLineItems(session.id as string, [lineItem('price_pack_100', 2)]);
    const env = { STRIPE_PRICE_CREDITS: PRICES, STRIPE_SECRET_KEY: FAKE_STRIPE_KEY, STRIPE_API_BASE: stripe.url };
    expect((await cli(['replay', '--event', event.id as string], h.database.url, env)).code).toBe(0);
    expect(await balanceOf(h, user.id)).toBe('200');
    expect((await eventRow(event.id as string))?.line_items).toEqual([{ priceId: 'price_pack_100', quantity: 2 }]);
  });
});

describe('live and test mode', () => {
  it('when a live-mode event reaches a test-mode deployment, then 200, stored as ignored (livemode_mismatch), nothing credited', async () => {
    const email = uniqueEmail('live');
    const event: Record<string, unknown> = { ...stripeEvent('checkout.session.completed', purchase({ email })), livemode: true };
    expect(await deliver(edge.url, event)).toMatchObject({ status: 200, body: { outcome: 'ignored', reason: 'livemode_mismatch', creditsGranted: 0 } });
    expect(await eventRow(event.id as string)).toMatchObject({ status: 'ignored', outcome: 'ignored' });
    expect(await userByEmail(email)).toEqual([]);
  });

  it('when the deployment is live, then test-mode events are ignored and live ones credited', async () => {
    const live = await startCreditsHarness({ livemode: true });
    try {
      const request = (livemode: boolean) =>
        applyCheckoutRequestFor({ ...stripeEvent('checkout.session.completed', purchase({ email: uniqueEmail('mode') })), livemode });
      const test = await call(live.client, live.client.ApplyCheckout, request(false), new Metadata());
      const real = await call(live.client, live.client.ApplyCheckout, request(true), new Metadata());
      expect(test).toMatchObject({ ok: true, response: { outcome: 'APPLY_CHECKOUT_OUTCOME_IGNORED', reason: 'livemode_mismatch' } });
      expect(real).toMatchObject({ ok: true, response: { outcome: 'APPLY_CHECKOUT_OUTCOME_APPLIED', credits_granted: '5' } });
    } finally {
      await live.close();
    }
  });
});

describe('email identity, whatever the database collation', () => {
  const resolve = async (identifier: string) => {
    const result = await call(h.client, h.client.ResolveUser, { identifier }, new Metadata());
    return result.ok ? (result.response as { user?: { id: string } }).user?.id : result.errorCode;
  };

  it('when an address differs only by case, surrounding (no-break) spaces, a trailing dot or compatibility forms, then it is the same user', async () => {
    const local = `kate${stripeId('u').slice(-8)}`;
    const kate = await insertUser(h, `${local}@example.com`);
    for (const variant of [
      `${local.toUpperCase()}@EXAMPLE.COM`,
      `${local}@example.com\u00a0`,
      `\u00a0${local}@example.com`,
      `${local}@example.com.`,
      `\u212a${local.slice(1)}@example.com`, // the Kelvin sign is the letter K (NFKC)
      `${[...local].map((c) => String.fromCodePoint(c.codePointAt(0)! + 0xfee0)).join('')}@example.com`, // full-width letters
    ]) {
      expect({ variant, user: await resolve(variant) }).toEqual({ variant, user: kate.uuid });
    }
  });

  it('when an address only looks alike (dotted capital İ, another script), then it is another user, and a purchase by it creates a new one', async () => {
    const local = `victim${stripeId('u').slice(-8)}`;
    const victim = await insertUser(h, `${local}@example.com`);
    const dotted = `V\u0130${local.slice(2).toUpperCase()}@EXAMPLE.COM`;
    const cyrillic = `v\u0456${local.slice(2)}@example.com`;
    expect(await resolve(dotted)).toBe('USER_NOT_FOUND');
    expect(await resolve(cyrillic)).toBe('USER_NOT_FOUND');
    await pay(purchase({ email: dotted }));
    expect(await balanceOf(h, victim.id)).toBe('0');
    expect(await userByEmail(dotted)).toMatchObject([{ credits_balance: '5' }]);
  });

  it('when an address hides an invisible character, then it is refused as IDENTIFIER_INVALID', async () => {
    expect(await resolve('vic\u200btim@example.com')).toBe('IDENTIFIER_INVALID');
    expect(await resolve('victim@exa\u202emple.com')).toBe('IDENTIFIER_INVALID');
  });
});

describe('amount bounds', () => {
  it('when a purchase would take a balance past MAX_CREDITS_BALANCE, then 200 rejected (balance_limit), stored as failed, nothing credited', async () => {
    const user = await insertUser(h, uniqueEmail('rich'));
    await h.sql.query(
      "INSERT INTO credit_transactions (user_id, amount, kind, reason, created_by) VALUES ($1, $2, 'grant', 'seed', 'test')",
      [user.id, MAX_BALANCE - 3],
    );
    await h.sql.query('UPDATE users SET credits_balance = $2 WHERE id = $1', [user.id, MAX_BALANCE - 3]);
    const event = stripeEvent('checkout.session.completed', purchase({ metadata: { user_id: user.id, credits: '5' } }));
    expect(await deliver(edge.url, event)).toMatchObject({ status: 200, body: { outcome: 'rejected', reason: 'balance_limit' } });
    expect(await eventRow(event.id as string)).toMatchObject({ status: 'failed', outcome: 'rejected' });
    expect(await balanceOf(h, user.id)).toBe(String(MAX_BALANCE - 3));
  });

  it('when a balance near the int64 limit is credited again, then it is rejected and stored, never a 5xx Stripe retries for days', async () => {
    const unbounded = await startCreditsHarness();
    const edgeOfUnbounded = await startEdge(unbounded.address, { STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET });
    try {
      const { rows } = await unbounded.sql.query<{ id: string }>('INSERT INTO users (email) VALUES ($1) RETURNING id', [uniqueEmail('max')]);
      const id = rows[0]!.id;
      await unbounded.sql.query(
        "INSERT INTO credit_transactions (user_id, amount, kind, reason, created_by) VALUES ($1, 9007199254740000, 'grant', 'seed', 'test')",
        [id],
      );
      await unbounded.sql.query('UPDATE users SET credits_balance = 9007199254740000 WHERE id = $1', [id]);
      const event = stripeEvent('checkout.session.completed', purchase({ metadata: { user_id: id, credits: '999999' } }));
      expect(await deliver(edgeOfUnbounded.url, event)).toMatchObject({ status: 200, body: { outcome: 'rejected', reason: 'balance_limit' } });
    } finally {
      await edgeOfUnbounded.close();
      await unbounded.close();
    }
  });
});
