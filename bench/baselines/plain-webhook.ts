/**
 * The webhook's limit on this machine: one node:http process that verifies the Stripe signature
 * and runs the product's purchase transaction (src/credits/checkout.ts, same statements in the same
 * order) with plain `pg`. No gRPC hop, no ORM, no framework, no logging.
 * Env: DATABASE_URL, STRIPE_WEBHOOK_SECRET, HTTP_PORT, DB_POOL_MAX. Prints {"ready":port} when listening.
 */
import http from 'node:http';
import pg from 'pg';
import Stripe from 'stripe';
import { purchaseInTransaction, type Session } from './purchase-pg';

const secret = process.env.STRIPE_WEBHOOK_SECRET ?? '';
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DB_POOL_MAX ?? 10) });
const MAX_BODY = 1024 * 1024;

function answer(response: http.ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

const server = http.createServer((request, response) => {
  if (request.method === 'GET' && request.url === '/readyz') return answer(response, 200, { ready: true });
  if (request.method !== 'POST' || request.url !== '/webhooks/stripe') return answer(response, 404, { error: 'not found' });
  const chunks: Buffer[] = [];
  let size = 0;
  request.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_BODY) chunks.push(chunk);
  });
  request.on('end', () => {
    if (size > MAX_BODY) return answer(response, 413, { error: 'too large' });
    const rawBody = Buffer.concat(chunks).toString('utf8');
    let event: Stripe.Event;
    try {
      event = Stripe.webhooks.constructEvent(rawBody, request.headers['stripe-signature'] ?? '', secret);
    } catch {
      return answer(response, 400, { error: 'bad signature' });
    }
    purchaseInTransaction(pool, { id: event.id, type: event.type, session: event.data.object as unknown as Session }, rawBody).then(
      (outcome) => answer(response, 200, { received: true, outcome }),
      (error: unknown) => {
        console.error(error);
        answer(response, 503, { error: 'unavailable' });
      },
    );
  });
});

server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.HTTP_PORT ?? 0), '127.0.0.1', () => {
  console.log(JSON.stringify({ ready: (server.address() as { port: number }).port }));
});

const stop = () => {
  server.close(() => void pool.end().then(() => process.exit(0)));
  server.closeAllConnections();
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
