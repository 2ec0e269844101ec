import { IsolationLevel } from '@mikro-orm/core';
import { migrationsList } from '../../migrations/index.js';
import { migrationStatus } from '../db/migrations.js';
import type { EntityManager, MikroORM } from '../db/orm.js';
import { EXPECTED_CONSTRAINTS, EXPECTED_INDEXES, EXPECTED_TABLES, type ExpectedConstraint } from './expected-schema.js';
import { sql } from '../db/sql.js';
import { REVERSAL_EVENT_TYPES } from '../contract/stripe-event.js';

const REVERSAL_TYPES = REVERSAL_EVENT_TYPES.map((type) => `'${type}'`).join(', ');

export type CheckStatus = 'ok' | 'problem' | 'skipped';

export interface VerifyCheck {
  id: string;
  group: 'schema' | 'invariant';
  title: string;
  status: CheckStatus;
  /** How many problems were found in all; `problems` lists at most `exampleLimit` of them. */
  count: number;
  problems: string[];
  note?: string;
}

export interface VerifyReport {
  ok: boolean;
  problemCount: number;
  checkedAt: string;
  checks: VerifyCheck[];
}

export interface VerifyOptions {
  /** A `processing` row older than this is stuck (a committed one should never exist at all). */
  stuckAfterSeconds?: number;
  exampleLimit?: number;
}

type Check = Omit<VerifyCheck, 'status' | 'count'>;

function finished(check: Check, count = check.problems.length): VerifyCheck {
  return { ...check, status: count === 0 ? 'ok' : 'problem', count };
}

async function checkColumns(em: EntityManager): Promise<VerifyCheck> {
  const rows = await sql<{ table_name: string; column_name: string; data_type: string; is_nullable: string }[]>(em,
    `SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
     WHERE table_schema = current_schema() AND table_name IN (${Object.keys(EXPECTED_TABLES).map(() => '?').join(', ')})`,
    Object.keys(EXPECTED_TABLES),
  );
  const problems: string[] = [];
  for (const [table, columns] of Object.entries(EXPECTED_TABLES)) {
    const actual = new Map(rows.filter((row) => row.table_name === table).map((row) => [row.column_name, row]));
    if (actual.size === 0) {
      problems.push(`table ${table} is missing`);
      continue;
    }
    for (const [name, expected] of Object.entries(columns)) {
      const column = actual.get(name);
      if (!column) problems.push(`column ${table}.${name} is missing`);
      else if (!expected.types.includes(column.data_type)) {
        problems.push(`column ${table}.${name} is ${column.data_type}, expected ${expected.types.join(' or ')}`);
      } else if (expected.notNull && column.is_nullable === 'YES') problems.push(`column ${table}.${name} allows NULL`);
    }
  }
  return finished({ id: 'schema.columns', group: 'schema', title: 'tables and columns', problems });
}

interface ConstraintRow {
  table_name: string;
  conname: string;
  contype: string;
  convalidated: boolean;
  columns: string[];
  referenced: string | null;
}

function describeConstraint(expected: ExpectedConstraint): string {
  return expected.name ?? `${{ p: 'primary key', f: 'foreign key', u: 'unique', c: 'check' }[expected.type]} on ${expected.table}(${expected.columns?.join(', ')})`;
}

async function checkConstraints(em: EntityManager): Promise<VerifyCheck> {
  const rows = await sql<ConstraintRow[]>(em,
    `SELECT c.conrelid::regclass::text AS table_name, c.conname, c.contype, c.convalidated,
            array(SELECT a.attname::text FROM unnest(c.conkey) AS k(n) JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n) AS columns,
            CASE WHEN c.confrelid = 0 THEN NULL ELSE c.confrelid::regclass::text END AS referenced
     FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
     WHERE n.nspname = current_schema()`,
  );
  const problems: string[] = [];
  for (const expected of EXPECTED_CONSTRAINTS) {
    const found = rows.find(
      (row) =>
        row.table_name === expected.table &&
        row.contype === expected.type &&
        (expected.name === undefined || row.conname === expected.name) &&
        (expected.columns === undefined || row.columns.join(',') === expected.columns.join(',')) &&
        (expected.references === undefined || row.referenced === expected.references),
    );
    if (!found) problems.push(`${describeConstraint(expected)} is missing (${expected.why})`);
    else if (!found.convalidated) problems.push(`${describeConstraint(expected)} is NOT VALID: existing rows were never checked`);
  }
  return finished({ id: 'schema.constraints', group: 'schema', title: 'constraints', problems });
}

async function checkIndexes(em: EntityManager): Promise<VerifyCheck> {
  const rows = await sql<{ name: string; table_name: string; unique: boolean; valid: boolean; definition: string }[]>(em,
    `SELECT i.relname AS name, t.relname AS table_name, x.indisunique AS unique, x.indisvalid AS valid,
            pg_get_indexdef(x.indexrelid) AS definition
     FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
     JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = current_schema()`,
  );
  const problems: string[] = [];
  for (const expected of EXPECTED_INDEXES) {
    const found = rows.find((row) => row.name === expected.name);
    if (!found) problems.push(`index ${expected.name} on ${expected.table} is missing`);
    else if (found.table_name !== expected.table) problems.push(`index ${expected.name} is on ${found.table_name}, expected ${expected.table}`);
    else if (found.unique !== expected.unique) problems.push(`index ${expected.name} should ${expected.unique ? '' : 'not '}be unique`);
    else if (!found.valid) problems.push(`index ${expected.name} is invalid (a failed concurrent build?): rebuild it`);
    else if (!expected.definition.some((part) => found.definition.includes(part))) {
      problems.push(`index ${expected.name} is ${found.definition}, expected it to cover ${expected.definition[0]}`);
    }
  }
  return finished({ id: 'schema.indexes', group: 'schema', title: 'indexes', problems });
}

async function checkMigrations(orm: MikroORM, em: EntityManager): Promise<VerifyCheck> {
  const check = { id: 'schema.migrations', group: 'schema' as const, title: 'migrations' };
  // Asking the migrator would create its table on a database that has none; verify never writes.
  const [table] = await sql<{ exists: boolean }[]>(em, `SELECT to_regclass('mikro_orm_migrations') IS NOT NULL AS exists`);
  const { executed, pending } = table?.exists
    ? await migrationStatus(orm)
    : { executed: [], pending: migrationsList.map((migration) => migration.name) };
  const known = new Set(migrationsList.map((migration) => migration.name));
  const problems = [
    ...pending.map((name) => `migration ${name} is pending: run \`npm run migrate\``),
    ...executed.filter((row) => !known.has(row.name)).map((row) => `migration ${row.name} was executed but is not in this code (newer code rolled back?)`),
  ];
  return finished({ ...check, problems, note: `${executed.length} executed, ${pending.length} pending` });
}

/** Runs `query` with `count(*) OVER () AS total` in it; returns the total and the first rows. */
async function examples<T extends { total: string }>(em: EntityManager, query: string, limit: number, params: unknown[] = []) {
  const rows = await sql<T[]>(em, `${query} LIMIT ?`, [...params, limit]);
  return { total: Number(rows[0]?.total ?? 0), rows };
}

function invariantTitles(stuckAfterSeconds: number) {
  return {
    balance_matches_ledger: 'every balance equals the sum of its ledger rows',
    balance_non_negative: 'no balance below zero',
    session_credited_once: 'no Checkout Session credited twice',
    applied_event_has_ledger: 'every applied event has its ledger row',
    reversal_within_purchase: 'no purchase has more reversed than it credited (refunds + disputes − disputes won)',
    reversal_has_event: 'every refund, dispute and dispute won row has its applied Stripe event',
    purchase_has_applied_event: 'every purchase row has the applied Stripe event of its session',
    correction_has_operator: 'every manual grant and revoke names its operator',
    nothing_stuck_processing: `nothing stuck in processing (older than ${stuckAfterSeconds}s)`,
    uncaptured_reservation_has_no_capture: 'no reservation that is not captured has a capture ledger row',
    captured_reservation_has_capture: 'every captured reservation has its capture ledger row, for the amount captured',
    available_non_negative: 'no user has more credits held by live reservations than owned',
    balance_after_matches_balance: "every user's newest ledger row records the balance",
  };
}

type InvariantId = keyof ReturnType<typeof invariantTitles>;

async function invariantChecks(em: EntityManager, stuckAfterSeconds: number, limit: number): Promise<VerifyCheck[]> {
  const drift = await examples<{ id: string; uuid: string; credits_balance: string; ledger: string; total: string }>(
    em,
    `SELECT u.id, u.uuid, u.credits_balance, coalesce(l.sum, 0) AS ledger, count(*) OVER () AS total
     FROM users u LEFT JOIN (SELECT user_id, sum(amount) AS sum FROM credit_transactions GROUP BY user_id) l ON l.user_id = u.id
     WHERE u.credits_balance <> coalesce(l.sum, 0) ORDER BY u.id`,
    limit,
  );
  const negative = await examples<{ id: string; uuid: string; credits_balance: string; total: string }>(
    em,
    'SELECT id, uuid, credits_balance, count(*) OVER () AS total FROM users WHERE credits_balance < 0 ORDER BY id',
    limit,
  );
  const twice = await examples<{ checkout_session_id: string; rows: string; total: string }>(
    em,
    `SELECT checkout_session_id, count(*) AS rows, count(*) OVER () AS total FROM credit_transactions
     WHERE kind = 'purchase' GROUP BY checkout_session_id HAVING count(*) > 1 ORDER BY checkout_session_id`,
    limit,
  );
  const unledgered = await examples<{ event_id: string; event_type: string; total: string }>(
    em,
    `SELECT e.event_id, e.event_type, count(*) OVER () AS total FROM stripe_events e
     WHERE e.status = 'completed' AND e.outcome = 'applied'
       AND NOT EXISTS (SELECT 1 FROM credit_transactions t WHERE t.stripe_event_id = e.event_id
         AND CASE WHEN e.event_type IN (${REVERSAL_TYPES}) THEN t.kind IN ('refund', 'dispute', 'dispute_won') ELSE t.kind = 'purchase' END)
     ORDER BY e.received_at`,
    limit,
  );
  // What a purchase's reversal rows stand for: taken or owed by refunds and disputes, less what wins cancelled (given back or not taken).
  const overReversed = await examples<{ purchase_id: string; kind: string | null; credits: string | null; net: string; user_id: string | null; total: string }>(
    em,
    `SELECT r.purchase_id, p.kind, p.amount AS credits, r.net, p.user_id, count(*) OVER () AS total
     FROM (SELECT purchase_id, sum(CASE WHEN kind = 'dispute_won' THEN -(amount + shortfall) ELSE shortfall - amount END) AS net
           FROM credit_transactions WHERE kind IN ('refund', 'dispute', 'dispute_won') GROUP BY purchase_id) r
     LEFT JOIN credit_transactions p ON p.id = r.purchase_id
     WHERE p.kind IS DISTINCT FROM 'purchase' OR r.net > p.amount OR r.net < 0
     ORDER BY r.purchase_id`,
    limit,
  );
  const unbackedReversal = await examples<{ id: string; kind: string; user_id: string; stripe_event_id: string | null; total: string }>(
    em,
    `SELECT t.id, t.kind, t.user_id, t.stripe_event_id, count(*) OVER () AS total FROM credit_transactions t
     WHERE t.kind IN ('refund', 'dispute', 'dispute_won') AND NOT EXISTS (
       SELECT 1 FROM stripe_events e WHERE e.event_id = t.stripe_event_id AND e.status = 'completed' AND e.outcome = 'applied'
         AND e.event_type = ANY (CASE t.kind WHEN 'refund' THEN ARRAY['charge.refunded']
                                             WHEN 'dispute' THEN ARRAY['charge.dispute.created', 'charge.dispute.closed']
                                             ELSE ARRAY['charge.dispute.closed'] END))
     ORDER BY t.id`,
    limit,
  );
  const unbacked = await examples<{ id: string; user_id: string; checkout_session_id: string; stripe_event_id: string | null; total: string }>(
    em,
    `SELECT t.id, t.user_id, t.checkout_session_id, t.stripe_event_id, count(*) OVER () AS total FROM credit_transactions t
     WHERE t.kind = 'purchase' AND NOT EXISTS (
       SELECT 1 FROM stripe_events e WHERE e.event_id = t.stripe_event_id AND e.checkout_session_id = t.checkout_session_id
         AND e.status = 'completed' AND e.outcome = 'applied')
     ORDER BY t.id`,
    limit,
  );
  const anonymous = await examples<{ id: string; user_id: string; kind: string; total: string }>(
    em,
    `SELECT id, user_id, kind, count(*) OVER () AS total FROM credit_transactions
     WHERE kind IN ('grant', 'revoke') AND coalesce(btrim(created_by), '') = '' ORDER BY id`,
    limit,
  );
  const stuck = await examples<{ event_id: string; event_type: string; received_at: Date; attempts: number; total: string }>(
    em,
    `SELECT event_id, event_type, received_at, attempts, count(*) OVER () AS total FROM stripe_events
     WHERE status = 'processing' AND received_at < now() - make_interval(secs => ?) ORDER BY received_at`,
    limit,
    [stuckAfterSeconds],
  );
  const strayCapture = await examples<{ reservation_id: string; status: string; id: string; uuid: string; total: string }>(
    em,
    `SELECT r.id AS reservation_id, r.status, u.id, u.uuid, count(*) OVER () AS total
     FROM credit_reservations r JOIN users u ON u.id = r.user_id
     WHERE r.status <> 'captured' AND EXISTS (SELECT 1 FROM credit_transactions t WHERE t.reservation_id = r.id)
     ORDER BY r.created_at`,
    limit,
  );
  const missingCapture = await examples<{ reservation_id: string; captured_amount: string; taken: string | null; id: string; uuid: string; total: string }>(
    em,
    `SELECT r.id AS reservation_id, r.captured_amount, -t.amount AS taken, u.id, u.uuid, count(*) OVER () AS total
     FROM credit_reservations r JOIN users u ON u.id = r.user_id
     LEFT JOIN credit_transactions t ON t.reservation_id = r.id AND t.kind = 'capture'
     WHERE r.status = 'captured' AND (t.id IS NULL OR -t.amount <> r.captured_amount OR t.user_id <> r.user_id)
     ORDER BY r.created_at`,
    limit,
  );
  const overHeld = await examples<{ id: string; uuid: string; credits_balance: string; held: string; total: string }>(
    em,
    `SELECT u.id, u.uuid, u.credits_balance, h.held, count(*) OVER () AS total
     FROM users u JOIN (SELECT user_id, sum(amount) AS held FROM credit_reservations
                        WHERE status = 'held' AND expire_time > statement_timestamp() GROUP BY user_id) h ON h.user_id = u.id
     WHERE h.held > u.credits_balance ORDER BY u.id`,
    limit,
  );
  // Rows written by hand without balance_after say nothing either way.
  const staleAfter = await examples<{ id: string; uuid: string; credits_balance: string; balance_after: string; entry_id: string; total: string }>(
    em,
    `SELECT u.id, u.uuid, u.credits_balance, t.balance_after, t.id AS entry_id, count(*) OVER () AS total
     FROM users u JOIN LATERAL (SELECT id, balance_after FROM credit_transactions WHERE user_id = u.id ORDER BY id DESC LIMIT 1) t ON true
     WHERE t.balance_after IS NOT NULL AND t.balance_after <> u.credits_balance ORDER BY u.id`,
    limit,
  );
  const user = (row: { id: string; uuid: string }) => `user ${row.id} (${row.uuid})`;
  const titles = invariantTitles(stuckAfterSeconds);
  const invariant = (id: InvariantId, problems: string[], total: number): VerifyCheck =>
    finished({ id: `invariant.${id}`, group: 'invariant', title: titles[id], problems }, total);
  return [
    invariant(
      'balance_matches_ledger',
      drift.rows.map((row) => `${user(row)}: balance ${row.credits_balance}, ledger sum ${row.ledger}`),
      drift.total,
    ),
    invariant('balance_non_negative', negative.rows.map((row) => `${user(row)}: balance ${row.credits_balance}`), negative.total),
    invariant(
      'session_credited_once',
      twice.rows.map((row) => `checkout session ${row.checkout_session_id}: ${row.rows} purchase rows`),
      twice.total,
    ),
    invariant(
      'applied_event_has_ledger',
      unledgered.rows.map((row) => `event ${row.event_id} (${row.event_type}) is completed/applied but has no ledger row`),
      unledgered.total,
    ),
    invariant(
      'reversal_within_purchase',
      overReversed.rows.map((row) =>
        row.kind !== 'purchase'
          ? `reversal rows name ledger row ${row.purchase_id}, which is not a purchase`
          : `purchase row ${row.purchase_id} (user ${row.user_id}) credited ${row.credits}, its refunds and disputes reverse ${row.net}`,
      ),
      overReversed.total,
    ),
    invariant(
      'reversal_has_event',
      unbackedReversal.rows.map(
        (row) => `ledger row ${row.id} (${row.kind}, user ${row.user_id}): event ${row.stripe_event_id ?? '(none)'} is not its applied Stripe event`,
      ),
      unbackedReversal.total,
    ),
    invariant(
      'purchase_has_applied_event',
      unbacked.rows.map(
        (row) =>
          `ledger row ${row.id} (user ${row.user_id}) credits session ${row.checkout_session_id} but event ${row.stripe_event_id ?? '(none)'} is not its applied Stripe event`,
      ),
      unbacked.total,
    ),
    invariant('correction_has_operator', anonymous.rows.map((row) => `ledger row ${row.id} (${row.kind}, user ${row.user_id}) names no operator`), anonymous.total),
    invariant(
      'nothing_stuck_processing',
      stuck.rows.map(
        (row) => `event ${row.event_id} (${row.event_type}) processing since ${new Date(row.received_at).toISOString()}, ${row.attempts} attempt(s)`,
      ),
      stuck.total,
    ),
    invariant(
      'uncaptured_reservation_has_no_capture',
      strayCapture.rows.map((row) => `${user(row)}: reservation ${row.reservation_id} is ${row.status} but has a capture ledger row`),
      strayCapture.total,
    ),
    invariant(
      'captured_reservation_has_capture',
      missingCapture.rows.map((row) =>
        row.taken === null
          ? `${user(row)}: reservation ${row.reservation_id} is captured (${row.captured_amount}) but has no capture ledger row`
          : `${user(row)}: reservation ${row.reservation_id} captured ${row.captured_amount}, its capture ledger row took ${row.taken} (or belongs to another user)`,
      ),
      missingCapture.total,
    ),
    invariant(
      'available_non_negative',
      overHeld.rows.map((row) => `${user(row)}: balance ${row.credits_balance}, held by live reservations ${row.held}`),
      overHeld.total,
    ),
    invariant(
      'balance_after_matches_balance',
      staleAfter.rows.map((row) => `${user(row)}: balance ${row.credits_balance}, newest ledger row ${row.entry_id} records ${row.balance_after}`),
      staleAfter.total,
    ),
  ];
}

/**
 * Checks the schema against what the migrations create, then the ledger invariants, and never
 * writes. The invariants are read in one repeatable-read snapshot, so concurrent purchases cannot
 * make a balance look out of step with its ledger.
 */
export async function verifyDatabase(orm: MikroORM, options: VerifyOptions = {}): Promise<VerifyReport> {
  const { stuckAfterSeconds = 5, exampleLimit = 20 } = options;
  const em = orm.em.fork();
  const schema = [await checkColumns(em), await checkConstraints(em), await checkIndexes(em), await checkMigrations(orm, em)];
  const invariants =
    schema[0]!.status === 'ok'
      ? await em.transactional((tx) => invariantChecks(tx, stuckAfterSeconds, exampleLimit), {
          isolationLevel: IsolationLevel.REPEATABLE_READ,
          readOnly: true,
        })
      : Object.entries(invariantTitles(stuckAfterSeconds)).map(([id, title]): VerifyCheck => ({
          id: `invariant.${id}`,
          group: 'invariant',
          title,
          status: 'skipped',
          count: 0,
          problems: [],
          note: 'tables or columns missing',
        }));
  const checks = [...schema, ...invariants];
  const problemCount = checks.reduce((sum, check) => sum + check.count, 0);
  return { ok: problemCount === 0, problemCount, checkedAt: new Date().toISOString(), checks };
}

export function formatVerifyReport(report: VerifyReport): string {
  const lines: string[] = [];
  for (const group of ['schema', 'invariant'] as const) {
    lines.push(group === 'schema' ? 'Schema' : 'Invariants');
    for (const check of report.checks.filter((c) => c.group === group)) {
      const mark = { ok: 'ok  ', problem: 'FAIL', skipped: 'skip' }[check.status];
      const detail = check.status === 'problem' ? `: ${check.count} problem(s)` : check.note ? ` (${check.note})` : '';
      lines.push(`  ${mark} ${check.title}${detail}`);
      for (const problem of check.problems) lines.push(`         - ${problem}`);
      if (check.count > check.problems.length) lines.push(`         … and ${check.count - check.problems.length} more`);
    }
  }
  lines.push(report.ok ? 'Result: OK, no problem found' : `Result: ${report.problemCount} problem(s) found`);
  return lines.join('\n');
}
