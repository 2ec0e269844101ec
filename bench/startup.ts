import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { findFreePort } from '../test/support/free-port';
import { adopt, answers200, REPO_ROOT, waitUntil, type Service } from './support/processes';
import { round } from './support/latency';

export interface StartupRun {
  command: string;
  /** Spawn to the edge's GET /readyz answering 200. */
  readyMs: number;
  /** SIGINT to exit of the spawned command (npm exits at once on SIGINT; the service may still be closing). */
  stopMs: number;
  /** SIGINT to the last PostgreSQL process on the data directory gone (embedded database only). */
  postgresGoneMs?: number;
  exit: number | string;
}

export interface StartupResult {
  /**
   * The compiled build as production runs it (`node --enable-source-maps dist/src/main.js all`,
   * NODE_ENV=production, DATABASE_URL on the bench's server): first on an empty database (it
   * migrates), then warm (migrated database): the figure the target is about.
   */
  compiledCold: StartupRun;
  compiledWarm: StartupRun;
  /** Development: `npm start` with the embedded database, first start (initdb, migrations) then warm. */
  npmCold: StartupRun;
  npmWarm: StartupRun;
  /** PostgreSQL processes still running on the data directory after npm start exited (then killed by the bench). */
  leftoverPostgres: number[];
}

/** Processes whose command line names the data directory: the embedded postgres and its workers. */
function postgresOn(dataDir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(dataDir)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

function killGroup(leader: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-leader, signal);
  } catch {
    // the whole group has exited already
  }
}

async function startOnce(command: string, executable: string, args: string[], env: NodeJS.ProcessEnv, httpPort: number): Promise<StartupRun & { signalledAt: number }> {
  const started = performance.now();
  // Its own process group, so SIGINT reaches npm, node and postgres as a terminal's Ctrl-C would.
  const service: Service = adopt(command, spawn(executable, args, { cwd: REPO_ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] }));
  try {
    await waitUntil('GET /readyz 200', () => answers200(`http://127.0.0.1:${httpPort}/readyz`), { timeoutMs: 60_000, service, intervalMs: 10 });
  } catch (error) {
    killGroup(service.pid, 'SIGKILL');
    throw error;
  }
  const readyMs = performance.now() - started;
  const stopping = performance.now();
  killGroup(service.pid, 'SIGINT');
  const exit = await Promise.race([service.exited, sleep(30_000, undefined, { ref: false }).then(() => 'timeout')]);
  if (exit === 'timeout') killGroup(service.pid, 'SIGKILL');
  return { command, readyMs: round(readyMs, 0), stopMs: round(performance.now() - stopping, 0), exit, signalledAt: stopping };
}

/**
 * Time from spawn to ready, and a clean stop: the compiled build against `databaseUrl` (an empty
 * database: cold, then warm), then `npm start` on an embedded database in a temporary DATA_DIR.
 */
export async function measureStartup(
  baseEnv: NodeJS.ProcessEnv,
  secrets: { webhookSecret: string; apiToken: string },
  databaseUrl: string,
): Promise<StartupResult> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'credits-bench-startup-'));
  const leftover = new Set<number>();
  try {
    const httpPort = await findFreePort();
    const common: NodeJS.ProcessEnv = {
      ...baseEnv,
      HTTP_PORT: String(httpPort),
      GRPC_PORT: String(await findFreePort()),
      METRICS_PORT: '0',
      LOG_LEVEL: 'warn',
      STRIPE_WEBHOOK_SECRET: secrets.webhookSecret,
      STRIPE_LIVEMODE: 'false',
      CREDITS_API_TOKEN: secrets.apiToken,
      npm_config_update_notifier: 'false',
      npm_config_fund: 'false',
    };
    for (const name of ['DATABASE_URL', 'ASYNC_DATABASE_URL', 'SYNC_DATABASE_URL']) delete common[name];
    const production = { ...common, NODE_ENV: 'production', DATABASE_URL: databaseUrl };
    // The embedded database is for development only: NODE_ENV=production refuses to start without DATABASE_URL.
    const development = { ...common, NODE_ENV: 'development', DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(await findFreePort()) };
    const compiled = ['--enable-source-maps', 'dist/src/main.js', 'all'];
    const runs: StartupRun[] = [];
    for (const [command, executable, args, env] of [
      ['node dist/src/main.js all (cold: migrates)', process.execPath, compiled, production],
      ['node dist/src/main.js all', process.execPath, compiled, production],
      ['npm start (cold: initdb, migrations)', 'npm', ['start'], development],
      ['npm start', 'npm', ['start'], development],
    ] as const) {
      const { signalledAt, ...run } = await startOnce(command, executable, [...args], env, httpPort);
      if (env === development) {
        // postgres finishes its shutdown checkpoint a moment after the service exits.
        const deadline = Date.now() + 15_000;
        while (postgresOn(dataDir).length > 0 && Date.now() < deadline) await sleep(20);
        if (postgresOn(dataDir).length === 0) run.postgresGoneMs = round(performance.now() - signalledAt, 0);
        for (const pid of postgresOn(dataDir)) {
          leftover.add(pid);
          process.kill(pid, 'SIGKILL');
        }
      }
      runs.push(run);
    }
    const [compiledCold, compiledWarm, npmCold, npmWarm] = runs;
    return { compiledCold: compiledCold!, compiledWarm: compiledWarm!, npmCold: npmCold!, npmWarm: npmWarm!, leftoverPostgres: [...leftover] };
  } finally {
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}
