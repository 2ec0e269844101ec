/**
 * CPU cost of one purchase transaction inside a single process, one at a time (no contention):
 * the product's applyStripeEvent through MikroORM, the same statements through plain `pg` with bound
 * parameters, and the pieces around them. Tells what the ORM path costs per event, apart from gRPC,
 * HTTP and the machine's noise. Usage: npx tsx bench/probes/checkout-cpu.ts [events=1500]
 * Database: BENCH_DATABASE_URL / DATABASE_URL (admin URL; a probe database is created and dropped), else embedded.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import { decodeStripeEvent } from '../../src/contract/stripe-event';
import { applyStripeEvent } from '../../src/credits/checkout';
import { createCreditsStore } from '../../src/db/credits-store';
import { initORM } from '../../src/db/orm';
import { stripeEventFromRequest } from '../../src/grpc/apply-checkout-request';
import { applyCheckoutRequestFor } from '../../test/support/stripe-events';
import { createLogger } from '../../src/logger';
import { checkoutSession, stripeEvent } from '../../test/support/stripe-events';
import { pgRunner, runPurchase, type Run, type Session } from '../baselines/purchase-pg';
import { childrenOf, CpuMeter } from '../support/cpu';
import { createBenchDatabase, findPostmasterPid, openBenchServer } from '../support/database';

const COUNT = Number(process.argv[2] ?? 1500);
const logger = createLogger({ level: 'warn' });
const rules = { priceCredits: {}, maxPerPurchase: 1_000_000, maxBalance: Number.MAX_SAFE_INTEGER, livemode: false };

function makeEvents(count: number, tag: string) {
  return Array.from({ length: count }, (_, index) => {
    const session = checkoutSession({ email: `probe.${tag}.${index % 300}@example.com`, customer: `cus_probe${tag}${index % 300}`, metadata: { credits: '100' } });
    const event = stripeEvent('checkout.session.completed', session);
    const rawJson = JSON.stringify(event, null, 2);
    return { event, rawJson, request: applyCheckoutRequestFor(rawJson) };
  });
}

let postgresCpu: CpuMeter | undefined;

/** CPU µs of this process (user + system), of the PostgreSQL server when it runs here, and wall µs per operation, one after another. */
async function measure(name: string, count: number, operation: (index: number) => Promise<unknown> | unknown): Promise<void> {
  const measured = postgresCpu?.start();
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let index = 0; index < count; index++) await operation(index);
  const used = process.cpuUsage(cpu);
  const wall = performance.now() - started;
  const postgres = measured ? Math.round(((measured().seconds.postgres ?? 0) * 1e6) / count) : undefined;
  const cell = (value: number | undefined) => String(value ?? '–').padStart(6);
  console.log(`${name.padEnd(66)} ${cell(Math.round((used.user + used.system) / count))} ${cell(postgres)} ${cell(Math.round((wall * 1000) / count))}`);
}

async function main(): Promise<void> {
  const server = await openBenchServer(process.env);
  const database = await createBenchDatabase(server, 'probe');
  const orm = await initORM({ url: database.url, poolMax: 4, echo: false, logger });
  const store = createCreditsStore(orm);
  const pool = new pg.Pool({ connectionString: database.url, max: 4 });
  try {
    const warm = makeEvents(300, 'w');
    const viaOrm = makeEvents(COUNT, 'o');
    const viaPg = makeEvents(COUNT, 'p');
    const parsed = viaOrm.map((e) => e.request);
    const postmaster = await findPostmasterPid(server.adminUrl);
    // 10 ms ticks: per-operation figures are averages over the whole loop.
    if (postmaster) postgresCpu = new CpuMeter({ postgres: () => [postmaster, ...childrenOf(postmaster)] }, 50);
    console.log(`${COUNT} operations each, one at a time, ${process.version}; µs per operation:`);
    console.log(`${''.padEnd(66)} ${'node'.padStart(6)} ${'pg'.padStart(6)} ${'wall'.padStart(6)}`);
    for (const e of warm) await applyStripeEvent(store, decodeStripeEvent(e.rawJson), rules, logger);
    await measure('JSON.parse of the 8 KB event body (edge and credits each)', COUNT, (i) => JSON.parse(viaOrm[i]!.rawJson));
    await measure('stripeEventFromRequest (decode event_json with zod, compare the fields)', COUNT, (i) => stripeEventFromRequest(parsed[i] as never));
    const events = parsed.map((request) => stripeEventFromRequest(request as never));
    await measure('em.fork()', COUNT, () => orm.em.fork());
    const fork = orm.em.fork();
    await measure('em.execute("SELECT 1"), one fork reused', COUNT, () => fork.execute('SELECT 1'));
    await measure('em.execute("SELECT $1") with a 8 KB string parameter', COUNT, (i) => fork.execute('SELECT ?::jsonb IS NULL', [viaOrm[i]!.rawJson]));
    await measure('knex.raw("SELECT 1") (the query builder under the ORM)', COUNT, () => orm.em.getKnex().raw('SELECT 1'));
    await measure('em.fork().transactional(() => {}) (BEGIN, COMMIT)', COUNT, () => orm.em.fork().transactional(async () => {}));
    await measure('pool.query("SELECT 1")', COUNT, () => pool.query('SELECT 1'));
    const single = await pool.connect();
    await measure('client.query("SELECT 1"), one pg client', COUNT, () => single.query('SELECT 1'));
    await measure('client.query("SELECT $1") with a 8 KB string parameter', COUNT, (i) => single.query('SELECT $1::jsonb IS NULL', [viaOrm[i]!.rawJson]));
    await measure('client BEGIN + COMMIT', COUNT, async () => {
      await single.query('BEGIN');
      await single.query('COMMIT');
    });
    single.release();
    await measure('applyStripeEvent through MikroORM (the product)', COUNT, (i) => applyStripeEvent(store, events[i]!, rules, logger));
    // The same statements as the plain baselines (bench/baselines/purchase-pg.ts), through each runner.
    const purchase = (run: Run, e: (typeof viaPg)[number]) => {
      const event = e.event as { id: string; type: string; data: { object: Session } };
      return runPurchase(run, { id: event.id, type: event.type, session: event.data.object }, e.rawJson);
    };
    const knex = orm.em.getKnex();
    // knex numbers the ? placeholders itself; $n in the SQL above become ? for it.
    const viaKnex = makeEvents(COUNT, 'k');
    await measure('same transaction through knex.transaction + raw(sql, bindings)', COUNT, (i) =>
      knex.transaction((trx) => purchase(async (sql, values) => (await trx.raw(sql.replace(/\$\d+/g, '?'), values as never)) as never, viaKnex[i]!)),
    );
    const viaOrmConnection = makeEvents(COUNT, 'c');
    await measure('same transaction, em.transactional + em.getConnection().execute', COUNT, (i) =>
      orm.em.fork().transactional((em) =>
        purchase(async (sql, values) => ({ rows: (await em.execute(sql.replace(/\$\d+/g, '?'), values)) as never }), viaOrmConnection[i]!),
      ),
    );
    const viaPrepared = makeEvents(COUNT, 'n');
    const client = await pool.connect();
    try {
      await measure('same transaction through plain pg, bound parameters', COUNT, async (i) => {
        await client.query('BEGIN');
        await purchase(pgRunner(client), viaPg[i]!);
        await client.query('COMMIT');
      });
      await measure('same, plain pg with named (prepared once per connection) statements', COUNT, async (i) => {
        await client.query('BEGIN');
        await purchase(async (sql, values) => (await client.query({ name: createHash('sha1').update(sql).digest('hex').slice(0, 16), text: sql, values })) as never, viaPrepared[i]!);
        await client.query('COMMIT');
      });
    } finally {
      client.release();
    }
    postgresCpu?.stop();
  } finally {
    await pool.end();
    await orm.close();
    await database.drop();
    await server.stop();
  }
}

await main();
