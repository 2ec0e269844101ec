import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationsList } from '../migrations/index';
import { correctBalance } from '../src/credits/corrections';
import { createCreditsStore } from '../src/db/credits-store';
import { initORM, type MikroORM } from '../src/db/orm';
import { formatMigrateResult, runMigrations } from '../src/ops/migrate';
import { verifyDatabase } from '../src/ops/verify';
import { runCli } from './support/cli';
import { createTestDatabase, type TestDatabase } from './support/database';
import { captureLogs } from './support/log-capture';

interface Fixture {
  database: TestDatabase;
  orm: MikroORM;
  sql: pg.Pool;
}

const fixtures: Fixture[] = [];
// Every migration in order; the first creates (or adopts) the schema, later ones add to it.
const ALL = migrationsList.map((migration) => migration.name);
const FIRST = ALL[0]!;
const LAST = ALL.at(-1)!;

async function newestExecuted(orm: MikroORM): Promise<string | undefined> {
  const result = await runMigrations(orm, 'status');
  return result.action === 'status' ? result.status.executed.at(-1)?.name : undefined;
}

/** `down` rolls back one migration at a time: roll back, newest first, until `name` is the newest executed. */
async function downUntilNewest(orm: MikroORM, name: string): Promise<void> {
  while ((await newestExecuted(orm)) !== name) {
    if ((await newestExecuted(orm)) === undefined) throw new Error(`${name} is not executed`);
    await runMigrations(orm, 'down');
  }
}

/** Rolls back every migration, newest first. */
async function downAll(orm: MikroORM): Promise<void> {
  await downUntilNewest(orm, FIRST);
  await runMigrations(orm, 'down');
}

async function emptyDatabase(): Promise<Fixture> {
  const database = await createTestDatabase();
  const orm = await initORM({ url: database.url, poolMax: 2, echo: false, logger: captureLogs().logger });
  const fixture = { database, orm, sql: new pg.Pool({ connectionString: database.url, max: 1 }) };
  fixtures.push(fixture);
  return fixture;
}

afterAll(async () => {
  for (const { orm, sql, database } of fixtures) {
    await sql.end();
    await orm.close();
    await database.drop();
  }
});

async function tables(sql: pg.Pool): Promise<string[]> {
  const { rows } = await sql.query(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'mikro_orm_migrations' ORDER BY 1`,
  );
  return rows.map((row) => row.table_name);
}

async function columns(sql: pg.Pool, table: string): Promise<string[]> {
  const { rows } = await sql.query(`SELECT column_name FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position`, [table]);
  return rows.map((row) => row.column_name);
}

describe('migrate', { timeout: 90_000 }, () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await emptyDatabase();
  });

  it('when the database is empty, then status lists the migrations as pending and a dry run prints SQL without applying it', async () => {
    const status = await runMigrations(f.orm, 'status');
    expect(status).toEqual({ action: 'status', status: { executed: [], pending: ALL } });
    expect(formatMigrateResult(status)).toContain(`Pending (${ALL.length}):\n  ${ALL.join('\n  ')}`);

    const plan = await runMigrations(f.orm, 'up', true);
    const text = formatMigrateResult(plan);
    expect(text).toContain('-- up: Migration20261126000000_credits_schema');
    expect(text).toContain('-- up: Migration20261202000200_event_source');
    expect(text).toContain(`ADD COLUMN source text NOT NULL DEFAULT 'webhook'`);
    expect(text).toContain('CREATE TABLE stripe_events');
    expect(text).toContain('CREATE TABLE stripe_customers');
    expect(text).toContain('CREATE TABLE credit_reservations');
    expect(await tables(f.sql)).toEqual([]);
  });

  it('when migrated up, then the schema verifies; down rolls back the last migration; up again restores it', async () => {
    const up = await runMigrations(f.orm, 'up');
    expect(up).toMatchObject({ action: 'up', dryRun: false, applied: ALL, status: { pending: [] } });
    expect((await verifyDatabase(f.orm)).ok).toBe(true);
    expect(await runMigrations(f.orm, 'up')).toMatchObject({ applied: [] });
    expect(await columns(f.sql, 'stripe_events')).toContain('source');

    const downPlan = formatMigrateResult(await runMigrations(f.orm, 'down', true));
    expect(downPlan).toContain(`-- down: ${LAST}`);
    expect(downPlan).not.toContain(`-- down: ${FIRST}`);
    expect(await tables(f.sql)).toEqual(['credit_reservations', 'credit_transactions', 'stripe_customers', 'stripe_events', 'users']);

    // One down rolls back the newest migration only; up applies it again.
    const last = await runMigrations(f.orm, 'down');
    expect(last).toMatchObject({ applied: [LAST], status: { pending: [LAST] } });
    expect(await runMigrations(f.orm, 'up')).toMatchObject({ applied: [LAST] });
    expect((await verifyDatabase(f.orm)).ok).toBe(true);

    // The event-source migration's down drops the column (and its check), and nothing else.
    await downUntilNewest(f.orm, 'Migration20261202000200_event_source');
    await runMigrations(f.orm, 'down');
    expect(await columns(f.sql, 'stripe_events')).not.toContain('source');
    expect(await tables(f.sql)).toEqual(['credit_reservations', 'credit_transactions', 'stripe_events', 'users']);
    await runMigrations(f.orm, 'up');
    expect(await columns(f.sql, 'stripe_events')).toContain('source');

    await downUntilNewest(f.orm, FIRST);
    const firstPlan = formatMigrateResult(await runMigrations(f.orm, 'down', true));
    expect(firstPlan).toContain(`-- down: ${FIRST}`);
    expect(firstPlan).toContain('DROP TABLE IF EXISTS credit_transactions');
    const down = await runMigrations(f.orm, 'down');
    expect(down).toMatchObject({ applied: [FIRST], status: { executed: [], pending: ALL } });
    // The migration's down keeps a users(id, email) table: it may have predated the service.
    expect(await tables(f.sql)).toEqual(['users']);
    expect(await columns(f.sql, 'users')).toEqual(['id', 'email']);

    await runMigrations(f.orm, 'up');
    expect((await verifyDatabase(f.orm)).ok).toBe(true);
  });

  it('when run as `npm run migrate` does, then --status and a usage error have the right exit codes', async () => {
    const status = await runCli('src/cli/migrate.ts', ['--status'], f.database.url);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`Executed \\(${ALL.length}\\):\\n {2}Migration20261126000000_credits_schema {2}\\d{4}-\\d{2}-\\d{2}T`));
    expect(status.stdout).toContain('Pending (0):\n  none');
    const wrong = await runCli('src/cli/migrate.ts', ['--down', '--status'], f.database.url);
    expect([wrong.code, wrong.stderr]).toEqual([2, 'error: use either --down or --status\nRun `npm run migrate -- --help` for usage.\n']);
  });
});

describe('migrate adopting a legacy users table', () => {
  let f: Fixture;
  const legacyEmails = ['first@example.com', 'Second@Example.com', null];

  beforeAll(async () => {
    f = await emptyDatabase();
    await f.sql.query('CREATE TABLE users (id serial PRIMARY KEY, email varchar(255))');
    for (const email of legacyEmails) await f.sql.query('INSERT INTO users (email) VALUES ($1)', [email]);
  });

  it('when migrated, then every legacy row is kept with a UUID and balance 0, the constraints hold, and down keeps the rows', async () => {
    await runMigrations(f.orm, 'up');
    const { rows } = await f.sql.query('SELECT id, email, uuid, credits_balance FROM users ORDER BY id');
    expect(rows.map((row) => [row.id, row.email, row.credits_balance])).toEqual([
      [1, 'first@example.com', '0'],
      [2, 'Second@Example.com', '0'],
      [3, null, '0'],
    ]);
    expect(new Set(rows.map((row) => row.uuid)).size).toBe(3);
    for (const row of rows) expect(row.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

    const report = await verifyDatabase(f.orm);
    expect(report.checks.filter((check) => check.status !== 'ok')).toEqual([]);
    await expect(f.sql.query('UPDATE users SET credits_balance = -1 WHERE id = 1')).rejects.toThrow(/users_credits_balance_non_negative/);
    await expect(f.sql.query(`INSERT INTO users (email) VALUES ('FIRST@example.com')`)).rejects.toThrow(/users_email_normalized_key/);

    // The service works on the adopted rows: new users continue the legacy sequence, credits land on old ones.
    const store = createCreditsStore(f.orm);
    const created = await store.transaction((uow) => uow.users.findOrCreateByEmail({ kind: 'email', value: 'new@example.com', key: 'new@example.com' }));
    expect(Number(created.id)).toBeGreaterThan(3); // the refused insert above used up one sequence value
    await correctBalance(store, 'grant', { user: 'second@example.com', credits: 7, reason: 'adoption test', operator: 'support-test' });
    expect((await verifyDatabase(f.orm)).ok).toBe(true);

    await downAll(f.orm);
    expect(await tables(f.sql)).toEqual(['users']);
    expect(await columns(f.sql, 'users')).toEqual(['id', 'email']);
    const kept = await f.sql.query('SELECT id, email FROM users ORDER BY id');
    expect(kept.rows).toEqual([
      { id: 1, email: 'first@example.com' },
      { id: 2, email: 'Second@Example.com' },
      { id: 3, email: null },
      { id: Number(created.id), email: 'new@example.com' },
    ]);
  });
});

describe('migrate: the spending migration on a ledger that has rows', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await emptyDatabase();
    await f.orm.getMigrator().up({ to: FIRST });
  });

  it('when applied, then old rows get balance_after from a running sum per user; down refuses once a spend exists', async () => {
    const { rows: users } = await f.sql.query<{ id: string }>(`INSERT INTO users (email) VALUES ('a@example.com'), ('b@example.com') RETURNING id`);
    const [a, b] = users.map((row) => row.id);
    for (const [user, amount, kind] of [[a, 100, 'grant'], [b, 7, 'grant'], [a, -30, 'revoke'], [a, 5, 'grant']] as const) {
      await f.sql.query('INSERT INTO credit_transactions (user_id, amount, kind, reason) VALUES ($1, $2, $3, $4)', [user, amount, kind, 'seed']);
      await f.sql.query('UPDATE users SET credits_balance = credits_balance + $2 WHERE id = $1', [user, amount]);
    }
    await runMigrations(f.orm, 'up');
    const { rows } = await f.sql.query('SELECT user_id, amount, balance_after, metadata FROM credit_transactions ORDER BY id');
    expect(rows.map((row) => [String(row.user_id), row.amount, row.balance_after, row.metadata])).toEqual([
      [a, '100', '100', {}],
      [b, '7', '7', {}],
      [a, '-30', '70', {}],
      [a, '5', '75', {}],
    ]);
    expect((await verifyDatabase(f.orm)).ok).toBe(true);

    const store = createCreditsStore(f.orm);
    await store.transaction((uow) => uow.ledger.post({ userId: a!, kind: 'spend', amount: -5, idempotencyKey: 'migration-test' }));
    await downUntilNewest(f.orm, 'Migration20261202000100_spending');
    await expect(runMigrations(f.orm, 'down')).rejects.toThrow(/spends or captures/);
    await runMigrations(f.orm, 'up');
    expect(await tables(f.sql)).toContain('credit_reservations');
    expect((await verifyDatabase(f.orm)).ok).toBe(true);
  });
});
