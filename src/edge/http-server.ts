import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

export interface HttpServerHandle {
  server: http.Server;
  port: number;
  /** Stops accepting, lets requests in flight finish for up to graceMs, then cuts the rest. */
  close(graceMs: number): Promise<void>;
}

// Explicit limits: a slow or stalled client must not hold a socket forever.
const TIMEOUTS = {
  headersTimeout: 10_000,
  requestTimeout: 30_000,
  keepAliveTimeout: 5_000,
  socketIdle: 60_000,
};

export async function listenHttp(app: Express, options: { port: number; host?: string }): Promise<HttpServerHandle> {
  const server = http.createServer(app);
  server.headersTimeout = TIMEOUTS.headersTimeout;
  server.requestTimeout = TIMEOUTS.requestTimeout;
  server.keepAliveTimeout = TIMEOUTS.keepAliveTimeout;
  server.setTimeout(TIMEOUTS.socketIdle);
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
