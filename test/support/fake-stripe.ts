import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { invalidRequest, listEvents, type FakeAnswer, type StoredEvent } from './fake-stripe-events';

/** The key tests give STRIPE_SECRET_KEY unless they start the fake with another. */
export const FAKE_STRIPE_KEY = 'sk_test_fake_0123456789';

export interface FakeStripeRequest {
  method: string;
  path: string;
  /** Decoded query parameters; a repeated name gives an array. */
  query: Record<string, string | string[]>;
  authorization: string | undefined;
}

export interface FakeStripeOptions {
  /** The only key the fake accepts as `Authorization: Bearer <key>`; FAKE_STRIPE_KEY by default. */
  secretKey?: string;
}

export interface FakeStripe {
  /** The API base to give STRIPE_API_BASE. */
  url: string;
  secretKey: string;
  requests: FakeStripeRequest[];
  /** What GET /v1/checkout/sessions/:id/line_items lists for that session. */
  setLineItems(sessionId: string, items: Record<string, unknown>[]): void;
  /** An event GET /v1/events lists; `delivered: false` (default true) marks it undelivered for delivery_success. */
  addEvent(event: Record<string, unknown>, options?: { delivered?: boolean }): void;
  /** What GET /v1/charges/:id answers for `charge.id`. */
  setCharge(charge: Record<string, unknown>): void;
  /** Answer every request with this HTTP status (a Stripe api_error) until called with undefined. */
  failWith(status: number | undefined): void;
  /** Answer only the next `count` requests with this status (and headers, e.g. { 'retry-after': '1' }). */
  failNext(count: number, status: number, headers?: Record<string, string>): void;
  /** Never answer the next `count` requests (the client's timeout ends them). */
  stallNext(count: number): void;
  close(): Promise<void>;
}

const LINE_ITEMS_PATH = /^\/v1\/checkout\/sessions\/([^/]+)\/line_items$/;
const CHARGE_PATH = /^\/v1\/charges\/([^/]+)$/;

function queryOf(params: URLSearchParams): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of params) {
    const seen = query[key];
    query[key] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
  }
  return query;
}

function failure(status: number): unknown {
  if (status === 429) {
    return { error: { type: 'invalid_request_error', code: 'rate_limit', message: 'Too many requests hit the API too quickly.' } };
  }
  return { error: { type: 'api_error', message: 'fake Stripe is failing on purpose' } };
}

// As Stripe quotes a wrong key back: its prefix and last four characters.
const masked = (key: string) => `${key.slice(0, 8)}${'*'.repeat(Math.max(0, key.length - 12))}${key.slice(-4)}`;

/** The Stripe API endpoints the project uses, on loopback, answering as api.stripe.com does. */
export async function startFakeStripe(options: FakeStripeOptions = {}): Promise<FakeStripe> {
  const secretKey = options.secretKey ?? FAKE_STRIPE_KEY;
  const lineItems = new Map<string, Record<string, unknown>[]>();
  const events = new Map<string, StoredEvent>();
  const charges = new Map<string, Record<string, unknown>>();
  const requests: FakeStripeRequest[] = [];
  let persistentFailure: number | undefined;
  const nextFailures: { status: number; headers: Record<string, string> }[] = [];
  let stalls = 0;
  let seq = 0;

  const route = (method: string, path: string, params: URLSearchParams, authorization: string | undefined): FakeAnswer => {
    if (authorization !== `Bearer ${secretKey}`) {
      const given = authorization?.replace(/^Bearer /, '');
      return invalidRequest(401, given ? `Invalid API Key provided: ${masked(given)}` : 'You did not provide an API key.');
    }
    if (method === 'GET' && path === '/v1/events') return listEvents(events.values(), params);

    const lines = LINE_ITEMS_PATH.exec(path);
    if (method === 'GET' && lines) {
      const sessionId = decodeURIComponent(lines[1]!);
      const items = lineItems.get(sessionId);
      if (!items) return invalidRequest(404, `No such checkout.session: '${sessionId}'`, { code: 'resource_missing', param: 'id' });
      const limit = Number(params.get('limit') ?? 10);
      return { status: 200, body: { object: 'list', data: items.slice(0, limit), has_more: items.length > limit, url: path } };
    }

    const charge = CHARGE_PATH.exec(path);
    if (method === 'GET' && charge) {
      const chargeId = decodeURIComponent(charge[1]!);
      const found = charges.get(chargeId);
      return found ? { status: 200, body: found } : invalidRequest(404, `No such charge: '${chargeId}'`, { code: 'resource_missing', param: 'id' });
    }
    return invalidRequest(404, `Unrecognized request URL (${method}: ${path}).`);
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake-stripe');
    const method = req.method ?? '';
    requests.push({ method, path: url.pathname, query: queryOf(url.searchParams), authorization: req.headers.authorization });
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_fake_${requests.length}`, ...headers });
      res.end(JSON.stringify(body));
    };
    if (stalls > 0) {
      stalls -= 1;
      return; // never answered; close() ends the connection
    }
    const next = nextFailures.shift();
    if (next) return send(next.status, failure(next.status), next.headers);
    if (persistentFailure !== undefined) return send(persistentFailure, failure(persistentFailure));
    const answer = route(method, url.pathname, url.searchParams, req.headers.authorization);
    send(answer.status, answer.body);
  });
  await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1' }, resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    secretKey,
    requests,
    setLineItems: (sessionId, items) => lineItems.set(sessionId, items),
    addEvent: (event, { delivered = true } = {}) => {
      const { id, created, type } = event;
      if (typeof id !== 'string' || typeof created !== 'number' || typeof type !== 'string') {
        throw new TypeError('fake Stripe: an event needs a string id, a number created and a string type');
      }
      if (events.has(id)) throw new Error(`fake Stripe: event ${id} was already added`);
      events.set(id, { event: { ...event, id, created, type }, delivered, seq: seq++ });
    },
    setCharge: (charge) => {
      if (typeof charge.id !== 'string') throw new TypeError('fake Stripe: a charge needs a string id');
      charges.set(charge.id, charge);
    },
    failWith: (status) => {
      persistentFailure = status;
    },
    failNext: (count, status, headers = {}) => {
      for (let i = 0; i < count; i += 1) nextFailures.push({ status, headers });
    },
    stallNext: (count) => {
      stalls += count;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
