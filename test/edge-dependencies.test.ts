import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config';
import { createEdgeApp } from '../src/edge/app';
import type { CreditsGateway } from '../src/edge/credits-gateway';
import { listenHttp } from '../src/edge/http-server';
import { createEdgeMetrics } from '../src/edge/metrics';
import type { ApplyCheckoutResponse__Output } from '../src/contract/generated/credits/v1/ApplyCheckoutResponse';
import { startCreditsServer } from '../src/grpc/server';
import { startCreditsHarness, TEST_TOKEN, type CreditsHarness } from './support/credits-harness';
import { deliver, sign, startEdge, WEBHOOK_SECRET, type EdgeHarness } from './support/edge-harness';
import { startFakeStripe, type FakeStripe } from './support/fake-stripe';
import { findFreePort } from './support/free-port';
import { captureLogs } from './support/log-capture';
import { checkoutSession, lineItem, stripeEvent, stripeId, type SessionOverrides } from './support/stripe-events';

const STRIPE_KEY = 'sk_test_fake_0123456789';
// The same variable configures both processes, as in production.
const config = loadConfig({ STRIPE_PRICE_CREDITS: '{"price_pack_100": 100, "price_pack_500": 500}', STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET });

let h: CreditsHarness;
let stripe: FakeStripe;
let edge: EdgeHarness;

beforeAll(async () => {
  h = await startCreditsHarness({ priceCredits: config.credits.priceCredits });
  stripe = await startFakeStripe();
  edge = await startEdge(h.address, {
    STRIPE_SECRET_KEY: STRIPE_KEY,
    STRIPE_API_BASE: stripe.url,
    STRIPE_API_MAX_RETRIES: '1',
    STRIPE_API_TIMEOUT_MS: '2000',
  });
});
afterAll(async () => {
  await edge?.close();
  await stripe?.close();
  await h?.close();
});

const purchase = (overrides: SessionOverrides = {}) =>
  checkoutSession({ email: `dep-${stripeId('u')}@example.com`, metadata: { credits: '7' }, ...overrides });

async function eventRow(eventId: string) {
  const { rows } = await h.sql.query('SELECT status, outcome FROM stripe_events WHERE event_id = $1', [eventId]);
  return rows[0];
}

async function balanceOf(email: string): Promise<string | undefined> {
  const { rows } = await h.sql.query('SELECT credits_balance FROM users WHERE lower(email) = lower($1)', [email]);
  return rows[0]?.credits_balance;
}

const emailOf = (session: Record<string, unknown>) => (session.customer_details as { email: string }).email;
const requestsFor = (sessionId: string) => stripe.requests.filter((r) => r.path === `/v1/checkout/sessions/${sessionId}/line_items`);

describe('line items from the Stripe API', () => {
  it('when STRIPE_SECRET_KEY is set, then the session line items decide the credits (STRIPE_PRICE_CREDITS)', async () => {
    const session = purchase();
    stripe.setLineItems(session.id as string, [lineItem('price_pack_100', 3), lineItem('price_pack_500', 1)]);
    const answer = await deliver(edge.url, stripeEvent('checkout.session.completed', session));
    expect(answer).toMatchObject({ status: 200, body: { outcome: 'applied', creditsGranted: 800 } });
    expect(await balanceOf(emailOf(session))).toBe('800');
    expect(requestsFor(session.id as string)).toEqual([
      { method: 'GET', path: `/v1/checkout/sessions/${session.id as string}/line_items`, query: { limit: '100' }, authorization: `Bearer ${STRIPE_KEY}` },
    ]);
  });

  it('when the session is not paid yet, then no line items are fetched', async () => {
    const session = purchase({ payment_status: 'unpaid' });
    const answer = await deliver(edge.url, stripeEvent('checkout.session.completed', session));
    expect(answer).toMatchObject({ status: 200, body: { outcome: 'payment_pending' } });
    expect(requestsFor(session.id as string)).toHaveLength(0);
  });

  it('when the Stripe API keeps failing, then 503, nothing is recorded, and a redelivery after recovery credits once', async () => {
    const session = purchase();
    stripe.setLineItems(session.id as string, [lineItem('price_pack_500', 2)]);
    const event = stripeEvent('checkout.session.completed', session);
    stripe.failWith(500);
    try {
      const answer = await deliver(edge.url, event);
      expect(answer).toEqual({ status: 503, body: { error: { code: 'UNAVAILABLE', message: expect.any(String) } } });
    } finally {
      stripe.failWith(undefined);
    }
    expect(requestsFor(session.id as string)).toHaveLength(2); // the first try and STRIPE_API_MAX_RETRIES=1
    expect(await eventRow(event.id as string)).toBeUndefined();
    expect(await balanceOf(emailOf(session))).toBeUndefined();

    expect(await deliver(edge.url, event)).toMatchObject({ status: 200, body: { outcome: 'applied', creditsGranted: 1000 } });
    expect(await balanceOf(emailOf(session))).toBe('1000');
  });

  it('when Stripe does not know the session, then 503 rather than a guess from metadata', async () => {
    const event = stripeEvent('checkout.session.completed', purchase());
    expect((await deliver(edge.url, event)).status).toBe(503);
    expect(await eventRow(event.id as string)).toBeUndefined();
  });
});

describe('when CreditsService cannot be reached or refuses the edge', () => {
  it('when nothing listens at CREDITS_GRPC_URL, then 503 and no event is recorded', async () => {
    const down = await startEdge(`127.0.0.1:${await findFreePort()}`);
    try {
      const event = stripeEvent('checkout.session.completed', purchase());
      const answer = await deliver(down.url, event);
      expect(answer).toEqual({ status: 503, body: { error: { code: 'UNAVAILABLE', message: 'temporarily unavailable; the event will be retried' } } });
      expect(await eventRow(event.id as string)).toBeUndefined();
      expect(down.logs.text()).toContain('"outcome":"credits_unavailable"');
      expect(down.logs.text()).toContain('CreditsService unavailable: retrying');
    } finally {
      await down.close();
    }
  });

  it('when the edge has the wrong token, then 500 and no event is recorded', async () => {
    const misconfigured = await startEdge(h.address, { CREDITS_API_TOKEN: 'not-the-token' });
    try {
      const event = stripeEvent('checkout.session.completed', purchase());
      const answer = await deliver(misconfigured.url, event);
      expect(answer).toEqual({ status: 500, body: { error: { code: 'INTERNAL', message: expect.any(String) } } });
      expect(await eventRow(event.id as string)).toBeUndefined();
    } finally {
      await misconfigured.close();
    }
  });
});

describe('health, readiness and metrics', () => {
  it('GET /healthz answers 200 while the process lives', async () => {
    const response = await fetch(`${edge.url}/healthz`);
    expect([response.status, await response.json()]).toEqual([200, { status: 'alive' }]);
  });

  it('GET /readyz follows the health of CreditsService: 200 while it serves, 503 once it is closed', async () => {
    const server = await startCreditsServer({
      store: h.store,
      databaseAnswers: async () => true,
      logger: captureLogs().logger,
      rules: { priceCredits: {}, maxPerPurchase: 10, maxBalance: 1_000, livemode: false },
      apiToken: TEST_TOKEN,
      host: '127.0.0.1',
      port: 0,
    });
    const ready = await startEdge(`127.0.0.1:${server.port}`);
    try {
      expect((await fetch(`${ready.url}/readyz`)).status).toBe(200);
      await server.close(1_000);
      const response = await fetch(`${ready.url}/readyz`);
      expect([response.status, await response.json()]).toEqual([503, { error: { code: 'NOT_READY', message: 'CreditsService is not serving' } }]);
      expect((await fetch(`${ready.url}/healthz`)).status).toBe(200);
    } finally {
      await ready.close();
      await server.close(0);
    }
  });

  it('GET /metrics shows webhooks by type, outcome and status, request durations and gRPC call durations', async () => {
    const response = await fetch(`${edge.url}/metrics`);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toMatch(/^edge_webhooks_total\{event_type="checkout.session.completed",outcome="applied",status="200"\} [1-9]/m);
    expect(text).toMatch(/^edge_webhooks_total\{event_type="checkout.session.completed",outcome="stripe_api_unavailable",status="503"\} 2$/m);
    expect(text).toMatch(/^edge_http_request_duration_seconds_count\{method="POST",route="\/webhooks\/stripe",status="200"\} [1-9]/m);
    expect(text).toMatch(/^edge_credits_grpc_duration_seconds_count\{method="ApplyCheckout",code="OK"\} [1-9]/m);
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
  });
});

describe('createEdgeApp with an injected gateway', () => {
  it('when the edge closes with a request in flight, then that request is still answered and new ones are refused', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let arrived!: () => void;
    const inFlight = new Promise<void>((resolve) => (arrived = resolve));
    const credits: CreditsGateway = {
      applyCheckout: async () => {
        arrived();
        await released;
        return { outcome: 'APPLY_CHECKOUT_OUTCOME_IGNORED', user: null, credits_granted: '0', balance_after: '0', reason: 'event_type_not_handled' } satisfies ApplyCheckoutResponse__Output;
      },
      applyStripeEvent: () => Promise.reject(new Error('not called: no refund or dispute is sent')),
      isServing: async () => true,
      close: () => {},
    };
    const app = createEdgeApp({ config, webhookSecrets: config.stripe.webhookSecrets, logger: captureLogs().logger, credits, metrics: createEdgeMetrics() });
    const http = await listenHttp(app, { port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${http.port}`;

    const { payload, signature } = sign(JSON.stringify(stripeEvent('customer.created', { object: 'customer', id: stripeId('cus') })));
    const pending = fetch(`${url}/webhooks/stripe`, { method: 'POST', headers: { 'stripe-signature': signature }, body: payload });
    await inFlight;
    const closed = http.close(5_000);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    release();
    const response = await pending;
    expect([response.status, await response.json()]).toEqual([200, { received: true, outcome: 'ignored', creditsGranted: 0, reason: 'event_type_not_handled' }]);
    await closed;
  });
});
