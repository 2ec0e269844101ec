/**
 * `npm run bench`: the product (CreditsService and the edge as separate processes) against a fresh
 * database, next to the limits of this machine measured in the same run; prints one table and
 * writes the same figures as JSON under bench/results/. How to run it and read it: the README's
 * Benchmark section.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createCreditsClient, type CreditsServiceClient } from '../src/grpc/client';
import { checkoutSession, stripeEvent } from '../test/support/stripe-events';
import { runPgbench, type PgbenchResult } from './baselines/pgbench';
import { runBalanceLoad, runSpendLoad, type UnaryLoadResult } from './load/unary-load';
import { checkMoney } from './load/money-check';
import { deliver, webhookAgent } from './load/webhook-client';
import { makeBuyers, planDeliveries, seededRandom, type WebhookBook } from './load/webhook-events';
import { closedLoopPhase, openLoopPhase, redeliverUnanswered, type WebhookLoad } from './load/webhook-phases';
import { readOptions, type BenchOptions } from './options';
import { renderProfileSummary, summariseProfile } from './profile-summary';
import { judgeTargets, renderTable, writeResults, type BalanceFigures, type BenchResults, type Skipped, type SpendCheck, type WebhookFigures } from './report';
import { measureStartup, type StartupResult } from './startup';
import { startBaseline } from './support/baseline-process';
import { buildProduct } from './support/build';
import { childrenOf, CpuMeter, phaseCpu } from './support/cpu';
import { createBenchDatabase, findPostmasterPid, openBenchServer, withClient, type BenchDatabase, type BenchServer } from './support/database';
import { MemorySampler } from './support/memory';
import { REPO_ROOT, type Service } from './support/processes';
import { startProduct } from './support/product';

const log = (message: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
const loadAverage = () => os.loadavg().map((value) => Math.round(value * 100) / 100);

/** Everything started, stopped in reverse order whatever happens. */
class Cleanup {
  private readonly steps: { name: string; run: () => Promise<unknown> }[] = [];
  add(name: string, run: () => Promise<unknown>): void {
    this.steps.push({ name, run });
  }
  async runAll(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) {
      await step.run().catch((error: unknown) => log(`cleanup ${step.name} failed: ${error instanceof Error ? error.message : String(error)}`));
    }
  }
}

/** The three webhook targets: closed loop, open loop, Stripe-style redelivery of anything unanswered, money check. */
async function webhookPhases(loads: WebhookLoad[], databases: string[]): Promise<BenchResults['webhook']> {
  log(`webhook closed loop: ${loads[0]!.options.concurrency} concurrent, ${loads[0]!.options.durationS} s`);
  const closed: WebhookFigures['closed'][] = [];
  for (const load of loads) closed.push(await closedLoopPhase(load));
  log(`webhook open loop: ${loads[0]!.options.rate}/s offered, ${loads[0]!.options.durationS} s`);
  const open: WebhookFigures['open'][] = [];
  for (const load of loads) open.push(await openLoopPhase(load));
  log('money check');
  const money: WebhookFigures['money'][] = [];
  for (const [index, load] of loads.entries()) {
    const resent = await redeliverUnanswered(load);
    if (resent) log(`  ${load.target.name}: ${resent} unanswered deliveries sent again, as Stripe would`);
    const check = await withClient(databases[index]!, (client) => checkMoney(client, load.book));
    log(`  ${load.target.name}: money ${check.ok ? 'exact' : `FAILED: ${check.problems.join('; ')}`}`);
    money.push(check);
  }
  const figures = (index: number) => ({ closed: closed[index]!, open: open[index]!, money: money[index]! });
  return { product: figures(0), design: figures(1), plain: figures(2) };
}

/** Without the webhook phases (--only=balance), one purchase per buyer makes the users GetBalance reads. */
async function seedBuyers(load: WebhookLoad): Promise<void> {
  const agent = webhookAgent(8);
  const deliveries = load.buyers.flatMap((buyer) =>
    planDeliveries(load.book, { count: 1, buyers: [buyer], secret: load.secret, redeliveryRate: 0, random: load.random }),
  );
  for (let index = 0; index < deliveries.length; index += 8) {
    await Promise.all(deliveries.slice(index, index + 8).map((delivery) => deliver(agent, load.target, delivery)));
  }
  agent.destroy();
}

type UnaryPhaseLoad = (client: CreditsServiceClient, load: { concurrency: number; durationMs: number }, phase: number) => Promise<UnaryLoadResult>;

/**
 * One RPC under load: a warm-up, throughput at the high concurrency, then latency at the low one.
 * `ok` counts the calls answered OK across every run, warm-up included (what the spend check expects).
 */
async function unaryPhase(
  rpc: 'GetBalance' | 'SpendCredits',
  name: string,
  url: string,
  token: string,
  options: BenchOptions,
  cpu: { meter: CpuMeter; groups: string[] },
  load: UnaryPhaseLoad,
): Promise<{ figures: BalanceFigures; ok: number }> {
  const client = createCreditsClient(url, { token });
  let ok = 0;
  let phase = 0;
  try {
    const run = async (concurrency: number, seconds: number) => {
      const measured = cpu.meter.start();
      const result = await load(client, { concurrency, durationMs: seconds * 1000 }, phase++);
      ok += result.codes.OK ?? 0;
      return { ...result, cpu: phaseCpu(measured(), result.calls, cpu.groups) };
    };
    if (options.warmupS > 0) await run(options.balanceConcurrency, options.warmupS);
    const throughput = await run(options.balanceConcurrency, options.durationS);
    log(`  ${name}: ${rpc} c=${options.balanceConcurrency} ${throughput.callsPerS} calls/s, p99 ${throughput.latencyMs.p99} ms`);
    const latency = await run(options.balanceLatencyConcurrency, options.durationS);
    log(`  ${name}: ${rpc} c=${options.balanceLatencyConcurrency} ${latency.callsPerS} calls/s, p99 ${latency.latencyMs.p99} ms`);
    return { figures: { throughput, latency }, ok };
  } finally {
    client.close();
  }
}

/** Enough credits for every spend of the run, granted through ledger rows so balances keep equalling their ledger. */
async function fundSpenders(databaseUrl: string): Promise<void> {
  await withClient(databaseUrl, (client) =>
    client.query(`WITH g AS (
      INSERT INTO credit_transactions (user_id, amount, kind, reason, created_by, balance_after)
      SELECT id, 1000000, 'grant', 'bench: credits to spend', 'bench', credits_balance + 1000000 FROM users RETURNING user_id, amount
    ) UPDATE users SET credits_balance = credits_balance + g.amount FROM g WHERE users.id = g.user_id`),
  );
}

/** Every spend answered OK is one ledger row under its key, and no balance differs from its ledger. */
async function checkSpends(databaseUrl: string, prefixes: Record<'product' | 'plain', { prefix: string; okKeys: number }>): Promise<SpendCheck> {
  return withClient(databaseUrl, async (client) => {
    const problems: string[] = [];
    for (const [name, { prefix, okKeys }] of Object.entries(prefixes)) {
      const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM credit_transactions WHERE kind = 'spend' AND idempotency_key LIKE $1`, [`${prefix}-%`]);
      if (rows[0]!.n !== okKeys) problems.push(`${name}: ${okKeys} spends answered OK, ${rows[0]!.n} spend rows`);
    }
    const { rows } = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM users u LEFT JOIN (SELECT user_id, sum(amount) AS s FROM credit_transactions GROUP BY user_id) l ON l.user_id = u.id
       WHERE u.credits_balance <> coalesce(l.s, 0)`,
    );
    if (rows[0]!.n > 0) problems.push(`${rows[0]!.n} balances differ from their ledger sums`);
    return { ok: problems.length === 0, problems };
  });
}

/** Existing users, named the three ways callers name them: UUID, integer id and email. */
async function balanceIdentifiers(databaseUrl: string): Promise<string[]> {
  return withClient(databaseUrl, async (client) => {
    const { rows } = await client.query<{ id: string; uuid: string; email: string }>('SELECT id::text, uuid::text, email FROM users ORDER BY id');
    return rows.map((row, index) => [row.uuid, row.id, row.email][index % 3]!);
  });
}

async function pgbenchPhase(options: BenchOptions, database: BenchDatabase, cpu: CpuMeter): Promise<PgbenchResult> {
  log(`pgbench: ${options.pgbenchClients} clients, ${options.durationS} s`);
  const payload = JSON.stringify(stripeEvent('checkout.session.completed', checkoutSession({ metadata: { credits: '100' } })));
  const measured = cpu.start();
  const result = await runPgbench({ databaseUrl: database.url, users: options.users, clients: options.pgbenchClients, seconds: options.durationS, payload });
  const figures = measured();
  if (result.transactions) result.postgresCpuMsPerTx = phaseCpu(figures, result.transactions, ['postgres']).msPerRequest.postgres;
  log(result.skipped ? `  pgbench skipped: ${result.skipped}` : `  pgbench ${result.tps} tx/s (${result.failed} failed)`);
  return result;
}

async function main(): Promise<number> {
  const options = readOptions(process.argv.slice(2), process.env);
  const runId = randomBytes(4).toString('hex');
  const secret = `whsec_bench${randomBytes(16).toString('hex')}`;
  const token = randomBytes(24).toString('hex');
  const loadAverageBefore = loadAverage();
  const notes: string[] = [];
  const cleanup = new Cleanup();
  const onSignal = () => {
    log('interrupted: stopping everything started');
    void cleanup.runAll().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  log(`run ${runId}: ${JSON.stringify(options)}`);
  if (loadAverageBefore[0]! > os.cpus().length * 0.5) notes.push(`the machine was busy before the run (load average ${loadAverageBefore.join(' ')})`);

  const baseEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['DATABASE_URL', 'ASYNC_DATABASE_URL', 'SYNC_DATABASE_URL', 'NODE_OPTIONS']) delete baseEnv[name];
  const profileDir = options.profile ? path.join(REPO_ROOT, 'bench/profiles', runId) : undefined;
  if (profileDir) notes.push(`CPU profiles were being written (${path.relative(REPO_ROOT, profileDir)}): the product's figures are slowed by the profiler`);

  try {
    if (!options.source) {
      log('npm run build: the product runs as its compiled build (dist/), as in production');
      log(`  built in ${await buildProduct()} ms`);
    } else notes.push('the product ran from its TypeScript sources through tsx (--source), not the compiled build production runs');
    const server: BenchServer = await openBenchServer(process.env);
    cleanup.add('database server', () => server.stop());
    const version = await withClient(server.adminUrl, async (client) => (await client.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version);
    log(`database server: ${server.kind}, PostgreSQL ${version}`);
    if (server.kind === 'external') notes.push('postgres CPU figures include any other work on that server');
    const fresh = async (purpose: string): Promise<BenchDatabase> => {
      const database = await createBenchDatabase(server, purpose);
      cleanup.add(`drop ${database.name}`, () => database.drop());
      return database;
    };
    const productDb = await fresh('product');
    const designDb = await fresh('design');
    const plainDb = await fresh('plain');

    const memory = new MemorySampler();
    const watch = (service: Service) => {
      memory.watch(service.name, service.pid);
      cleanup.add(`stop ${service.name}`, async () => {
        memory.sample();
        await service.stop();
      });
    };
    log('starting CreditsService and the edge');
    const nodeFlags = process.env.BENCH_NODE_FLAGS?.split(/\s+/).filter(Boolean);
    if (nodeFlags?.length) notes.push(`the services ran with node flags ${nodeFlags.join(' ')} (BENCH_NODE_FLAGS)`);
    if (process.env.BENCH_LOG_LEVEL) notes.push(`the services ran with LOG_LEVEL=${process.env.BENCH_LOG_LEVEL} (BENCH_LOG_LEVEL)`);
    const product = await startProduct({
      databaseUrl: productDb.url,
      poolMax: options.poolMax,
      webhookSecret: secret,
      apiToken: token,
      baseEnv,
      profileDir,
      nodeFlags,
      build: options.source ? 'source' : 'compiled',
    });
    watch(product.credits);
    watch(product.edge);
    const plainEnv = { ...baseEnv, DB_POOL_MAX: String(options.poolMax), STRIPE_WEBHOOK_SECRET: secret, CREDITS_API_TOKEN: token };
    const plainWebhook = await startBaseline('plain-webhook', 'bench/baselines/plain-webhook.ts', { ...plainEnv, DATABASE_URL: plainDb.url, HTTP_PORT: '0' });
    watch(plainWebhook.service);
    const plainGrpc = await startBaseline('plain-grpc', 'bench/baselines/plain-grpc-balance.ts', { ...plainEnv, DATABASE_URL: productDb.url, GRPC_PORT: '0' });
    watch(plainGrpc.service);
    // The two-process design limit: the same two hops as the product (HTTP edge → gRPC → purchase on pg), in plain code.
    const designCredits = await startBaseline('design-credits', 'bench/baselines/design-credits.ts', { ...plainEnv, DATABASE_URL: designDb.url, GRPC_PORT: '0' });
    watch(designCredits.service);
    const designEdge = await startBaseline('design-edge', 'bench/baselines/design-edge.ts', {
      ...plainEnv,
      CREDITS_GRPC_URL: `127.0.0.1:${designCredits.port}`,
      HTTP_PORT: '0',
    });
    watch(designEdge.service);
    memory.start();
    const postmaster = await findPostmasterPid(server.adminUrl);
    const cpu = new CpuMeter({
      bench: () => [process.pid],
      edge: () => [product.edge.pid],
      credits: () => [product.credits.pid],
      'plain-webhook': () => [plainWebhook.service.pid],
      'plain-grpc': () => [plainGrpc.service.pid],
      'design-edge': () => [designEdge.service.pid],
      'design-credits': () => [designCredits.service.pid],
      postgres: () => (postmaster ? [postmaster, ...childrenOf(postmaster)] : []),
    });

    const buyers = makeBuyers(options.users, runId);
    const webhookTargets = {
      product: { port: product.httpPort, seed: 1, groups: ['edge', 'credits', 'postgres', 'bench'] },
      design: { port: designEdge.port, seed: 3, groups: ['design-edge', 'design-credits', 'postgres', 'bench'] },
      plain: { port: plainWebhook.port, seed: 2, groups: ['plain-webhook', 'postgres', 'bench'] },
    };
    const loads = (['product', 'design', 'plain'] as const).map(
      (name): WebhookLoad => ({
        target: { name, port: webhookTargets[name].port, path: '/webhooks/stripe' },
        book: new Map() as WebhookBook,
        buyers,
        secret,
        random: seededRandom(webhookTargets[name].seed),
        options,
        log,
        cpu,
        cpuGroups: webhookTargets[name].groups,
      }),
    );
    let webhook: BenchResults['webhook'] = { skipped: 'skipped by --only=balance' };
    if (options.only !== 'balance') webhook = await webhookPhases(loads, [productDb.url, designDb.url, plainDb.url]);
    else await seedBuyers(loads[0]!);

    let balance: BenchResults['balance'] = { skipped: 'skipped by --only=webhook' };
    let spend: BenchResults['spend'] = { skipped: 'skipped by --only=webhook' };
    if (options.only !== 'webhook') {
      log('GetBalance');
      const identifiers = await balanceIdentifiers(productDb.url);
      const targets = {
        product: { url: product.grpcUrl, cpu: { meter: cpu, groups: ['credits', 'postgres', 'bench'] } },
        plain: { url: `127.0.0.1:${plainGrpc.port}`, cpu: { meter: cpu, groups: ['plain-grpc', 'postgres', 'bench'] } },
      };
      const balancePhase = (name: keyof typeof targets) =>
        unaryPhase('GetBalance', name, targets[name].url, token, options, targets[name].cpu, (client, load) => runBalanceLoad(name, client, identifiers, load));
      balance = { product: (await balancePhase('product')).figures, plain: (await balancePhase('plain')).figures };
      log('SpendCredits');
      await fundSpenders(productDb.url);
      const spendPhase = (name: keyof typeof targets) =>
        unaryPhase('SpendCredits', name, targets[name].url, token, options, targets[name].cpu, (client, load, phase) =>
          runSpendLoad(name, client, identifiers, { ...load, keyPrefix: `bench-${runId}-${name}-${phase}` }),
        );
      const productSpend = await spendPhase('product');
      const plainSpend = await spendPhase('plain');
      const check = await checkSpends(productDb.url, {
        product: { prefix: `bench-${runId}-product`, okKeys: productSpend.ok },
        plain: { prefix: `bench-${runId}-plain`, okKeys: plainSpend.ok },
      });
      log(`  spend check: ${check.ok ? 'exact' : `FAILED: ${check.problems.join('; ')}`}`);
      spend = {
        product: productSpend.figures,
        plain: plainSpend.figures,
        check,
      };
    }
    memory.sample();
    const memoryFigures = memory.read();
    memory.stop();

    const pgbench = options.skipPgbench
      ? { clients: options.pgbenchClients, seconds: options.durationS, skipped: 'not run (--skip-pgbench or --only)' }
      : await pgbenchPhase(options, await fresh('pgbench'), cpu);
    if (pgbench.skipped) notes.push(`pgbench ${pgbench.skipped}`);
    if (pgbench.ledgerConsistent === false) notes.push('pgbench: balances differ from ledger sums after the run');

    cpu.stop();
    let startup: StartupResult | Skipped = { skipped: 'not run (--skip-startup or --only)' };
    if (!options.skipStartup) {
      if (options.source) startup = { skipped: 'not run with --source: the start-up target is about the compiled build' };
      else {
        log('startup: the compiled build on an empty database (cold: it migrates), then warm; then npm start with an embedded database, cold then warm');
        const startupDb = await createBenchDatabase(server, 'startup', { migrate: false });
        cleanup.add(`drop ${startupDb.name}`, () => startupDb.drop());
        startup = await measureStartup(baseEnv, { webhookSecret: secret, apiToken: token }, startupDb.url);
        log(`  compiled: ready after ${startup.compiledWarm.readyMs} ms (warm), ${startup.compiledCold.readyMs} ms (cold); npm start ${startup.npmWarm.readyMs} ms (warm)`);
        if (startup.leftoverPostgres.length) notes.push(`startup: PostgreSQL processes ${startup.leftoverPostgres.join(', ')} outlived npm start's SIGINT (killed by the bench)`);
        for (const run of [startup.compiledCold, startup.compiledWarm]) {
          if (run.exit !== 0) notes.push(`startup: ${run.command} exited with ${run.exit} after SIGINT`);
        }
      }
    }
    log('stopping the services and dropping the databases');
    await cleanup.runAll();
    const profiles = profileDir
      ? readdirSync(profileDir, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.cpuprofile')).map((file) => path.join(profileDir, file))
      : undefined;

    notes.push('other work on this machine shares its cores: compare ratios and CPU ms per request measured in the same run rather than absolute rates across runs');
    const partial: Omit<BenchResults, 'targets'> = {
      date: new Date().toISOString(),
      machine: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
        totalMemoryMb: Math.round(os.totalmem() / 2 ** 20),
        loadAverageBefore,
        loadAverageAfter: loadAverage(),
      },
      node: process.version,
      database: { kind: server.kind, version },
      parameters: options,
      build: options.source ? 'source' : 'compiled',
      webhook,
      pgbench,
      balance,
      spend,
      memory: memoryFigures,
      startup,
      notes,
      ...(profiles ? { profiles } : {}),
    };
    const results: BenchResults = { ...partial, targets: judgeTargets(partial) };
    console.log(renderTable(results));
    const file = await writeResults(results, path.join(REPO_ROOT, 'bench/results'));
    console.log(`\nresults: ${path.relative(process.cwd(), file)}`);
    // Thread 0 is the service; with --source the others are tsx's module loader thread, busy only at start.
    for (const profile of (profiles ?? []).filter((file) => /\.\d+\.0\.\d+\.cpuprofile$/.test(file))) {
      console.log(`\n${renderProfileSummary(path.relative(process.cwd(), profile), summariseProfile(JSON.parse(readFileSync(profile, 'utf8')), 20))}`);
    }
    const moneyOk =
      ('skipped' in webhook || (webhook.product.money.ok && webhook.design.money.ok && webhook.plain.money.ok)) && ('skipped' in spend || spend.check.ok);
    if (!moneyOk) console.log('\nFAILED: the money check found errors; these figures are not a result.');
    const missed = results.targets.filter((target) => target.met === false);
    return !moneyOk || (options.strict && missed.length > 0) ? 1 : 0;
  } finally {
    await cleanup.runAll();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
