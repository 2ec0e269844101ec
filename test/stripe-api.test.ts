import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createStripeApi, stripeApiAddress, type ListedStripeEvent, type StripeApiOptions } from '../src/stripe-api/client.js';
import { StripeApiError, StripeApiRejected, StripeApiUnavailable, redactKeys } from '../src/stripe-api/errors.js';
import { MAX_RETRY_AFTER_MS, parseRetryAfter } from '../src/stripe-api/retry.js';
import { FAKE_STRIPE_KEY, startFakeStripe, type FakeStripe } from './support/fake-stripe.js';
import { checkoutSession, lineItem, stripeEvent, stripeId } from './support/stripe-events.js';

const CHARGE = JSON.parse(readFileSync(new URL('./fixtures/stripe/charge.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const COMPLETED = 'checkout.session.completed';
const NOW = Math.floor(Date.now() / 1000);

let fake: FakeStripe;
beforeEach(async () => {
  fake = await startFakeStripe();
});
afterEach(async () => {
  await fake.close();
});

const api = (options: Partial<StripeApiOptions> = {}) =>
  createStripeApi({ secretKey: FAKE_STRIPE_KEY, apiBase: fake.url, timeoutMs: 2_000, maxRetries: 1, ...options });

async function collect(events: AsyncIterable<ListedStripeEvent>): Promise<ListedStripeEvent[]> {
  const all: ListedStripeEvent[] = [];
  for await (const listed of events) all.push(listed);
  return all;
}

/** Adds a Stripe-shaped event to the fake and returns it as added. */
function addEvent(type: string, created: number, delivered = true): Record<string, unknown> {
  const event = { ...stripeEvent(type, checkoutSession()), created };
  fake.addEvent(event, { delivered });
  return event;
}

async function failure(promise: Promise<unknown>): Promise<StripeApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof StripeApiError) return error;
    throw error;
  }
  throw new Error('expected a StripeApiError, the call succeeded');
}

const eventRequests = () => fake.requests.filter((r) => r.path === '/v1/events');

describe('listEvents', () => {
  it('when there are more events than one page, then every page is followed with starting_after, newest first', async () => {
    const added = Array.from({ length: 250 }, (_, i) => addEvent(COMPLETED, NOW - 1_000 + i));
    const pages: number[] = [];

    const listed = await collect(api().listEvents({ types: [COMPLETED], createdGte: NOW - 2_000, onPage: (count) => pages.push(count) }));

    expect(pages).toEqual([100, 100, 50]);
    expect(listed.map(({ event }) => event.id)).toEqual(added.map((event) => event.id).reverse());
    expect(eventRequests().map((r) => r.query)).toEqual([
      { limit: '100', 'types[0]': COMPLETED, 'created[gte]': String(NOW - 2_000) },
      { limit: '100', 'types[0]': COMPLETED, 'created[gte]': String(NOW - 2_000), starting_after: listed[99]!.event.id },
      { limit: '100', 'types[0]': COMPLETED, 'created[gte]': String(NOW - 2_000), starting_after: listed[199]!.event.id },
    ]);
    expect(eventRequests().every((r) => r.method === 'GET' && r.authorization === `Bearer ${FAKE_STRIPE_KEY}`)).toBe(true);
  });

  it('returns each event parsed and as JSON text, both as Stripe sent it', async () => {
    const added = addEvent(COMPLETED, NOW);
    const [listed] = await collect(api().listEvents({ types: [COMPLETED], createdGte: NOW }));
    expect(listed!.rawJson).toBe(JSON.stringify(added));
    expect(listed!.event).toEqual(added);
    expect(listed!.event).toMatchObject({ id: added.id, type: COMPLETED, created: NOW, data: { object: { object: 'checkout.session' } } });
  });

  it('when events share a second, then the one added last comes first, as Stripe lists them', async () => {
    const first = addEvent(COMPLETED, NOW);
    const second = addEvent(COMPLETED, NOW);
    const older = addEvent(COMPLETED, NOW - 1);
    const listed = await collect(api().listEvents({ types: [COMPLETED], createdGte: 0 }));
    expect(listed.map(({ event }) => event.id)).toEqual([second.id, first.id, older.id]);
  });

  it('when given several types, then only events of those types are listed (types[0], types[1] on the wire)', async () => {
    const completed = addEvent(COMPLETED, NOW - 3);
    addEvent('customer.created', NOW - 2);
    const succeeded = addEvent('checkout.session.async_payment_succeeded', NOW - 1);
    const types = [COMPLETED, 'checkout.session.async_payment_succeeded'];

    const listed = await collect(api().listEvents({ types, createdGte: 0 }));

    expect(listed.map(({ event }) => event.id)).toEqual([succeeded.id, completed.id]);
    expect(eventRequests()[0]!.query).toMatchObject({ 'types[0]': types[0], 'types[1]': types[1] });
  });

  it('when created[gte] is given, then events created earlier are left out and that second is included', async () => {
    addEvent(COMPLETED, NOW - 100);
    const atTheSecond = addEvent(COMPLETED, NOW);
    const later = addEvent(COMPLETED, NOW + 100);
    const listed = await collect(api().listEvents({ types: [COMPLETED], createdGte: NOW }));
    expect(listed.map(({ event }) => event.id)).toEqual([later.id, atTheSecond.id]);
  });

  it('when deliverySuccess is false, then only undelivered events are listed; otherwise delivery_success is not sent', async () => {
    const delivered = addEvent(COMPLETED, NOW - 1, true);
    const missed = addEvent(COMPLETED, NOW, false);

    const undelivered = await collect(api().listEvents({ types: [COMPLETED], createdGte: 0, deliverySuccess: false }));
    const all = await collect(api().listEvents({ types: [COMPLETED], createdGte: 0 }));

    expect(undelivered.map(({ event }) => event.id)).toEqual([missed.id]);
    expect(all.map(({ event }) => event.id)).toEqual([missed.id, delivered.id]);
    expect(eventRequests().map((r) => r.query.delivery_success)).toEqual(['false', undefined]);
  });

  it('when nothing matches, then one request and no events', async () => {
    const pages: number[] = [];
    expect(await collect(api().listEvents({ types: [COMPLETED], createdGte: NOW, onPage: (n) => pages.push(n) }))).toEqual([]);
    expect(pages).toEqual([0]);
  });

  it('refuses a query Stripe would refuse, before asking it', async () => {
    const types = Array.from({ length: 21 }, (_, i) => `type.${i}`);
    await expect(collect(api().listEvents({ types: [], createdGte: 0 }))).rejects.toThrow(RangeError);
    await expect(collect(api().listEvents({ types, createdGte: 0 }))).rejects.toThrow(RangeError);
    await expect(collect(api().listEvents({ types: [COMPLETED], createdGte: 1.5 }))).rejects.toThrow(RangeError);
    expect(fake.requests).toHaveLength(0);
  });

  it('when a later page fails for good, then the iteration ends in StripeApiUnavailable after the events already read', async () => {
    for (let i = 0; i < 150; i += 1) addEvent(COMPLETED, NOW - i);
    const read: string[] = [];
    const error = await failure(
      (async () => {
        for await (const { event } of api({ maxRetries: 0 }).listEvents({ types: [COMPLETED], createdGte: 0 })) {
          read.push(event.id);
          if (read.length === 100) fake.failWith(502);
        }
      })(),
    );
    expect(error).toBeInstanceOf(StripeApiUnavailable);
    expect(error).toMatchObject({ operation: 'listEvents', status: 502 });
    expect(read).toHaveLength(100);
  });
});

describe('retries and failures', () => {
  it('when Stripe answers 500 once, then the request is retried and succeeds', async () => {
    const session = checkoutSession();
    fake.setLineItems(session.id as string, [lineItem('price_a', 2)]);
    fake.failNext(1, 500);
    expect(await api({ maxRetries: 1 }).listLineItems(session.id as string)).toEqual({ items: [{ priceId: 'price_a', quantity: 2 }], complete: true });
    expect(fake.requests).toHaveLength(2);
  });

  it('when Stripe answers 429 with Retry-After: 1, then the request is retried after that second and succeeds', async () => {
    addEvent(COMPLETED, NOW);
    fake.failNext(1, 429, { 'retry-after': '1' });
    const started = Date.now();
    const listed = await collect(api({ maxRetries: 1 }).listEvents({ types: [COMPLETED], createdGte: 0 }));
    expect(listed).toHaveLength(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(eventRequests()).toHaveLength(2);
  });

  it('when Stripe keeps answering 429, then retries stop at maxRetries with StripeApiUnavailable (429, rate_limit)', async () => {
    fake.failNext(5, 429, { 'retry-after': '0' });
    const error = await failure(api({ maxRetries: 2 }).retrieveCharge('ch_x'));
    expect(error).toBeInstanceOf(StripeApiUnavailable);
    expect(error).toMatchObject({ status: 429, code: 'rate_limit', type: 'invalid_request_error' });
    expect(fake.requests).toHaveLength(3);
  });

  it('when Retry-After asks for longer than we wait, then no retry: StripeApiUnavailable at once', async () => {
    fake.failNext(1, 429, { 'retry-after': String(MAX_RETRY_AFTER_MS / 1000 + 1) });
    const error = await failure(api({ maxRetries: 3 }).retrieveCharge('ch_x'));
    expect(error).toMatchObject({ name: 'StripeApiUnavailable', status: 429 });
    expect(fake.requests).toHaveLength(1);
  });

  it('when Stripe keeps answering 503, then StripeApiUnavailable after maxRetries, and the key is nowhere in the error', async () => {
    const secretKey = 'sk_test_persistentFailure0123456789abcdef';
    await fake.close();
    fake = await startFakeStripe({ secretKey });
    fake.failWith(503);

    const error = await failure(api({ secretKey, maxRetries: 1 }).listLineItems('cs_test_1'));

    expect(error).toBeInstanceOf(StripeApiUnavailable);
    expect(error).toMatchObject({ name: 'StripeApiUnavailable', operation: 'listLineItems', type: 'api_error', status: 503 });
    expect(error.message).toContain('503');
    expect(fake.requests).toHaveLength(2);
    expect(fake.requests[0]!.authorization).toBe(`Bearer ${secretKey}`);
    for (const text of [error.message, JSON.stringify(error), inspect(error), String(error.stack)]) {
      expect(text).not.toContain(secretKey);
      expect(text).not.toContain('sk_test');
    }
    expect(error.cause).toBeUndefined();
  });

  it('when Stripe does not answer within timeoutMs, then each try is cut short and the call ends in StripeApiUnavailable (timeout)', async () => {
    fake.stallNext(2);
    const started = Date.now();
    const error = await failure(api({ timeoutMs: 200, maxRetries: 1 }).retrieveCharge('ch_x'));
    expect(error).toMatchObject({ name: 'StripeApiUnavailable', type: 'timeout', status: undefined });
    expect(fake.requests).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(4_000); // two tries of 200 ms and one backoff (≤ 1 s), not the client's default 80 s
  });

  it('when nothing listens at the API base, then StripeApiUnavailable (api_connection_error)', async () => {
    const gone = fake.url;
    await fake.close();
    fake = await startFakeStripe();
    const error = await failure(api({ apiBase: gone, maxRetries: 0 }).retrieveCharge('ch_x'));
    expect(error).toMatchObject({ name: 'StripeApiUnavailable', type: 'api_connection_error' });
  });

  it('when the key is wrong, then StripeApiRejected (401) without retries, and neither key is in the error', async () => {
    const wrongKey = 'rk_live_notTheKey9876543210zyxw';
    const error = await failure(api({ secretKey: wrongKey, maxRetries: 2 }).retrieveCharge('ch_x'));
    expect(error).toBeInstanceOf(StripeApiRejected);
    expect(error).toMatchObject({ operation: 'retrieveCharge', status: 401, type: 'invalid_request_error' });
    expect(fake.requests).toHaveLength(1);
    for (const text of [error.message, JSON.stringify(error), inspect(error)]) {
      expect(text).not.toContain(wrongKey);
      expect(text).not.toContain('zyxw'); // Stripe quotes the key's last four characters back
      expect(text).not.toContain(FAKE_STRIPE_KEY);
    }
  });
});

describe('listLineItems', () => {
  it('when every line has a price and a quantity, then all of them, complete', async () => {
    const session = checkoutSession();
    fake.setLineItems(session.id as string, [lineItem('price_a', 3), lineItem('price_b', 1)]);
    expect(await api().listLineItems(session.id as string)).toEqual({
      items: [
        { priceId: 'price_a', quantity: 3 },
        { priceId: 'price_b', quantity: 1 },
      ],
      complete: true,
    });
    expect(fake.requests[0]).toMatchObject({ path: `/v1/checkout/sessions/${session.id as string}/line_items`, query: { limit: '100' } });
  });

  it('when Stripe has more lines than one page, then incomplete', async () => {
    const session = checkoutSession();
    fake.setLineItems(session.id as string, Array.from({ length: 101 }, () => lineItem('price_a', 1)));
    const listed = await api().listLineItems(session.id as string);
    expect(listed.complete).toBe(false);
    expect(listed.items).toHaveLength(100);
  });

  it('when a line has no price or no quantity, then incomplete and that line is left out', async () => {
    const session = checkoutSession();
    fake.setLineItems(session.id as string, [lineItem('price_a', 2), { ...lineItem('price_b', 1), price: null }, { ...lineItem('price_c', 1), quantity: null }]);
    expect(await api().listLineItems(session.id as string)).toEqual({ items: [{ priceId: 'price_a', quantity: 2 }], complete: false });
  });

  it('when Stripe does not know the session, then StripeApiRejected (404, resource_missing)', async () => {
    const error = await failure(api().listLineItems('cs_test_unknown'));
    expect(error).toBeInstanceOf(StripeApiRejected);
    expect(error).toMatchObject({ status: 404, code: 'resource_missing', type: 'invalid_request_error' });
    expect(error.message).toContain("No such checkout.session: 'cs_test_unknown'");
  });
});

describe('retrieveCharge', () => {
  it('returns the charge as Stripe has it', async () => {
    const charge = { ...structuredClone(CHARGE), id: stripeId('ch'), amount_refunded: 500, refunded: false };
    fake.setCharge(charge);
    expect(await api().retrieveCharge(charge.id)).toEqual(charge);
    expect(fake.requests.map((r) => r.path)).toEqual([`/v1/charges/${charge.id}`]);
  });

  it('when Stripe does not know the charge, then StripeApiRejected (404)', async () => {
    const error = await failure(api().retrieveCharge('ch_unknown'));
    expect(error).toMatchObject({ name: 'StripeApiRejected', status: 404, code: 'resource_missing' });
  });
});

describe('helpers', () => {
  it('stripeApiAddress: host, port and protocol from STRIPE_API_BASE; nothing when unset', () => {
    expect(stripeApiAddress(undefined)).toEqual({});
    expect(stripeApiAddress('http://127.0.0.1:12111')).toEqual({ host: '127.0.0.1', port: '12111', protocol: 'http' });
    expect(stripeApiAddress('https://stripe.internal')).toEqual({ host: 'stripe.internal', port: '443', protocol: 'https' });
    expect(() => stripeApiAddress('ftp://x')).toThrow(TypeError);
  });

  it('parseRetryAfter: seconds or an HTTP date', () => {
    expect(parseRetryAfter('1')).toBe(1_000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 7_000)).toBe(3_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });

  it('redactKeys: the key itself and anything shaped like a Stripe key', () => {
    expect(redactKeys('Invalid API Key provided: sk_test_****abcd', 'x')).toBe('Invalid API Key provided: [redacted]');
    expect(redactKeys('key weird-key-value here', 'weird-key-value')).toBe('key [redacted] here');
    expect(redactKeys('rk_live_abc and pk_test_def', 'x')).toBe('[redacted] and [redacted]');
  });
});
