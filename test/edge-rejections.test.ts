import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config';
import { startEdgeRuntime } from '../src/app/edge';
import { startCreditsHarness, type CreditsHarness } from './support/credits-harness';
import { deliver, post, sign, startEdge, WEBHOOK_SECRET, type EdgeHarness } from './support/edge-harness';
import { captureLogs } from './support/log-capture';
import { checkoutSession, stripeEvent, stripeId } from './support/stripe-events';

let h: CreditsHarness;
let edge: EdgeHarness;

beforeAll(async () => {
  h = await startCreditsHarness();
  edge = await startEdge(h.address);
});
afterAll(async () => {
  await edge?.close();
  await h?.close();
});

const paidEvent = () => stripeEvent('checkout.session.completed', checkoutSession({ email: `r-${stripeId('u')}@example.com`, metadata: { credits: '100' } }));

async function storedEvents(): Promise<number> {
  const { rows } = await h.sql.query('SELECT count(*)::int AS n FROM stripe_events');
  return rows[0].n;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

describe('a webhook that cannot be trusted or read is answered 400 and never reaches CreditsService', () => {
  const event = paidEvent();
  const payload = JSON.stringify(event);
  it.each([
    ['no Stripe-Signature header', () => ({ payload, signature: undefined }), 'SIGNATURE_MISSING'],
    ['an empty Stripe-Signature header', () => ({ payload, signature: '' }), 'SIGNATURE_MISSING'],
    ['a signature made with another secret', () => sign(payload, { secret: 'whsec_someone_else_0000' }), 'SIGNATURE_INVALID'],
    ['a body changed after signing', () => ({ ...sign(payload), payload: payload.replace('"100"', '"900"') }), 'SIGNATURE_INVALID'],
    ['a header that is not a Stripe signature', () => ({ payload, signature: 'sha256=deadbeef' }), 'SIGNATURE_INVALID'],
    ['a timestamp beyond the 300 s tolerance', () => sign(payload, { timestamp: nowSeconds() - 301 - 60 }), 'SIGNATURE_EXPIRED'],
    ['a signed body that is not JSON', () => sign('{"id": "evt_1", "type": '), 'BODY_NOT_JSON'],
    ['a signed empty body', () => ({ payload: '', signature: sign('x').signature }), 'SIGNATURE_INVALID'],
    ['signed JSON that is an array', () => sign('[{"id":"evt_1"}]'), 'BODY_NOT_EVENT'],
    ['signed JSON without a type', () => sign(JSON.stringify({ id: stripeId('evt'), data: { object: {} } })), 'BODY_NOT_EVENT'],
    ['signed JSON with a numeric id', () => sign(JSON.stringify({ id: 42, type: 'checkout.session.completed', data: { object: {} } })), 'BODY_NOT_EVENT'],
    ['signed JSON without data.object', () => sign(JSON.stringify({ id: stripeId('evt'), type: 'checkout.session.completed', data: {} })), 'BODY_NOT_EVENT'],
  ] as const)('when the request has %s, then 400 %s', async (_name, build, code) => {
    const before = await storedEvents();
    const delivery = build();
    const answer = await post(edge.url, '/webhooks/stripe', delivery.payload, delivery.signature);
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({ error: { code, message: expect.any(String) } });
    expect(await storedEvents()).toBe(before);
  });

  it.each([
    ['gzip-compressed', () => gzipSync(JSON.stringify(paidEvent())), 'gzip'],
    ['a corrupt gzip stream', () => gzipSync(JSON.stringify(paidEvent())).subarray(0, 40), 'gzip'],
    ['deflate-compressed', () => gzipSync('{}'), 'deflate'],
  ])('when the body is %s, then 415 BODY_UNREADABLE and nothing is stored', async (_name, body, encoding) => {
    const before = await storedEvents();
    const response = await fetch(`${edge.url}/webhooks/stripe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': encoding, 'stripe-signature': sign('{}').signature },
      body: body(),
    });
    expect(response.status).toBe(415);
    expect(await response.json()).toEqual({ error: { code: 'BODY_UNREADABLE', message: expect.any(String) } });
    expect(await storedEvents()).toBe(before);
  });

  it('when the body is over 1 MiB, then 413 BODY_TOO_LARGE', async () => {
    const before = await storedEvents();
    const big = stripeEvent('checkout.session.completed', checkoutSession({ metadata: { credits: '1', padding: 'x'.repeat(1024 * 1024) } }));
    const answer = await deliver(edge.url, big);
    expect(answer).toEqual({ status: 413, body: { error: { code: 'BODY_TOO_LARGE', message: 'body exceeds 1 MiB' } } });
    expect(await storedEvents()).toBe(before);
  });

  it('when a timestamp is old but within the tolerance, then the event is accepted', async () => {
    const event = paidEvent();
    const { payload, signature } = sign(JSON.stringify(event), { timestamp: nowSeconds() - 240 });
    expect(await post(edge.url, '/webhooks/stripe', payload, signature)).toMatchObject({ status: 200, body: { outcome: 'applied' } });
  });

  it('when a route does not exist or the method is wrong, then 404 with a JSON error', async () => {
    for (const [method, path] of [['GET', '/webhooks/stripe'], ['POST', '/webhooks/stripe/other'], ['GET', '/']]) {
      const response = await fetch(`${edge.url}${path}`, { method });
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'no such route' } });
    }
  });

  it('never logs the signature header or the body of a rejected request', () => {
    expect(edge.logs.text()).not.toMatch(/@example\.com|v1=|t=\d{10}/);
    expect(edge.logs.text()).toContain('"outcome":"signature_invalid"');
  });
});

describe('E2E_TEST_MODE', () => {
  let e2e: EdgeHarness;
  beforeAll(async () => {
    e2e = await startEdge(h.address, { E2E_TEST_MODE: 'true', STRIPE_WEBHOOK_SECRET: '' });
  });
  afterAll(() => e2e?.close());

  it('warns at start that unsigned webhooks are accepted', () => {
    expect(e2e.logs.lines.some((line) => line.includes('"level":40') && line.includes('E2E_TEST_MODE is on'))).toBe(true);
  });

  it('when an unsigned event arrives, then it is applied', async () => {
    const event = paidEvent();
    const answer = await post(e2e.url, '/webhooks/stripe', JSON.stringify(event));
    expect(answer).toMatchObject({ status: 200, body: { outcome: 'applied', creditsGranted: 100 } });
    const { rows } = await h.sql.query('SELECT status FROM stripe_events WHERE event_id = $1', [event.id]);
    expect(rows).toEqual([{ status: 'completed' }]);
  });

  it('when an unsigned body is not an event, then it is still refused with 400', async () => {
    expect((await post(e2e.url, '/webhooks/stripe', 'not json')).body.error.code).toBe('BODY_NOT_JSON');
    expect((await post(e2e.url, '/webhooks/stripe', '{"hello":"world"}')).body.error.code).toBe('BODY_NOT_EVENT');
  });

  it('when a secret is configured too, then a signed event with a bad signature is still refused', async () => {
    const both = await startEdge(h.address, { E2E_TEST_MODE: 'true' });
    try {
      const answer = await deliver(both.url, paidEvent(), { secret: 'whsec_not_ours_1234' });
      expect(answer).toMatchObject({ status: 400, body: { error: { code: 'SIGNATURE_INVALID' } } });
      expect((await post(both.url, '/webhooks/stripe', JSON.stringify(paidEvent()))).status).toBe(200);
    } finally {
      await both.close();
    }
  });

  it('is refused when NODE_ENV=production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', E2E_TEST_MODE: 'true', CREDITS_API_TOKEN: 't', STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET })).toThrow(ConfigError);
  });

  it('when it is off and no secret is configured in production, then the edge refuses to start', async () => {
    const config = loadConfig({ NODE_ENV: 'production', CREDITS_API_TOKEN: 'production-token-0123456789abcdef', STRIPE_LIVEMODE: 'false', HTTP_PORT: '0' });
    await expect(startEdgeRuntime({ config, logger: captureLogs().logger, creditsUrl: h.address })).rejects.toThrow(/STRIPE_WEBHOOK_SECRET/);
  });
});
