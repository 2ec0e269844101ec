import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { HTTP_TIMEOUT_DEFAULTS, type Config } from '../config.js';

export type HttpTimeouts = Config['http']['timeouts'];

export interface HttpServerHandle {
  server: http.Server;
  port: number;
  /** Stops accepting, lets requests in flight finish for up to graceMs, then cuts the rest. */
  close(graceMs: number): Promise<void>;
}

/**
 * How often Node looks for requests past headersTimeout / requestTimeout. Node checks only on this
 * interval (30 s by default), so a limit is really "limit + up to one interval": a quarter of the
 * shortest limit, at most 1 s, keeps the documented limits the real ones.
 */
export function connectionsCheckingIntervalFor(timeouts: HttpTimeouts): number {
  return Math.max(25, Math.min(1_000, Math.floor(Math.min(timeouts.headersMs, timeouts.requestMs) / 4)));
}

const awaitingContinue = new WeakSet<http.IncomingMessage>();

/**
 * Sends `100 Continue` to a client that asked for it (`Expect: 100-continue`) and is still waiting.
 * The server holds it back so that the app can refuse a request from its headers alone, before
 * the client sends the body; a route that reads the body calls this first. No-op otherwise.
 */
export function continueIfAwaited(req: http.IncomingMessage, res: http.ServerResponse): void {
  if (awaitingContinue.delete(req)) res.writeContinue();
}

export async function listenHttp(
  app: Express,
  options: { port: number; host?: string | undefined; timeouts?: HttpTimeouts },
): Promise<HttpServerHandle> {
  // Explicit limits: a slow or stalled client must not hold a socket forever.
  const timeouts = options.timeouts ?? HTTP_TIMEOUT_DEFAULTS;
  const server = http.createServer(
    {
      headersTimeout: timeouts.headersMs,
      requestTimeout: timeouts.requestMs,
      keepAliveTimeout: timeouts.keepAliveMs,
      connectionsCheckingInterval: connectionsCheckingIntervalFor(timeouts),
    },
    app,
  );
  // An idle keep-alive socket really closes about 1 s after keepAliveTimeout: Node's own margin, so
  // a client that honours the `Keep-Alive: timeout=N` it is sent never reuses a closing socket.
  server.setTimeout(timeouts.idleMs);
  server.on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) => {
    awaitingContinue.add(req);
    server.emit('request', req, res);
  });
  const inFlight = new Set<http.ServerResponse>();
  server.on('request', (_req, res: http.ServerResponse) => {
    inFlight.add(res);
    res.once('close', () => inFlight.delete(res));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port, host: options.host }, () => {
      server.off('error', reject);
      resolve();
    });
  });

  let closing: Promise<void> | undefined;
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: (graceMs) =>
      (closing ??= new Promise<void>((resolve) => {
        // Otherwise a keep-alive socket outlives its last response and holds close() until the client hangs up.
        for (const res of inFlight) if (!res.headersSent) res.setHeader('connection', 'close');
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
        // close() also ends idle keep-alive connections; busy ones end after their response.
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
      })),
  };
}
