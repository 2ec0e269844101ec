/**
 * The product's purchase transaction (src/credits/checkout.ts through the repositories in src/db/:
 * the same statements in the same order) on plain `pg`, shared by the baselines that run it:
 * plain-webhook.ts (one process) and design-credits.ts (the two-process design limit).
 */
import type pg from 'pg';

const USER_COLUMNS = 'id, uuid, email, credits_balance, stripe_customer_id';

export interface Session {
  id: string;
  mode?: string;
  payment_status?: string;
  customer?: string | null;
  customer_details?: { email?: string | null } | null;
  customer_email?: string | null;
  metadata?: Record<string, string>;
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

async function findOrCreateUser(client: pg.PoolClient, session: Session): Promise<(UserRow & { byCustomer?: boolean }) | undefined> {
  if (session.customer) {
    const byCustomer = await client.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE stripe_customer_id = $1 ORDER BY id LIMIT 1`, [session.customer]);
    if (byCustomer.rows[0]) return { ...byCustomer.rows[0], byCustomer: true };
  }
  const email = session.customer_details?.email || session.customer_email;
  if (!email) return undefined;
  const existing = await client.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE lower(email) = lower($1) LIMIT 1`, [email]);
  if (existing.rows[0]) return existing.rows[0];
  const inserted = await client.query<UserRow>(
    `INSERT INTO users (email) VALUES ($1) ON CONFLICT ((lower(email))) DO NOTHING RETURNING ${USER_COLUMNS}`,
    [email],
  );
  if (inserted.rows[0]) return inserted.rows[0];
  const winner = await client.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE lower(email) = lower($1) LIMIT 1`, [email]);
  return winner.rows[0];
}

async function purchase(client: pg.PoolClient, event: PurchaseEvent, rawBody: string): Promise<string> {
  const { session } = event;
  const claimed = await client.query<{ status: string }>(
    `INSERT INTO stripe_events (event_id, event_type, status, checkout_session_id, payload)
     VALUES ($1, $2, 'processing', $3, $4::jsonb)
     ON CONFLICT (event_id) DO UPDATE SET attempts = stripe_events.attempts + 1
     RETURNING status, outcome, user_id`,
    [event.id, event.type, session.id, rawBody],
  );
  if (claimed.rows[0]?.status === 'completed') return 'duplicate';
  const credits = Number(session.metadata?.credits);
  if (event.type !== 'checkout.session.completed' || session.mode !== 'payment' || session.payment_status !== 'paid' || !(credits > 0)) {
    throw new Error('the plain baseline only handles paid credit purchases');
  }
  const user = await findOrCreateUser(client, session);
  if (!user) throw new Error('no user');
  if (session.customer && !user.byCustomer) {
    await client.query('UPDATE users SET stripe_customer_id = $1 WHERE id = $2 AND stripe_customer_id IS NULL', [session.customer, user.id]);
  }
  const credited = await client.query(
    `WITH ledger AS (
       INSERT INTO credit_transactions (user_id, amount, kind, checkout_session_id, stripe_event_id)
       VALUES ($1, $2, 'purchase', $3, $4) ON CONFLICT (checkout_session_id) DO NOTHING RETURNING user_id, amount
     )
     UPDATE users SET credits_balance = users.credits_balance + ledger.amount, updated_at = now()
     FROM ledger WHERE users.id = ledger.user_id RETURNING users.id`,
    [user.id, credits, session.id, event.id],
  );
  const outcome = credited.rowCount ? 'applied' : 'duplicate';
  await client.query(
    `UPDATE stripe_events SET status = $1, outcome = $2, error_message = $3, user_id = $4, processed_at = now() WHERE event_id = $5`,
    ['completed', outcome, null, user.id, event.id],
  );
  return outcome;
}

const RETRYABLE = new Set(['40001', '40P01']);

/** The purchase in one transaction on a pooled connection, retried on serialization failures and deadlocks as the product does. */
export async function purchaseInTransaction(pool: pg.Pool, event: PurchaseEvent, rawBody: string): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const outcome = await purchase(client, event, rawBody);
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
