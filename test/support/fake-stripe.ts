import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeStripeRequest {
  method: string;
  path: string;
  authorization: string | undefined;
}

export interface FakeStripe {
  /** The API base to give STRIPE_API_BASE. */
  url: string;
  requests: FakeStripeRequest[];
  /** What GET /v1/checkout/sessions/:id/line_items lists for that session. */
  setLineItems(sessionId: string, items: Record<string, unknown>[]): void;
  /** Answer every request with this HTTP status (a Stripe api_error) until called with undefined. */
  failWith(status: number | undefined): void;
  close(): Promise<void>;
}

const LINE_ITEMS_PATH = /^\/v1\/checkout\/sessions\/([^/]+)\/line_items$/;

/** The one Stripe API endpoint the edge uses, on loopback, answering as api.stripe.com does. */
export async function startFakeStripe(): Promise<FakeStripe> {
  const lineItems = new Map<string, Record<string, unknown>[]>();
  const requests: FakeStripeRequest[] = [];
  let failure: number | undefined;

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake-stripe');
    requests.push({ method: req.method ?? '', path: url.pathname, authorization: req.headers.authorization });
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_fake_${requests.length}` });
      res.end(JSON.stringify(body));
    };
    if (failure !== undefined) {
      send(failure, { error: { type: 'api_error', message: 'fake Stripe is failing on purpose' } });
      return;
    }
    const match = LINE_ITEMS_PATH.exec(url.pathname);
    const items = match && lineItems.get(decodeURIComponent(match[1]!));
    if (req.method !== 'GET' || !items) {
      send(404, { error: { type: 'invalid_request_error', message: `No such checkout.session: '${match?.[1] ?? ''}'` } });
      return;
    }
    send(200, { object: 'list', data: items, has_more: false, url: url.pathname });
  });
  await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1' }, resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    setLineItems: (sessionId, items) => lineItems.set(sessionId, items),
    failWith: (status) => {
      failure = status;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
