import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { migrationsList } from '../../migrations/index';
import { createCreditsClient } from '../../src/grpc/client';
import { runCli } from '../support/cli';
import { TEST_TOKEN } from '../support/credits-harness';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { deliveryScenarios } from '../support/delivery-scenarios';
import { assertInvariants } from '../support/invariants';
import { runConcurrently, scaled } from '../support/load';
import { findPgBouncer, startPgBouncer, type PgBouncer } from '../support/pgbouncer';
import { startReliabilityStack, type ReliabilityStack } from '../support/reliability-stack';
import { reliabilityRandom } from '../support/seeded-random';
import { checkoutDelivery, deliver, retryUnacknowledged, seededId, type Delivery } from '../support/webhook-traffic';

// Issue "close to the design's limit": CreditsService behind PgBouncer in transaction pooling mode.
// The scenarios of concurrent-deliveries.test.ts (1–3) and replicas.test.ts (4), smaller, with every
// connection of the services, of the migrator and of the test's own probe going through PgBouncer.

const available = findPgBouncer() !== undefined;
// .ci/run installs it: in CI a missing pgbouncer is a failure, not a quiet skip.
if (!available && process.env.CI) throw new Error('pgbouncer missing in CI: the PgBouncer reliability test cannot run');
if (!available) console.warn('pgbouncer: skipped, install pgbouncer (apt) to run it');

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** PgBouncer's server connections: fewer than the services' pools together, so clients really queue. */
const POOL_SIZE = 5;
const REPLICAS = 3;
/** Per replica; 3 × 8 = 24 client connections (plus the probe's 4) share 5 server connections. */
const DB_POOL_MAX = 8;

describe.runIf(available)('CreditsService behind PgBouncer (transaction pooling)', { timeout: 170_000 }, () => {
  const random = reliabilityRandom('behind PgBouncer');
  let database: TestDatabase | undefined;
  let bouncer: PgBouncer | undefined;
  let stack: ReliabilityStack;
  const extraDatabases: TestDatabase[] = [];
  const scenarios = deliveryScenarios(() => stack, random, 'pgb');

  beforeAll(async () => {
    database = await createTestDatabase();
    bouncer = await startPgBouncer({ backendUrl: inject('adminDatabaseUrl'), poolSize: POOL_SIZE, maxClientConn: 80 });
    // The stack migrates through the URL it is given (the product's migrator, in one transaction) and
    // starts every replica on it: all of it through PgBouncer.
    stack = await startReliabilityStack({ name: 'pgbouncer', replicas: REPLICAS, poolMax: DB_POOL_MAX, databaseUrl: bouncer.urlFor(database.name) });
    stack.audit.watch('pgbouncer', () => bouncer?.output() ?? '');
  }, 180_000);

  afterAll(async () => {
    const failures: unknown[] = [];
    for (const step of [() => stack?.close(), () => bouncer?.stop(), () => database?.drop(), ...extraDatabases.map((db) => () => db.drop())]) {
      await Promise.resolve()
        .then(step)
        .catch((error: unknown) => failures.push(error));
    }
    if (failures.length) throw new AggregateError(failures, 'closing the PgBouncer test failed');
  }, 60_000);


  /** PgBouncer's pool of the test database and the backends PostgreSQL sees for it, sampled while `work` runs. */
  async function watchPool<T>(work: () => Promise<T>): Promise<{ result: T; maxClients: number; maxWaiting: number; maxServer: number; maxBackends: number; samples: number }> {
    const seen = { maxClients: 0, maxWaiting: 0, maxServer: 0, maxBackends: 0, samples: 0 };
    const admin = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
    await admin.connect();
    let running = true;
    const sampler = (async () => {
      while (running) {
        try {
          const pool = (await bouncer!.admin<Record<string, number | string>>('SHOW POOLS')).find((row) => row.database === database!.name);
          const { rows } = await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [database!.name]);
          if (pool) {
            const n = (key: string) => Number(pool[key] ?? 0);
            seen.maxClients = Math.max(seen.maxClients, n('cl_active') + n('cl_waiting'));
            seen.maxWaiting = Math.max(seen.maxWaiting, n('cl_waiting'));
            seen.maxServer = Math.max(seen.maxServer, n('sv_active') + n('sv_idle') + n('sv_used') + n('sv_tested') + n('sv_login'));
          }
          seen.maxBackends = Math.max(seen.maxBackends, rows[0]!.n);
          seen.samples++;
        } catch {
          // a sample lost to a busy machine; the next one counts
        }
        await sleep(50);
      }
    })();
    try {
      return { result: await work(), ...seen };
    } finally {
      running = false;
      await sampler;
      await admin.end();
    }
  }

  it('0. when migrations run through PgBouncer (npm run migrate: up, --status, --down, up), then each applies whole', async () => {
    // The stack's own database was migrated through PgBouncer by the product's migrator already.
    const { rows } = await stack.probe.sql.query<{ name: string }>('SELECT name FROM mikro_orm_migrations ORDER BY id');
    expect(rows.map((row) => row.name)).toEqual(migrationsList.map((migration) => migration.name));

    const fresh = await createTestDatabase();
    extraDatabases.push(fresh);
    const url = bouncer!.urlFor(fresh.name);
    const migrate = async (...args: string[]) => {
      const run = await runCli('src/cli/migrate.ts', [...args, '--json'], url);
      expect(run.code, run.stderr).toBe(0);
      return JSON.parse(run.stdout) as { applied?: string[]; status: { executed: { name: string }[]; pending: string[] } };
    };
    const names = migrationsList.map((migration) => migration.name);
    const up = await migrate();
    expect(up.applied).toEqual(names);
    expect((await migrate('--status')).status.pending).toEqual([]);
    const down = await migrate('--down');
    expect(down.applied).toEqual([names.at(-1)]);
    expect(down.status.pending).toEqual([names.at(-1)]);
    const again = await migrate();
    expect(again.applied).toEqual([names.at(-1)]);
    expect(again.status.pending).toEqual([]);
  });

  it('1. when the same signed event is delivered many times at once, then one ledger row and one credit', () =>
    scenarios.sameEventManyTimes(scaled(60, 2)));

  it('2. when completed and async_payment_succeeded of one session race, then one credit', () => scenarios.completedAndSucceededRace(scaled(6)));

  it('3. when many purchases by one new email arrive at once, then exactly one user holds all their credits', () =>
    scenarios.oneNewEmailManyPurchases(scaled(30, 2)));

  it(`4. when ${REPLICAS} replicas with DB_POOL_MAX ${DB_POOL_MAX} share ${POOL_SIZE} server connections, then each session is credited once and GetBalance reads it`, async () => {
    const buyers = Array.from({ length: scaled(40, 2) }, (_, index) => {
      const buyer = { email: `pgb-user-${index}-${random.hex(8)}@reliability.example`, customer: seededId(random, 'cus') };
      stack.audit.rememberEmail(buyer.email);
      return buyer;
    });
    const events: Delivery[] = [];
    const expected = new Map<string, number>();
    for (let count = scaled(600, 10); events.length < count; ) {
      const buyer = random.pick(buyers);
      const purchase = { sessionId: seededId(random, 'cs'), email: buyer.email, credits: random.int(1, 1_000) };
      stack.record.expectPurchase(purchase);
      expected.set(buyer.email, (expected.get(buyer.email) ?? 0) + purchase.credits);
      const base = { sessionId: purchase.sessionId, email: buyer.email, credits: String(purchase.credits), customer: random.chance(0.5) ? buyer.customer : null };
      if (random.chance(0.8)) events.push(checkoutDelivery(random, base));
      else events.push(checkoutDelivery(random, { ...base, paymentStatus: 'unpaid' }), checkoutDelivery(random, { ...base, type: 'checkout.session.async_payment_succeeded' }));
    }
    const deliveries = random.shuffle([...events, ...events.filter(() => random.chance(0.2))]);

    const watched = await watchPool(async () => {
      await runConcurrently(deliveries, 32, async (delivery) => void (await deliver(stack.traffic, delivery)));
      await retryUnacknowledged(stack.traffic, events);
    });
    console.log(
      `[reliability] PgBouncer scenario 4: ${deliveries.length} deliveries, answers ${JSON.stringify(stack.record.statusCounts())}; ` +
        `pool (${watched.samples} samples): up to ${watched.maxClients} clients (${watched.maxWaiting} waiting) on ${watched.maxServer} server connections, ` +
        `${watched.maxBackends} PostgreSQL backends`,
    );

    expect(stack.record.unacknowledged()).toEqual([]);
    const result = await assertInvariants(stack.probe, stack.record);
    expect(result.counts.purchasesCredited).toBe(stack.record.purchases.size);
    // Pooling was real: never more server connections (or backends) than the pool, more clients than that.
    expect(watched.samples).toBeGreaterThan(0);
    expect(watched.maxServer).toBeLessThanOrEqual(POOL_SIZE);
    expect(watched.maxBackends).toBeLessThanOrEqual(POOL_SIZE);
    expect(watched.maxClients).toBeGreaterThan(POOL_SIZE);
    for (const service of stack.credits) expect(service.output()).toContain('"method":"ApplyCheckout"');

    // The read path through PgBouncer, on every replica: each balance is that buyer's purchases.
    for (const [index, service] of stack.credits.entries()) {
      const client = createCreditsClient(service.url, { token: TEST_TOKEN });
      try {
        const asked = buyers.filter((_, position) => position % REPLICAS === index);
        for (const buyer of asked) {
          const balance = await new Promise<string>((resolve, reject) =>
            client.GetBalance({ identifier: buyer.email.toUpperCase() }, { deadline: Date.now() + 5_000 }, (error, response) =>
              error ? reject(error) : resolve(String(response!.balance)),
            ),
          );
          expect(Number(balance)).toBe(expected.get(buyer.email) ?? 0);
        }
      } finally {
        client.close();
      }
    }
  });

  it('9. the logs of this file hold no customer email, Stripe-Signature value or token', () => {
    expect(stack.audit.counts.emails).toBeGreaterThan(0);
    expect(stack.audit.findLeaks()).toEqual([]);
  });
});

// A static check, run with or without pgbouncer installed.
describe('transaction pooling compatibility of the code', () => {
  it('the code keeps no session state that transaction pooling would lose or leak', () => {
    // In transaction mode consecutive transactions of one client may run on different server
    // connections, and a server connection moves on to other clients: anything that outlives a
    // transaction (SET without LOCAL, session advisory locks, LISTEN, named prepared statements,
    // temporary tables, WITH HOLD cursors, startup parameters PgBouncer does not know) is wrong there.
    const rules: [RegExp, string][] = [
      [/pg_(try_)?advisory_(un)?lock(_shared|_all)?\s*\(/i, 'session-level advisory lock: use pg_(try_)advisory_xact_lock inside the transaction'],
      [/[`'";]\s*(?:SET|set)\s+(?:(?:SESSION|session)\s+)?(?!LOCAL\b|local\b|TRANSACTION\b|transaction\b)[a-z_.]+\s*(?:=|TO\b|to\b)/, 'SET outside SET LOCAL: the setting stays on a pooled server connection'],
      [/set_config\s*\([^)]*,\s*false\s*\)/i, 'set_config(..., false) is session-wide: pass true (transaction-local)'],
      [/[`'";]\s*(UN)?LISTEN\s/i, 'LISTEN needs a session of its own: not through a transaction pooler'],
      [/[`'";]\s*PREPARE\s+\w+/i, 'named prepared statement: unknown on the next server connection'],
      [/query\(\s*\{[^}]*\bname\s*:/s, 'node-postgres named statement (name: ...): prepared once per server connection'],
      [/\bCREATE\s+(TEMP|TEMPORARY)\s+TABLE/i, 'temporary table: lives in the session'],
      [/\bWITH\s+HOLD\b/i, 'WITH HOLD cursor: outlives the transaction'],
      [/\b(statement_timeout|lock_timeout|idle_in_transaction_session_timeout)\s*:/, 'startup parameter PgBouncer rejects: use SET LOCAL inside the transaction'],
    ];
    const files = ['src', 'migrations'].flatMap((dir) =>
      readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' })
        .filter((file) => file.endsWith('.ts') && !file.includes('generated'))
        .map((file) => path.join(dir, file)),
    );
    expect(files.length).toBeGreaterThan(20);
    const findings: string[] = [];
    for (const file of files) {
      const text = readFileSync(path.join(ROOT, file), 'utf8');
      for (const [pattern, why] of rules) {
        const match = pattern.exec(text);
        if (match) findings.push(`${file}:${text.slice(0, match.index).split('\n').length}: ${why} (${match[0].trim()})`);
      }
    }
    expect(findings).toEqual([]);
  });
});
