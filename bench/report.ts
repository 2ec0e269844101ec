import fs from 'node:fs/promises';
import path from 'node:path';
import type { BenchOptions } from './options';
import type { PgbenchResult } from './baselines/pgbench';
import type { BalanceLoadResult } from './load/balance-load';
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
  throughput: BalanceLoadResult & { cpu: PhaseCpu };
  latency: BalanceLoadResult & { cpu: PhaseCpu };
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

export interface BenchResults {
  date: string;
  machine: { cpus: number; cpuModel: string; totalMemoryMb: number; loadAverageBefore: number[]; loadAverageAfter: number[] };
  node: string;
  database: { kind: 'embedded' | 'external'; version: string };
  parameters: BenchOptions;
  webhook: { product: WebhookFigures; plain: WebhookFigures } | Skipped;
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
const cpuMs = (cpu: PhaseCpu) =>
  Object.entries(cpu.msPerRequest)
    .map(([group, value]) => `${group.replace(/^plain-(webhook|grpc)$/, 'server')} ${value.toFixed(2)}`)
    .join(', ');
const verdict = (met: boolean | null) => (met === null ? 'not measured' : met ? 'met' : 'NOT MET');

/** The targets of issue 5 on a 2-core machine. */
export function judgeTargets(results: Omit<BenchResults, 'targets'>): Target[] {
  const { webhook, balance, memory, startup, parameters } = results;
  const target = (name: string, goal: string, value: string, met: boolean | null): Target => ({ name, goal, value, met });
  const unmeasured = (name: string, goal: string) => target(name, goal, 'skipped', null);
  const rss = (name: string) => memory[name]?.peakMb;
  const rssTarget = (name: string, label: string) => {
    const value = rss(name);
    return value === undefined ? unmeasured(label, '< 150 MB') : target(label, '< 150 MB', `${value} MB`, value < 150);
  };
  const targets: Target[] = [];
  const webhookThroughput = `webhook throughput, ${parameters.concurrency} concurrent`;
  const webhookLatency = `webhook p99 at ${parameters.rate}/s offered`;
  if (isSkipped(webhook)) {
    targets.push(unmeasured(webhookThroughput, '≥ 0.70 × plain pg'), unmeasured(webhookLatency, '≤ 25 ms'));
  } else {
    const webhookRatio = webhook.product.closed.requestsPerS / webhook.plain.closed.requestsPerS;
    targets.push(
      target(webhookThroughput, '≥ 0.70 × plain pg', `${webhookRatio.toFixed(2)}×`, webhookRatio >= 0.7 && webhook.product.closed.errors === 0),
      target(webhookLatency, '≤ 25 ms', `${ms(webhook.product.open.latencyMs.p99)} ms`, webhook.product.open.latencyMs.p99 <= 25 && webhook.product.open.errors === 0),
    );
  }
  const balanceThroughput = `GetBalance throughput, ${parameters.balanceConcurrency} concurrent`;
  const balanceLatency = `GetBalance p99, ${parameters.balanceLatencyConcurrency} concurrent`;
  if (isSkipped(balance)) {
    targets.push(unmeasured(balanceThroughput, '≥ 0.80 × plain grpc-js'), unmeasured(balanceLatency, '≤ 10 ms'));
  } else {
    const balanceRatio = balance.product.throughput.callsPerS / balance.plain.throughput.callsPerS;
    targets.push(
      target(balanceThroughput, '≥ 0.80 × plain grpc-js', `${balanceRatio.toFixed(2)}×`, balanceRatio >= 0.8 && balance.product.throughput.errors === 0),
      target(balanceLatency, '≤ 10 ms', `${ms(balance.product.latency.latencyMs.p99)} ms`, balance.product.latency.latencyMs.p99 <= 10 && balance.product.latency.errors === 0),
    );
  }
  targets.push(rssTarget('edge', 'edge peak RSS under load'), rssTarget('credits', 'CreditsService peak RSS under load'));
  const ready = 'ready after npm start, warm embedded db';
  targets.push(isSkipped(startup) ? unmeasured(ready, '≤ 3000 ms') : target(ready, '≤ 3000 ms', `${startup.warm.readyMs} ms`, startup.warm.readyMs <= 3000));
  const money = 'money: every answered event credited exactly once';
  targets.push(isSkipped(webhook) ? unmeasured(money, 'exact') : target(money, 'exact', webhook.product.money.ok ? 'exact' : 'FAILED', webhook.product.money.ok));
  return targets;
}

function markdownTable(header: string[], rows: string[][]): string {
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((cell, column) => (cell ?? '').padEnd(widths[column]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

function webhookRows(webhook: BenchResults['webhook'], p: BenchOptions): string[][] {
  if (isSkipped(webhook)) return [['webhook', webhook.skipped, '', '']];
  const { product, plain } = webhook;
  const money = (check: MoneyCheck) => (check.ok ? `exact (${check.answeredSessions} sessions)` : 'FAILED');
  return [
    [`webhook closed loop, c=${p.concurrency}: req/s`, String(product.closed.requestsPerS), String(plain.closed.requestsPerS), ratio(product.closed.requestsPerS, plain.closed.requestsPerS)],
    ['  latency p50 / p95 / p99 ms', pct(product.closed.latencyMs), pct(plain.closed.latencyMs), ''],
    ['  errors (non-2xx) / requests', `${product.closed.errors} / ${product.closed.requests}`, `${plain.closed.errors} / ${plain.closed.requests}`, ''],
    ['  CPU ms per request', cpuMs(product.closed.cpu), cpuMs(plain.closed.cpu), ''],
    ['  machine CPU busy %', String(product.closed.cpu.machineBusyPct), String(plain.closed.cpu.machineBusyPct), ''],
    [`webhook open loop, ${p.rate}/s offered: answered/s`, String(product.open.answeredPerS), String(plain.open.answeredPerS), ''],
    ['  latency from schedule p50 / p95 / p99 ms', pct(product.open.latencyMs), pct(plain.open.latencyMs), ''],
    ['  errors / sent', `${product.open.errors} / ${product.open.sent}`, `${plain.open.errors} / ${plain.open.sent}`, ''],
    ['money check (ledger = answered sessions, balances = ledger)', money(product.money), money(plain.money), ''],
  ];
}

function pgbenchRow(pgbench: PgbenchResult, webhook: BenchResults['webhook']): string[] {
  const versus =
    pgbench.tps && !isSkipped(webhook)
      ? `product ${ratio(webhook.product.closed.requestsPerS, pgbench.tps)}, plain ${ratio(webhook.plain.closed.requestsPerS, pgbench.tps)}`
      : '';
  return [
    `pgbench purchase transaction, c=${pgbench.clients}: tx/s`,
    '',
    pgbench.skipped ? `skipped: ${pgbench.skipped}` : `${pgbench.tps ?? '–'} (postgres ${pgbench.postgresCpuMsPerTx ?? '–'} CPU ms/tx)`,
    versus,
  ];
}

function balanceRows(balance: BenchResults['balance'], p: BenchOptions): string[][] {
  if (isSkipped(balance)) return [['GetBalance', balance.skipped, '', '']];
  const { product, plain } = balance;
  return [
    [`GetBalance, c=${p.balanceConcurrency}: calls/s`, String(product.throughput.callsPerS), String(plain.throughput.callsPerS), ratio(product.throughput.callsPerS, plain.throughput.callsPerS)],
    ['  latency p50 / p95 / p99 ms', pct(product.throughput.latencyMs), pct(plain.throughput.latencyMs), ''],
    ['  CPU ms per call', cpuMs(product.throughput.cpu), cpuMs(plain.throughput.cpu), ''],
    [`GetBalance, c=${p.balanceLatencyConcurrency}: calls/s`, String(product.latency.callsPerS), String(plain.latency.callsPerS), ratio(product.latency.callsPerS, plain.latency.callsPerS)],
    ['  latency p50 / p95 / p99 ms', pct(product.latency.latencyMs), pct(plain.latency.latencyMs), ''],
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

/** One table: the product's figures, the limits measured in the same run, and the ratio. */
export function renderTable(results: BenchResults): string {
  const { memory, startup, parameters: p } = results;
  const rss = (name: string) => String(memory[name]?.peakMb ?? '–');
  const rows: string[][] = [
    ...webhookRows(results.webhook, p),
    pgbenchRow(results.pgbench, results.webhook),
    ...balanceRows(results.balance, p),
    ...spendRows(results.spend, p),
    ['peak RSS MB: edge / plain webhook server', rss('edge'), rss('plain-webhook'), ''],
    ['peak RSS MB: CreditsService / plain grpc server', rss('credits'), rss('plain-grpc'), ''],
    isSkipped(startup)
      ? ['ready after npm start (warm embedded db) ms', startup.skipped, '', '']
      : ['ready after npm start (warm embedded db) ms', String(startup.warm.readyMs), `without npm: ${startup.warmDirect.readyMs}`, `cold start: ${startup.cold.readyMs}`],
  ];
  const table = markdownTable(['measure', 'product', 'limit (plain baseline)', 'product / limit'], rows);
  const targets = markdownTable(
    ['target (2-core machine)', 'goal', 'measured', 'result'],
    results.targets.map((t) => [t.name, t.goal, t.value, verdict(t.met)]),
  );
  const m = results.machine;
  const machine = `${m.cpus} CPUs (${m.cpuModel}), Node ${results.node}, PostgreSQL ${results.database.version} (${results.database.kind}), load average before ${m.loadAverageBefore.join(' ')}, after ${m.loadAverageAfter.join(' ')}`;
  const parameters = `${p.durationS} s per phase (+${p.warmupS} s warm-up), ${p.users} buyers, ${round(p.redeliveryRate * 100, 1)}% redeliveries, DB_POOL_MAX ${p.poolMax}`;
  return [`${results.date} — ${machine}`, parameters, '', table, '', targets, ...results.notes.map((note) => `note: ${note}`)].join('\n');
}

export async function writeResults(results: BenchResults, directory: string): Promise<string> {
  await fs.mkdir(directory, { recursive: true });
  const file = path.join(directory, `bench-${results.date.replace(/[:.]/g, '-')}.json`);
  await fs.writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
  return file;
}
