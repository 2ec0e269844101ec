/**
 * The webhook's limit on this machine: one node:http process that verifies the Stripe signature
 * and runs the product's purchase transaction (src/credits/checkout.ts, same statements in the same
 * order) with plain `pg`. No gRPC hop, no ORM, no framework, no logging.
 * Env: DATABASE_URL, STRIPE_WEBHOOK_SECRET, HTTP_PORT, DB_POOL_MAX. Prints {"ready":port} when listening.
 */
import pg from 'pg';
import { purchaseInTransaction, type Session } from './purchase-pg';
import { serveWebhook } from './webhook-http';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DB_POOL_MAX ?? 10) });

serveWebhook(
  process.env.STRIPE_WEBHOOK_SECRET ?? '',
  (event, rawBody, answer) =>
    void purchaseInTransaction(pool, { id: event.id, type: event.type, session: event.data.object as unknown as Session }, rawBody).then(
      (outcome) => answer(200, { received: true, outcome }),
      (error: unknown) => {
        console.error(error);
        answer(503, { error: 'unavailable' });
      },
    ),
  () => pool.end(),
);
