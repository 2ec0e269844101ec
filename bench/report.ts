import fs from 'node:fs/promises';
import path from 'node:path';
import type { BenchOptions } from './options';
import type { PgbenchResult } from './baselines/pgbench';
import type { UnaryLoadResult } from './load/unary-load';
import type { MoneyCheck } from './load/money-check';
import type { ClosedLoopResult } from './load/webhook-closed-loop';
import type { OpenLoopResult } from './load/webhook-open-loop';
import type { StartupResult } from './startup';
import type { PhaseCpu } from './support/cpu';
import { round, type LatencySummary } from './support/latency';
import type { MemoryFigures } from './support/memory';

export interface WebhookFigures {
  closed: ClosedLoopResult & { cpu: PhaseCpu };
  open: OpenLoopResult & { cpu: PhaseCpu };
  money: MoneyCheck;
}

export interface BalanceFigures {
  throughput: UnaryLoadResult & { cpu: PhaseCpu };
  latency: UnaryLoadResult & { cpu: PhaseCpu };
}

/** After the spend phases: each spend answered OK is one ledger row, and balances equal their ledgers. */
export interface SpendCheck {
  ok: boolean;
  problems: string[];
}

export interface Target {
  name: string;
  goal: string;
  value: string;
  /** null: not measured in this run. */
  met: boolean | null;
}

export type Skipped = { skipped: string };

/** The slot for SpendCredits (another change adds the RPC): its throughput and its plain baseline's, when measured. */

export interface BenchResults {
  date: string;
  machine: { cpus: number; cpuModel: string; totalMemoryMb: number; loadAverageBefore: number[]; loadAverageAfter: number[] };
  node: string;
  database: { kind: 'embedded' | 'external'; version: string };
  parameters: BenchOptions;
  /** Which build of the product ran: dist/ (`compiled`, as in production) or the sources through tsx. */
  build: 'compiled' | 'source';
  /**
   * product: the two processes; design: the two-process design limit (node:http edge with HMAC,
   * JSON.parse and one grpc-js call, grpc-js server with the purchase on plain pg); plain: one
   * node:http process with the purchase on plain pg (no gRPC hop).
   */
  webhook: { product: WebhookFigures; design: WebhookFigures; plain: WebhookFigures } | Skipped;
  pgbench: PgbenchResult;
  balance: { product: BalanceFigures; plain: BalanceFigures } | Skipped;
  /** SpendCredits against the plain grpc-js + pg server doing the same transaction (same shape as GetBalance). */
  spend: { product: BalanceFigures; plain: BalanceFigures; check: SpendCheck } | Skipped;
  memory: Record<string, MemoryFigures>;
  startup: StartupResult | Skipped;
  targets: Target[];
  notes: string[];
  profiles?: string[];
}

const isSkipped = <T extends object>(value: T | Skipped): value is Skipped => 'skipped' in value;
const ms = (value: number) => (Number.isFinite(value) ? value.toFixed(1) : '–');
const pct = (l: LatencySummary) => `${ms(l.p50)} / ${ms(l.p95)} / ${ms(l.p99)}`;
const ratio = (product: number, limit: number | undefined) => (limit ? `${(product / limit).toFixed(2)}×` : '–');
/** Display names of the CPU groups: each baseline's processes by the role they stand for. */
const GROUP_NAMES: Record<string, string> = { 'plain-webhook': 'server', 'plain-grpc': 'server', 'design-edge': 'edge', 'design-credits': 'credits' };
const cpuMs = (cpu: PhaseCpu) =>
  Object.entries(cpu.msPerRequest)
    .map(([group, value]) => `${GROUP_NAMES[group] ?? group} ${value.toFixed(2)}`)
    .join(', ');
/** CPU per request of each product process as a multiple of the limit's process that does its job. */
const cpuRatios = (product: PhaseCpu, limit: PhaseCpu, pairs: [string, string][]) =>
  pairs.map(([mine, theirs]) => `${mine} ${ratio(product.msPerRequest[mine] ?? 0, limit.msPerRequest[theirs])}`).join(', ');
const WEBHOOK_PAIRS: [string, string][] = [
  ['edge', 'design-edge'],
  ['credits', 'design-credits'],
  ['postgres', 'postgres'],
];
const BALANCE_PAIRS: [string, string][] = [
  ['credits', 'plain-grpc'],
  ['postgres', 'postgres'],
];
const verdict = (met: boolean | null) => (met === null ? 'not measured' : met ? 'met' : 'NOT MET');

export const TARGETS = {
  webhookVsDesign: 0.8,
  webhookP99Ms: 25,
  balanceVsPlain: 0.9,
  balanceP99Ms: 10,
  spendVsPlain: 0.8,
  rssMb: 150,
  readyCompiledMs: 1_000,
  readyNpmStartMs: 3_000,
} as const;

/** The targets on a 2-core machine: the design-limit ratios of the scaling issue, the earlier latency, memory and start-up ones. */
export function judgeTargets(results: Omit<BenchResults, 'targets'>): Target[] {
  const { webhook, balance, spend, memory, startup, parameters } = results;
  const target = (name: string, goal: string, value: string, met: boolean | null): Target => ({ name, goal, value, met });
  const unmeasured = (name: string, goal: string, why = 'skipped') => target(name, goal, why, null);
  const rssTarget = (name: string, label: string) => {
    const value = memory[name]?.peakMb;
    const goal = `≤ ${TARGETS.rssMb} MB`;
    return value === undefined ? unmeasured(label, goal) : target(label, goal, `${value} MB`, value <= TARGETS.rssMb);
  };
  const targets: Target[] = [];
  const webhookThroughput = `webhook throughput, ${parameters.concurrency} concurrent`;
  const webhookGoal = `≥ ${TARGETS.webhookVsDesign.toFixed(2)} × two-process design limit`;
  const webhookLatency = `webhook p99 at ${parameters.rate}/s offered`;
  if (isSkipped(webhook)) {
    targets.push(unmeasured(webhookThroughput, webhookGoal), unmeasured(webhookLatency, `≤ ${TARGETS.webhookP99Ms} ms`));
  } else {
    const webhookRatio = webhook.product.closed.requestsPerS / webhook.design.closed.requestsPerS;
    targets.push(
      target(webhookThroughput, webhookGoal, `${webhookRatio.toFixed(2)}×`, webhookRatio >= TARGETS.webhookVsDesign && webhook.product.closed.errors === 0),
      target(webhookLatency, `≤ ${TARGETS.webhookP99Ms} ms`, `${ms(webhook.product.open.latencyMs.p99)} ms`, webhook.product.open.latencyMs.p99 <= TARGETS.webhookP99Ms && webhook.product.open.errors === 0),
    );
  }
  const balanceThroughput = `GetBalance throughput, ${parameters.balanceConcurrency} concurrent`;
  const balanceGoal = `≥ ${TARGETS.balanceVsPlain.toFixed(2)} × plain grpc-js + pg`;
  const balanceLatency = `GetBalance p99, ${parameters.balanceLatencyConcurrency} concurrent`;
  if (isSkipped(balance)) {
    targets.push(unmeasured(balanceThroughput, balanceGoal), unmeasured(balanceLatency, `≤ ${TARGETS.balanceP99Ms} ms`));
  } else {
    const balanceRatio = balance.product.throughput.callsPerS / balance.plain.throughput.callsPerS;
    targets.push(
      target(balanceThroughput, balanceGoal, `${balanceRatio.toFixed(2)}×`, balanceRatio >= TARGETS.balanceVsPlain && balance.product.throughput.errors === 0),
      target(balanceLatency, `≤ ${TARGETS.balanceP99Ms} ms`, `${ms(balance.product.latency.latencyMs.p99)} ms`, balance.product.latency.latencyMs.p99 <= TARGETS.balanceP99Ms && balance.product.latency.errors === 0),
    );
  }
  const spendThroughput = 'SpendCredits throughput';
  const spendGoal = `≥ ${TARGETS.spendVsPlain.toFixed(2)} × its plain baseline`;
  if (isSkipped(spend)) targets.push(unmeasured(spendThroughput, spendGoal, spend.skipped));
  else {
    const spendRatio = spend.product.throughput.callsPerS / spend.plain.throughput.callsPerS;
    targets.push(
      target(spendThroughput, spendGoal, `${spendRatio.toFixed(2)}×`, spendRatio >= TARGETS.spendVsPlain && spend.product.throughput.errors === 0 && spend.check.ok),
    );
  }
  targets.push(rssTarget('edge', 'edge peak RSS under load'), rssTarget('credits', 'CreditsService peak RSS under load'));
  const readyCompiled = 'ready, compiled build, warm (node dist/src/main.js)';
  const readyNpm = 'ready after npm start, warm embedded db (development)';
  if (isSkipped(startup)) {
    targets.push(unmeasured(readyCompiled, `≤ ${TARGETS.readyCompiledMs} ms`), unmeasured(readyNpm, `≤ ${TARGETS.readyNpmStartMs} ms`));
  } else {
    targets.push(
      target(readyCompiled, `≤ ${TARGETS.readyCompiledMs} ms`, `${startup.compiledWarm.readyMs} ms`, startup.compiledWarm.readyMs <= TARGETS.readyCompiledMs),
      target(readyNpm, `≤ ${TARGETS.readyNpmStartMs} ms`, `${startup.npmWarm.readyMs} ms`, startup.npmWarm.readyMs <= TARGETS.readyNpmStartMs),
    );
  }
  const money = 'money: every answered event credited exactly once';
  targets.push(isSkipped(webhook) ? unmeasured(money, 'exact') : target(money, 'exact', webhook.product.money.ok ? 'exact' : 'FAILED', webhook.product.money.ok));
  return targets;
}

function markdownTable(header: string[], rows: string[][]): string {
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) => `| ${header.map((_, column) => (cells[column] ?? '').padEnd(widths[column]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

// Columns: measure | product | limit (the same design in plain code) | product / limit | one process, plain pg | product / one process
function webhookRows(webhook: BenchResults['webhook'], p: BenchOptions): string[][] {
  if (isSkipped(webhook)) return [['webhook', webhook.skipped]];
  const { product, design, plain } = webhook;
  const money = (check: MoneyCheck) => (check.ok ? `exact (${check.answeredSessions} sessions)` : 'FAILED');
  const rate = (figures: WebhookFigures) => figures.closed.requestsPerS;
  const nodeCpu = (cpu: PhaseCpu, groups: string[]) => groups.reduce((sum, group) => sum + (cpu.msPerRequest[group] ?? 0), 0);
  return [
    [`webhook closed loop, c=${p.concurrency}: req/s`, String(rate(product)), String(rate(design)), ratio(rate(product), rate(design)), String(rate(plain)), ratio(rate(product), rate(plain))],
    ['  latency p50 / p95 / p99 ms', pct(product.closed.latencyMs), pct(design.closed.latencyMs), '', pct(plain.closed.latencyMs), ''],
    ['  errors (non-2xx) / requests', `${product.closed.errors} / ${product.closed.requests}`, `${design.closed.errors} / ${design.closed.requests}`, '', `${plain.closed.errors} / ${plain.closed.requests}`, ''],
    [
      '  CPU ms per request',
      cpuMs(product.closed.cpu),
      cpuMs(design.closed.cpu),
      cpuRatios(product.closed.cpu, design.closed.cpu, WEBHOOK_PAIRS),
      cpuMs(plain.closed.cpu),
      `node ${ratio(nodeCpu(product.closed.cpu, ['edge', 'credits']), plain.closed.cpu.msPerRequest['plain-webhook'])}, postgres ${ratio(product.closed.cpu.msPerRequest.postgres ?? 0, plain.closed.cpu.msPerRequest.postgres)}`,
    ],
    ['  machine CPU busy %', String(product.closed.cpu.machineBusyPct), String(design.closed.cpu.machineBusyPct), '', String(plain.closed.cpu.machineBusyPct), ''],
    [`webhook open loop, ${p.rate}/s offered: answered/s`, String(product.open.answeredPerS), String(design.open.answeredPerS), '', String(plain.open.answeredPerS), ''],
    ['  latency from schedule p50 / p95 / p99 ms', pct(product.open.latencyMs), pct(design.open.latencyMs), '', pct(plain.open.latencyMs), ''],
    ['  errors / sent', `${product.open.errors} / ${product.open.sent}`, `${design.open.errors} / ${design.open.sent}`, '', `${plain.open.errors} / ${plain.open.sent}`, ''],
    ['  CPU ms per request', cpuMs(product.open.cpu), cpuMs(design.open.cpu), cpuRatios(product.open.cpu, design.open.cpu, WEBHOOK_PAIRS), cpuMs(plain.open.cpu), ''],
    ['money check (ledger = answered sessions, balances = ledger)', money(product.money), money(design.money), '', money(plain.money), ''],
  ];
}

function pgbenchRow(pgbench: PgbenchResult, webhook: BenchResults['webhook']): string[] {
  const versus =
    pgbench.tps && !isSkipped(webhook)
      ? `product ${ratio(webhook.product.closed.requestsPerS, pgbench.tps)}, design limit ${ratio(webhook.design.closed.requestsPerS, pgbench.tps)}, one process ${ratio(webhook.plain.closed.requestsPerS, pgbench.tps)}`
      : '';
  return [
    `pgbench purchase transaction, c=${pgbench.clients}: tx/s`,
    '',
    pgbench.skipped ? `skipped: ${pgbench.skipped}` : `${pgbench.tps ?? '–'} (postgres ${pgbench.postgresCpuMsPerTx ?? '–'} CPU ms/tx)`,
    versus,
  ];
}

function balanceRows(balance: BenchResults['balance'], p: BenchOptions): string[][] {
  if (isSkipped(balance)) return [['GetBalance', balance.skipped]];
  const { product, plain } = balance;
  return [
    [`GetBalance, c=${p.balanceConcurrency}: calls/s`, String(product.throughput.callsPerS), String(plain.throughput.callsPerS), ratio(product.throughput.callsPerS, plain.throughput.callsPerS)],
    ['  latency p50 / p95 / p99 ms', pct(product.throughput.latencyMs), pct(plain.throughput.latencyMs), ''],
    ['  CPU ms per call', cpuMs(product.throughput.cpu), cpuMs(plain.throughput.cpu), cpuRatios(product.throughput.cpu, plain.throughput.cpu, BALANCE_PAIRS)],
    [`GetBalance, c=${p.balanceLatencyConcurrency}: calls/s`, String(product.latency.callsPerS), String(plain.latency.callsPerS), ratio(product.latency.callsPerS, plain.latency.callsPerS)],
    ['  latency p50 / p95 / p99 ms', pct(product.latency.latencyMs), pct(plain.latency.latencyMs), ''],
    ['  CPU ms per call', cpuMs(product.latency.cpu), cpuMs(plain.latency.cpu), cpuRatios(product.latency.cpu, plain.latency.cpu, BALANCE_PAIRS)],
    ['  errors', String(product.throughput.errors + product.latency.errors), String(plain.throughput.errors + plain.latency.errors), ''],
  ];
}

function spendRows(spend: BenchResults['spend'], p: BenchOptions): string[][] {
  if (isSkipped(spend)) return [['SpendCredits', spend.skipped, '', '']];
  const { product, plain, check } = spend;
  return [
    [`SpendCredits, c=${p.balanceConcurrency}: calls/s`, String(product.throughput.callsPerS), String(plain.throughput.callsPerS), ratio(product.throughput.callsPerS, plain.throughput.callsPerS)],
    ['  latency p50 / p95 / p99 ms', pct(product.throughput.latencyMs), pct(plain.throughput.latencyMs), ''],
    ['  CPU ms per call', cpuMs(product.throughput.cpu), cpuMs(plain.throughput.cpu), ''],
    [`SpendCredits, c=${p.balanceLatencyConcurrency}: calls/s`, String(product.latency.callsPerS), String(plain.latency.callsPerS), ratio(product.latency.callsPerS, plain.latency.callsPerS)],
    ['  latency p50 / p95 / p99 ms', pct(product.latency.latencyMs), pct(plain.latency.latencyMs), ''],
    ['  errors', String(product.throughput.errors + product.latency.errors), String(plain.throughput.errors + plain.latency.errors), ''],
    ['spend check (one ledger row per OK spend, balances = ledger)', check.ok ? 'exact' : `FAILED: ${check.problems.join('; ')}`, '', ''],
  ];
}

/** Tables: the webhook against both limits, then the rest against theirs, then the targets. */
export function renderTable(results: BenchResults): string {
  const { memory, startup, parameters: p } = results;
  const rss = (name: string) => String(memory[name]?.peakMb ?? '–');
  const webhook = markdownTable(
    ['webhook', 'product', 'limit: two-process design, plain code', 'product / limit', 'one process, plain pg', 'product / one process'],
    webhookRows(results.webhook, p),
  );
  const rows: string[][] = [
    pgbenchRow(results.pgbench, results.webhook),
    ...balanceRows(results.balance, p),
    ...spendRows(results.spend, p),
    ['peak RSS MB: edge / its limits', rss('edge'), `design edge ${rss('design-edge')}, one process ${rss('plain-webhook')}`, ''],
    ['peak RSS MB: CreditsService / its limits', rss('credits'), `design credits ${rss('design-credits')}, plain grpc ${rss('plain-grpc')}`, ''],
    isSkipped(startup)
      ? ['ready ms', startup.skipped, '', '']
      : [
          'ready ms: compiled build, warm / cold (migrates)',
          `${startup.compiledWarm.readyMs} / ${startup.compiledCold.readyMs}`,
          `npm start warm ${startup.npmWarm.readyMs}, cold (initdb) ${startup.npmCold.readyMs}`,
          '',
        ],
  ];
  const table = markdownTable(['measure', 'product', 'limit (plain code)', 'product / limit'], rows);
  const targets = markdownTable(
    ['target (2-core machine)', 'goal', 'measured', 'result'],
    results.targets.map((t) => [t.name, t.goal, t.value, verdict(t.met)]),
  );
  const m = results.machine;
  const machine = `${m.cpus} CPUs (${m.cpuModel}), Node ${results.node}, PostgreSQL ${results.database.version} (${results.database.kind}), load average before ${m.loadAverageBefore.join(' ')}, after ${m.loadAverageAfter.join(' ')}`;
  const parameters = `${p.durationS} s per phase (+${p.warmupS} s warm-up), ${p.users} buyers, ${round(p.redeliveryRate * 100, 1)}% redeliveries, DB_POOL_MAX ${p.poolMax}, product: ${results.build === 'compiled' ? 'compiled build (dist/)' : 'sources through tsx'}`;
  return [`${results.date} — ${machine}`, parameters, '', webhook, '', table, '', targets, ...results.notes.map((note) => `note: ${note}`)].join('\n');
}

export async function writeResults(results: BenchResults, directory: string): Promise<string> {
  await fs.mkdir(directory, { recursive: true });
  const file = path.join(directory, `bench-${results.date.replace(/[:.]/g, '-')}.json`);
  await fs.writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
  return file;
}
