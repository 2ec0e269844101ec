import { parseArgs } from 'node:util';

/** Every knob of a run; flags win over BENCH_* variables, which win over the defaults. */
export interface BenchOptions {
  /** Seconds of each timed phase. */
  durationS: number;
  /** Unmeasured seconds before each timed phase (JIT, pools, connections). */
  warmupS: number;
  /** In-flight webhook requests of the closed-loop phase (product and plain baseline alike). */
  concurrency: number;
  /** Offered webhook events per second of the open-loop phase. */
  rate: number;
  /** In-flight GetBalance calls of the throughput phase. */
  balanceConcurrency: number;
  /** In-flight GetBalance calls of the latency phase. */
  balanceLatencyConcurrency: number;
  /** Distinct buyers the webhook events spread over. */
  users: number;
  /** Share of deliveries that repeat an event already sent (Stripe redelivers). */
  redeliveryRate: number;
  /** DB_POOL_MAX given to CreditsService and to both baselines. */
  poolMax: number;
  /** pgbench clients (-c); the product's pool size unless told. */
  pgbenchClients: number;
  /** Run only one part (profiling, quick checks); the other parts are reported as skipped. */
  only: 'all' | 'webhook' | 'balance';
  skipStartup: boolean;
  skipPgbench: boolean;
  /** Write CPU profiles of the edge and CreditsService under bench/profiles/ (slows them down). */
  profile: boolean;
  /** Exit 1 when a target is not met (money errors always exit 1). */
  strict: boolean;
  /** Run the product from its TypeScript sources through tsx instead of the compiled build (dist/, built by the bench). */
  source: boolean;
}

const FLAGS = {
  duration: { env: 'BENCH_DURATION_S', fallback: 10 },
  warmup: { env: 'BENCH_WARMUP_S', fallback: 2 },
  concurrency: { env: 'BENCH_CONCURRENCY', fallback: 32 },
  rate: { env: 'BENCH_RATE', fallback: 200 },
  'balance-concurrency': { env: 'BENCH_BALANCE_CONCURRENCY', fallback: 32 },
  'balance-latency-concurrency': { env: 'BENCH_BALANCE_LATENCY_CONCURRENCY', fallback: 8 },
  users: { env: 'BENCH_USERS', fallback: 400 },
  redelivery: { env: 'BENCH_REDELIVERY', fallback: 0.05 },
  'pool-max': { env: 'BENCH_POOL_MAX', fallback: 0 },
  'pgbench-clients': { env: 'BENCH_PGBENCH_CLIENTS', fallback: 0 },
} as const;

const SWITCHES = {
  'skip-startup': 'BENCH_SKIP_STARTUP',
  'skip-pgbench': 'BENCH_SKIP_PGBENCH',
  profile: 'BENCH_PROFILE',
  strict: 'BENCH_STRICT',
  source: 'BENCH_SOURCE',
} as const;

export const USAGE = `npm run bench -- [--duration=S] [--warmup=S] [--concurrency=N] [--rate=R]
  [--balance-concurrency=N] [--balance-latency-concurrency=N] [--users=N] [--redelivery=0.05]
  [--pool-max=N] [--pgbench-clients=N] [--only=webhook|balance] [--skip-startup] [--skip-pgbench] [--profile] [--strict] [--source]
Each flag also reads from its BENCH_* variable (e.g. BENCH_DURATION_S=3). Database: BENCH_DATABASE_URL or
DATABASE_URL (an admin URL: the bench creates and drops credits_bench_* databases there), else an embedded
PostgreSQL in a temporary directory.`;

function numberFrom(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name}: expected a non-negative number, got ${raw}`);
  return value;
}

const truthy = (raw: string | undefined) => raw !== undefined && /^(1|true|yes|on)$/i.test(raw.trim());

export function readOptions(argv: string[], env: NodeJS.ProcessEnv): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...Object.fromEntries(Object.keys(FLAGS).map((name) => [name, { type: 'string' as const }])),
      ...Object.fromEntries(Object.keys(SWITCHES).map((name) => [name, { type: 'boolean' as const }])),
      only: { type: 'string' as const },
      help: { type: 'boolean' as const },
    },
    strict: true,
  }) as { values: Record<string, string | boolean | undefined> };
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const read = (name: keyof typeof FLAGS) => {
    const flag = values[name];
    return numberFrom(name, typeof flag === 'string' ? flag : env[FLAGS[name].env], FLAGS[name].fallback);
  };
  const on = (name: keyof typeof SWITCHES) => values[name] === true || truthy(env[SWITCHES[name]]);
  const only = (typeof values.only === 'string' ? values.only : env.BENCH_ONLY) || 'all';
  if (!['all', 'webhook', 'balance'].includes(only)) throw new Error(`--only: webhook or balance, got ${only}`);
  const poolMax = read('pool-max') || numberFrom('DB_POOL_MAX', env.DB_POOL_MAX, 10);
  const options: BenchOptions = {
    durationS: read('duration'),
    warmupS: read('warmup'),
    concurrency: Math.round(read('concurrency')),
    rate: read('rate'),
    balanceConcurrency: Math.round(read('balance-concurrency')),
    balanceLatencyConcurrency: Math.round(read('balance-latency-concurrency')),
    users: Math.round(read('users')),
    redeliveryRate: read('redelivery'),
    poolMax: Math.round(poolMax),
    pgbenchClients: Math.round(read('pgbench-clients') || poolMax),
    only: only as BenchOptions['only'],
    skipStartup: on('skip-startup') || only !== 'all',
    skipPgbench: on('skip-pgbench') || only === 'balance',
    profile: on('profile'),
    strict: on('strict'),
    source: on('source'),
  };
  if (options.durationS <= 0) throw new Error('--duration must be above 0');
  if (options.concurrency < 1 || options.balanceConcurrency < 1 || options.balanceLatencyConcurrency < 1) {
    throw new Error('concurrency values must be at least 1');
  }
  if (options.rate <= 0) throw new Error('--rate must be above 0');
  if (options.users < 1) throw new Error('--users must be at least 1');
  if (options.redeliveryRate >= 1) throw new Error('--redelivery is a share below 1 (e.g. 0.05)');
  return options;
}
