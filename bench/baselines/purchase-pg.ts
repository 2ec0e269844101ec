/**
 * The product's purchase transaction (src/credits/checkout.ts through the repositories in src/db/:
 * the same statements in the same order) on plain `pg`, shared by the baselines that run it:
 * plain-webhook.ts (one process) and design-credits.ts (the two-process design limit).
 */
import type pg from 'pg';

const USER_COLUMNS = 'id, uuid, email, credits_balance';
// The class of the product's PaymentIntent lock (src/db/advisory-lock.ts).
const PAYMENT_INTENT_LOCK_CLASS = 1885957748;

export interface Session {
  id: string;
  mode?: string;
  payment_status?: string;
  customer?: string | null;
  customer_details?: { email?: string | null } | null;
  customer_email?: string | null;
  metadata?: Record<string, string>;
  payment_intent?: string | null;
}

/** What the transaction needs of a Stripe event: its id and type and the Checkout Session. */
export interface PurchaseEvent {
  id: string;
  type: string;
  session: Session;
}

interface UserRow {
  id: string;
}

/**
 * Runs one statement with `$n` placeholders, each used once and in order (so a runner may turn them
 * into `?`): plain pg, knex or MikroORM's connection, which the CPU probe compares.
 */
export type Run = <Row = Record<string, unknown>>(sql: string, values: unknown[]) => Promise<{ rows: Row[] }>;

async function findOrCreateUser(run: Run, session: Session): Promise<(UserRow & { byCustomer?: boolean }) | undefined> {
  if (session.customer) {
    const byCustomer = await run<UserRow>(
      `SELECT ${USER_COLUMNS} FROM users WHERE id = (SELECT user_id FROM stripe_customers WHERE customer_id = $1) LIMIT 1`,
      [session.customer],
    );
    if (byCustomer.rows[0]) return { ...byCustomer.rows[0], byCustomer: true };
  }
  const email = session.customer_details?.email || session.customer_email;
  if (!email) return undefined;
  // The product's normalization (NFKC, trim, lower case) is the identity for the ASCII emails the bench sends.
  const key = email.normalize('NFKC').trim().toLowerCase();
  const existing = await run<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE email_normalized = $1 LIMIT 1`, [key]);
  if (existing.rows[0]) return existing.rows[0];
  const inserted = await run<UserRow>(
    `INSERT INTO users (email, email_normalized) VALUES ($1, $2) ON CONFLICT (email_normalized) DO NOTHING RETURNING ${USER_COLUMNS}`,
    [email, key],
  );
  if (inserted.rows[0]) return inserted.rows[0];
  const winner = await run<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE email_normalized = $1 LIMIT 1`, [key]);
  return winner.rows[0];
}

/** The purchase's statements, in the product's order; the caller opens and ends the transaction. */
export async function runPurchase(run: Run, event: PurchaseEvent, rawBody: string): Promise<string> {
  const { session } = event;
  const paymentIntent = session.payment_intent || null;
  const claimed = await run<{ status: string }>(
    `INSERT INTO stripe_events (event_id, event_type, status, checkout_session_id, payload, line_items, source, payment_intent)
     VALUES ($1, $2, 'processing', $3, $4::jsonb, NULL, 'webhook', $5)
     ON CONFLICT (event_id) DO UPDATE SET attempts = stripe_events.attempts + 1,
       line_items = coalesce(stripe_events.line_items, EXCLUDED.line_items),
       payment_intent = coalesce(stripe_events.payment_intent, EXCLUDED.payment_intent)
     RETURNING status, user_id, line_items, payment_intent`,
    [event.id, event.type, session.id, rawBody, paymentIntent],
  );
  if (claimed.rows[0]?.status === 'completed') return 'duplicate';
  const credits = Number(session.metadata?.credits);
  if (event.type !== 'checkout.session.completed' || session.mode !== 'payment' || session.payment_status !== 'paid' || !(credits > 0)) {
    throw new Error('the plain baseline only handles paid credit purchases');
  }
  if (paymentIntent) await run('SELECT pg_advisory_xact_lock($1::int, hashtext($2))', [PAYMENT_INTENT_LOCK_CLASS, paymentIntent]);
  const user = await findOrCreateUser(run, session);
  if (!user) throw new Error('no user');
  if (session.customer && !user.byCustomer) {
    await run(
      `WITH link AS (INSERT INTO stripe_customers (customer_id, user_id) VALUES ($1, $2) ON CONFLICT (customer_id) DO NOTHING RETURNING user_id)
       SELECT user_id, true AS inserted FROM link
       UNION ALL SELECT user_id, false FROM stripe_customers WHERE customer_id = $3 AND NOT EXISTS (SELECT 1 FROM link)`,
      [session.customer, user.id, session.customer],
    );
  }
  await run('SELECT credits_balance FROM users WHERE id = $1 FOR UPDATE', [user.id]);
  const credited = await run(
    `WITH current AS (SELECT id, credits_balance FROM users WHERE id = $1 FOR UPDATE),
     entry AS (
       INSERT INTO credit_transactions (user_id, amount, kind, checkout_session_id, stripe_event_id, created_by, payment_intent, balance_after)
       SELECT current.id, $2::bigint, 'purchase', $3, $4, 'webhook', $5, current.credits_balance + $6::bigint FROM current
       ON CONFLICT DO NOTHING RETURNING id, user_id, balance_after
     )
     UPDATE users SET credits_balance = entry.balance_after, updated_at = now()
     FROM entry WHERE users.id = entry.user_id RETURNING users.id, entry.id AS entry_id`,
    [user.id, credits, session.id, event.id, paymentIntent, credits],
  );
  const outcome = credited.rows.length > 0 ? 'applied' : 'duplicate';
  if (outcome === 'applied' && paymentIntent) {
    // The refunds and disputes that came before their purchase: none in the bench, but the product looks.
    await run(
      `SELECT payload FROM stripe_events WHERE payment_intent = $1 AND status = 'pending'
         AND event_type IN ('charge.refunded', 'charge.dispute.created', 'charge.dispute.closed') ORDER BY id FOR UPDATE SKIP LOCKED`,
      [paymentIntent],
    );
  }
  await run(
    `UPDATE stripe_events SET status = $1, outcome = $2, error_message = $3, user_id = $4, processed_at = now(),
       payment_intent = coalesce(payment_intent, $5) WHERE event_id = $6`,
    ['completed', outcome, null, user.id, paymentIntent, event.id],
  );
  return outcome;
}

/** A Run on one pg client (pool connection or plain client), with bound parameters. */
export function pgRunner(client: pg.ClientBase): Run {
  return async <Row>(sql: string, values: unknown[]) => ({ rows: (await client.query(sql, values)).rows as Row[] });
}

const RETRYABLE = new Set(['40001', '40P01']);

/** The purchase in one transaction on a pooled connection, retried on serialization failures and deadlocks as the product does. */
export async function purchaseInTransaction(pool: pg.Pool, event: PurchaseEvent, rawBody: string): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const outcome = await runPurchase(pgRunner(client), event, rawBody);
      await client.query('COMMIT');
      return outcome;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      if (attempt < 3 && RETRYABLE.has((error as { code?: string }).code ?? '')) continue;
      throw error;
    } finally {
      client.release();
    }
  }
}
