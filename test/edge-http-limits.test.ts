import http from 'node:http';
import net from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { listenHttp } from '../src/edge/http-server.js';
import { startEdgeRuntime, type EdgeRuntime } from '../src/app/edge.js';
import { startCreditsHarness, TEST_TOKEN, type CreditsHarness } from './support/credits-harness.js';
import { deliver, sign, WEBHOOK_SECRET } from './support/edge-harness.js';
import { captureLogs } from './support/log-capture.js';
import { sendRaw } from './support/raw-http.js';
import { stripeEvent, stripeId } from './support/stripe-events.js';

// Small limits keep the test short; the mechanism is the one the defaults (10 s / 30 s / 5 s) use.
const HEADERS_MS = 1_000;
const REQUEST_MS = 2_000;
const KEEP_ALIVE_MS = 1_000;
// How late a cut may come on a loaded 2-core machine: Node checks every 250 ms here (a quarter of
// the headers timeout), plus scheduling delays. With Node's default 30 s check it came up to 30 s late.
const LATE_MS = 1_500;
// The server's clock starts when it accepts the connection, a moment before the client sees 'connect'.
const EARLY_MS = 150;
// Node closes an idle keep-alive socket 1 s after keepAliveTimeout (its margin against reuse races).
const NODE_KEEP_ALIVE_MARGIN_MS = 1_000;

const MIB = 1024 * 1024;

let h: CreditsHarness;

beforeAll(async () => {
  h = await startCreditsHarness();
});
afterAll(async () => {
  await h?.close();
});

interface Edge {
  url: string;
  port: number;
  opsUrl: string | undefined;
  logs: ReturnType<typeof captureLogs>;
  close(): Promise<void>;
}

async function startEdge(env: Record<string, string> = {}): Promise<Edge> {
  const logs = captureLogs();
  const config = loadConfig({
    NODE_ENV: 'test',
    HTTP_PORT: '0',
    HTTP_HOST: '127.0.0.1',
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    CREDITS_API_TOKEN: TEST_TOKEN,
    CREDITS_GRPC_DEADLINE_MS: '3000',
    SHUTDOWN_GRACE_MS: '1000',
    ...env,
  });
  const edge: EdgeRuntime = await startEdgeRuntime({ config, logger: logs.logger, creditsUrl: h.address });
  return {
    url: `http://127.0.0.1:${edge.port}`,
    port: edge.port,
    opsUrl: edge.opsPort === undefined ? undefined : `http://127.0.0.1:${edge.opsPort}`,
    logs,
    close: () => edge.close(),
  };
}

/** A bare TCP connection: what was received, and when the server closed it (ms after connect). */
interface RawConnection {
  socket: net.Socket;
  /** Milliseconds since the connection was established. */
  elapsed(): number;
  received(): string;
  /** When the first byte from the server arrived, ms after connect. */
  firstByte: Promise<number>;
  /** When the server closed the connection, ms after connect. */
  closed: Promise<number>;
}

async function connect(port: number): Promise<RawConnection> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  socket.on('error', () => {}); // a reset is one of the ways a cut shows; `closed` still resolves
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  const start = performance.now();
  const elapsed = () => Math.round(performance.now() - start);
  let text = '';
  const firstByte = new Promise<number>((resolve) => socket.once('data', () => resolve(elapsed())));
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(elapsed())));
  return { socket, elapsed, received: () => text, firstByte, closed };
}

/** Writes `piece()` every `everyMs` until the connection closes; returns how many pieces went out. */
function trickle(connection: RawConnection, everyMs: number, piece: (n: number) => string): { sent(): number } {
  let n = 0;
  const timer = setInterval(() => {
    if (connection.socket.destroyed || !connection.socket.writable) return;
    connection.socket.write(piece(n++));
  }, everyMs);
  void connection.closed.then(() => clearInterval(timer));
  return { sent: () => n };
}

const statusLine = (text: string) => text.split('\r\n', 1)[0];

function headerOf(text: string, name: string): string | undefined {
  const head = text.split('\r\n\r\n', 1)[0] ?? '';
  const line = head.split('\r\n').find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim();
}

async function storedEvents(): Promise<number> {
  const { rows } = await h.sql.query('SELECT count(*)::int AS n FROM stripe_events');
  return rows[0].n;
}

describe('the edge HTTP server enforces its configured timeouts', () => {
  let edge: Edge;
  beforeAll(async () => {
    edge = await startEdge({
      HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_MS),
      HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_MS),
      HTTP_KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_MS),
    });
  });
  afterAll(async () => {
    await edge?.close();
  });

  it('when a client trickles its headers, then it is answered 408 and cut at the headers timeout', async () => {
    const connection = await connect(edge.port);
    connection.socket.write(`POST /webhooks/stripe HTTP/1.1\r\nHost: edge\r\nContent-Type: application/json\r\n`);
    // A header line every 100 ms: the connection is never idle, the headers are never complete.
    const slow = trickle(connection, 100, (n) => `X-Slow-${n}: still coming\r\n`);
    const cutAt = await connection.closed;
    expect(statusLine(connection.received())).toBe('HTTP/1.1 408 Request Timeout');
    expect(cutAt).toBeGreaterThanOrEqual(HEADERS_MS - EARLY_MS);
    expect(cutAt).toBeLessThanOrEqual(HEADERS_MS + LATE_MS);
    expect(slow.sent()).toBeGreaterThan(3); // the client was still sending when it was cut
  });

  it('when a connection opens and sends nothing, then it is cut at the headers timeout', async () => {
    const connection = await connect(edge.port);
    const cutAt = await connection.closed;
    expect(statusLine(connection.received())).toBe('HTTP/1.1 408 Request Timeout');
    expect(cutAt).toBeGreaterThanOrEqual(HEADERS_MS - EARLY_MS);
    expect(cutAt).toBeLessThanOrEqual(HEADERS_MS + LATE_MS);
  });

  it('when a client trickles its body, then it is answered 408 and cut at the request timeout, and nothing is stored', async () => {
    const before = await storedEvents();
    const connection = await connect(edge.port);
    const { signature } = sign('{}');
    connection.socket.write(
      `POST /webhooks/stripe HTTP/1.1\r\nHost: edge\r\nContent-Type: application/json\r\nStripe-Signature: ${signature}\r\nContent-Length: 1000\r\n\r\n{`,
    );
    // One byte every 100 ms: never idle, the 1000 bytes would take 100 s.
    const slow = trickle(connection, 100, () => ' ');
    const cutAt = await connection.closed;
    expect(statusLine(connection.received())).toBe('HTTP/1.1 408 Request Timeout');
    expect(cutAt).toBeGreaterThanOrEqual(REQUEST_MS - EARLY_MS);
    expect(cutAt).toBeLessThanOrEqual(REQUEST_MS + LATE_MS);
    expect(slow.sent()).toBeGreaterThan(10);
    expect(await storedEvents()).toBe(before);
    expect(edge.logs.text()).not.toMatch(/"level":50/); // no error logged for a client that was too slow
  });

  it('when a keep-alive connection stays idle after its answer, then it is closed after the keep-alive timeout', async () => {
    const connection = await connect(edge.port);
    connection.socket.write('GET /healthz HTTP/1.1\r\nHost: edge\r\n\r\n');
    const answeredAt = await connection.firstByte;
    const closedAt = await connection.closed;
    expect(statusLine(connection.received())).toBe('HTTP/1.1 200 OK');
    expect(headerOf(connection.received(), 'keep-alive')).toBe(`timeout=${KEEP_ALIVE_MS / 1000}`);
    const idle = closedAt - answeredAt;
    expect(idle).toBeGreaterThanOrEqual(KEEP_ALIVE_MS - EARLY_MS);
    expect(idle).toBeLessThanOrEqual(KEEP_ALIVE_MS + NODE_KEEP_ALIVE_MARGIN_MS + LATE_MS);
  });

  it('when requests come in time, then the limits do not get in the way', async () => {
    const answer = await deliver(edge.url, stripeEvent('customer.created', { object: 'customer', id: stripeId('cus') }));
    expect(answer).toMatchObject({ status: 200, body: { received: true, outcome: 'ignored' } });
  });
});

describe('the idle timeout (HTTP_IDLE_TIMEOUT_MS)', () => {
  it('when an answer stalls, then the socket is closed once nothing has moved for the idle timeout', async () => {
    const app = express();
    app.get('/stalls', () => {}); // never answers
    const server = await listenHttp(app, {
      port: 0,
      host: '127.0.0.1',
      timeouts: { headersMs: HEADERS_MS, requestMs: REQUEST_MS, keepAliveMs: KEEP_ALIVE_MS, idleMs: 1_500 },
    });
    try {
      const connection = await connect(server.port);
      connection.socket.write('GET /stalls HTTP/1.1\r\nHost: edge\r\n\r\n');
      const cutAt = await connection.closed;
      expect(connection.received()).toBe(''); // the request was complete: no 408, just the cut
      expect(cutAt).toBeGreaterThanOrEqual(1_500 - EARLY_MS);
      expect(cutAt).toBeLessThanOrEqual(1_500 + LATE_MS);
    } finally {
      await server.close(100);
    }
  });
});

describe('a body over 1 MiB', () => {
  let edge: Edge;
  beforeAll(async () => {
    // The default timeouts: a 413 that only came from a timeout would not come within this test.
    edge = await startEdge();
  });
  afterAll(async () => {
    await edge?.close();
  });

  const oversizeHead = (extra = '') =>
    `POST /webhooks/stripe HTTP/1.1\r\nHost: edge\r\nContent-Type: application/json\r\nStripe-Signature: ${sign('{}').signature}\r\n` +
    `Content-Length: ${2 * MIB}\r\n${extra}\r\n`;

  it('when its Content-Length is declared, then 413 BODY_TOO_LARGE comes before a byte of it is sent, and the connection is closed', async () => {
    const before = await storedEvents();
    const connection = await connect(edge.port);
    connection.socket.write(oversizeHead()); // headers only: the 2 MiB are never sent
    const closedAt = await connection.closed;
    const text = connection.received();
    expect(statusLine(text)).toBe('HTTP/1.1 413 Payload Too Large');
    expect(headerOf(text, 'connection')).toBe('close');
    expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toEqual({ error: { code: 'BODY_TOO_LARGE', message: 'body exceeds 1 MiB' } });
    // Well before the 30 s request timeout that would otherwise end a request whose body never comes.
    expect(closedAt).toBeLessThan(10_000);
    expect(connection.socket.bytesWritten).toBe(Buffer.byteLength(oversizeHead()));
    expect(await storedEvents()).toBe(before);
    const metrics = await (await fetch(`${edge.url}/metrics`)).text();
    expect(metrics).toMatch(/edge_webhooks_total\{[^}]*outcome="body_too_large"[^}]*status="413"[^}]*\} [1-9]/);
  });

  it('when the client asked for 100-continue, then the 413 comes instead of a 100 Continue', async () => {
    const connection = await connect(edge.port);
    connection.socket.write(oversizeHead('Expect: 100-continue\r\n'));
    await connection.closed;
    expect(connection.received()).not.toContain('100 Continue');
    expect(statusLine(connection.received())).toBe('HTTP/1.1 413 Payload Too Large');
  });

  it('when the client asked for 100-continue for a body within the limit, then it is told to continue and the event is handled', async () => {
    const { payload, signature } = sign(JSON.stringify(stripeEvent('customer.created', { object: 'customer', id: stripeId('cus') })));
    const connection = await connect(edge.port);
    connection.socket.write(
      `POST /webhooks/stripe HTTP/1.1\r\nHost: edge\r\nConnection: close\r\nContent-Type: application/json\r\nStripe-Signature: ${signature}\r\n` +
        `Content-Length: ${Buffer.byteLength(payload)}\r\nExpect: 100-continue\r\n\r\n`,
    );
    await connection.firstByte;
    expect(connection.received()).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\n/);
    connection.socket.write(payload);
    await connection.closed;
    expect(connection.received()).toContain('HTTP/1.1 200 OK');
    expect(connection.received()).toContain('"outcome":"ignored"');
  });

  it('when it is chunked, without a Content-Length, then the body parser still stops it with 413', async () => {
    const { payload, signature } = sign(JSON.stringify({ ...stripeEvent('customer.created', { object: 'customer', id: stripeId('cus') }), padding: 'x'.repeat(MIB) }));
    const agent = new http.Agent({ keepAlive: false });
    try {
      const answer = await sendRaw(edge.url, agent, {
        method: 'POST',
        path: '/webhooks/stripe',
        headers: { 'content-type': 'application/json', 'stripe-signature': signature },
        body: payload,
        chunked: true,
      });
      expect(answer.status).toBe(413);
      expect(JSON.parse(answer.body)).toEqual({ error: { code: 'BODY_TOO_LARGE', message: 'body exceeds 1 MiB' } });
    } finally {
      agent.destroy();
    }
  });
});

describe('a separate ops listener (HTTP_OPS_PORT)', () => {
  let edge: Edge;
  beforeAll(async () => {
    edge = await startEdge({ HTTP_OPS_PORT: '0', HTTP_OPS_HOST: '127.0.0.1' });
  });
  afterAll(async () => {
    await edge?.close();
  });

  const get = async (base: string, path: string) => {
    const response = await fetch(`${base}${path}`);
    return { status: response.status, type: response.headers.get('content-type') ?? '', text: await response.text() };
  };

  it('when set, then /metrics, /docs and /openapi.json are served there and are 404 on the webhook port', async () => {
    const opsUrl = edge.opsUrl!;
    expect(opsUrl).toBeDefined();
    expect(edge.opsUrl).not.toBe(edge.url);
    for (const path of ['/metrics', '/docs', '/openapi.json']) {
      expect(await get(opsUrl, path)).toMatchObject({ status: 200 });
      const onWebhookPort = await get(edge.url, path);
      expect(onWebhookPort.status).toBe(404);
      expect(JSON.parse(onWebhookPort.text)).toEqual({ error: { code: 'NOT_FOUND', message: 'no such route' } });
    }
    expect((await get(opsUrl, '/metrics')).text).toContain('edge_webhooks_total');
    expect((await get(opsUrl, '/docs')).type).toContain('text/html');
  });

  it('when set, then /healthz and /readyz answer on both ports', async () => {
    for (const base of [edge.url, edge.opsUrl!]) {
      expect(await get(base, '/healthz')).toMatchObject({ status: 200, text: '{"status":"alive"}' });
      expect(await get(base, '/readyz')).toMatchObject({ status: 200, text: '{"status":"ready"}' });
    }
  });

  it('when set, then webhooks are handled on the webhook port only, and the ops port counts them', async () => {
    const event = stripeEvent('customer.created', { object: 'customer', id: stripeId('cus') });
    expect(await deliver(edge.url, event)).toMatchObject({ status: 200, body: { received: true, outcome: 'ignored' } });
    expect(await deliver(edge.opsUrl!, event)).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
    expect((await get(edge.opsUrl!, '/metrics')).text).toMatch(/edge_webhooks_total\{event_type="customer.created",outcome="ignored",status="200"\} 1/);
  });

  it('when unset, then /metrics and /docs stay on the webhook port', async () => {
    const plain = await startEdge();
    try {
      expect(plain.opsUrl).toBeUndefined();
      expect((await get(plain.url, '/metrics')).status).toBe(200);
      expect((await get(plain.url, '/docs')).status).toBe(200);
    } finally {
      await plain.close();
    }
  });
});
