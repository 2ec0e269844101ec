import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { findFreePort } from './free-port';
import { eventually } from './load';

/**
 * PgBouncer in transaction pooling mode, started by the test run from Debian's `pgbouncer` package
 * (.ci/run installs it). It sits in front of the test PostgreSQL (the machine's server with trust,
 * or the embedded one with a SCRAM password) and listens on 127.0.0.1 on a free port.
 */
export interface PgBouncer {
  port: number;
  /** Server connections PgBouncer opens per database and user (`default_pool_size`). */
  poolSize: number;
  /** The URL of `database` through PgBouncer, with the backend's user and password. */
  urlFor(database: string): string;
  /** A statement on PgBouncer's admin console (`SHOW POOLS`, `SHOW CLIENTS`, ...). */
  admin<T extends Record<string, unknown>>(command: string): Promise<T[]>;
  /** What PgBouncer printed (its log goes to stderr). */
  output(): string;
  stop(): Promise<void>;
}

export interface PgBouncerOptions {
  /** Any URL of the backend server (the test's admin URL); host, port, user and password are taken from it. */
  backendUrl: string;
  /** default_pool_size: small, so that pooling is really exercised (clients outnumber server connections). */
  poolSize?: number;
  maxClientConn?: number;
}

const CANDIDATES = ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer', '/usr/local/bin/pgbouncer'];

/** Debian's pgbouncer binary, or one on PATH; undefined when it is not installed. */
export function findPgBouncer(): string | undefined {
  const onPath = (process.env.PATH ?? '').split(path.delimiter).map((dir) => path.join(dir, 'pgbouncer'));
  return [...CANDIDATES, ...onPath].find((candidate) => existsSync(candidate));
}

/** uid and gid of an OS user, from /etc/passwd (PgBouncer refuses to run as root: it gets `-u postgres`). */
function osUser(name: string): { uid: number; gid: number } | undefined {
  try {
    const line = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((entry) => entry.startsWith(`${name}:`));
    if (!line) return undefined;
    const [, , uid, gid] = line.split(':');
    return { uid: Number(uid), gid: Number(gid) };
  } catch {
    return undefined;
  }
}

// A vitest worker that dies must not leave a PgBouncer behind.
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

const quote = (value: string) => `"${value.replace(/"/g, '""')}"`;

export async function startPgBouncer(options: PgBouncerOptions): Promise<PgBouncer> {
  const binary = findPgBouncer();
  if (!binary) throw new Error('pgbouncer is not installed (apt-get install pgbouncer)');
  const backend = new URL(options.backendUrl);
  const user = decodeURIComponent(backend.username || 'postgres');
  const password = decodeURIComponent(backend.password);
  const poolSize = options.poolSize ?? 5;
  const port = await findFreePort();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'credits-pgbouncer-'));
  const ini = path.join(dir, 'pgbouncer.ini');
  const userlist = path.join(dir, 'userlist.txt');
  // The machine's PostgreSQL trusts local connections and the test URL has no password: PgBouncer
  // trusts its clients too. The embedded server wants a SCRAM password: clients give PgBouncer the
  // same password, and PgBouncer logs in to the server with the plain-text one in the userlist.
  const authType = password ? 'scram-sha-256' : 'trust';
  await fs.writeFile(userlist, `${quote(user)} ${quote(password)}\n`);
  await fs.writeFile(
    ini,
    [
      '[databases]',
      // Every database name a client asks for, on the backend server.
      `* = host=${backend.hostname || '127.0.0.1'} port=${backend.port || '5432'}`,
      '',
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      // No Unix socket: /tmp/.s.PGSQL.<port> of someone else must not collide.
      'unix_socket_dir =',
      `auth_type = ${authType}`,
      `auth_file = ${userlist}`,
      `admin_users = ${user}`,
      `stats_users = ${user}`,
      'pool_mode = transaction',
      `default_pool_size = ${poolSize}`,
      'min_pool_size = 0',
      'reserve_pool_size = 0',
      `max_db_connections = ${poolSize}`,
      `max_client_conn = ${options.maxClientConn ?? 100}`,
      // node-postgres sends only user, database and application_name (tracked by PgBouncer);
      // psql, pgbench and JDBC also send extra_float_digits.
      'ignore_startup_parameters = extra_float_digits',
      // A client waiting longer than this for a server connection gets an error (instead of 120 s).
      'query_wait_timeout = 30',
      'log_connections = 0',
      'log_disconnections = 0',
      'log_pooler_errors = 1',
      '',
    ].join('\n'),
  );
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    // PgBouncer refuses to run as root: it runs as the `postgres` OS user, which PostgreSQL's
    // package (or the embedded server, started as root) created; it must read its files.
    const owner = osUser('postgres');
    if (!owner) throw new Error('running as root and there is no `postgres` OS user for pgbouncer -u');
    for (const file of [dir, ini, userlist]) await fs.chown(file, owner.uid, owner.gid);
  }
  const child = spawn(binary, [...(asRoot ? ['-u', 'postgres'] : []), ini], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const chunks: string[] = [];
  child.stdout!.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
  let running = true;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      running = false;
      children.delete(child);
      resolve();
    });
  });

  const admin = async <T extends Record<string, unknown>>(command: string): Promise<T[]> => {
    const client = new pg.Client({ host: '127.0.0.1', port, user, password, database: 'pgbouncer', connectionTimeoutMillis: 2_000 });
    await client.connect();
    try {
      // The admin console speaks the simple query protocol only: no parameters.
      return (await client.query<T>(command)).rows;
    } finally {
      await client.end();
    }
  };
  const stop = async () => {
    if (running) {
      // SIGTERM: immediate shutdown (SIGINT would wait for clients to go away).
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    await fs.rm(dir, { recursive: true, force: true });
  };

  try {
    await eventually(
      'pgbouncer accepting connections',
      async () => {
        if (!running) throw new Error('exited');
        return (await admin('SHOW VERSION')).length > 0;
      },
      15_000,
    );
  } catch (error) {
    await stop();
    throw new Error(`pgbouncer did not start: ${String(error)}\n${chunks.join('').slice(-4_000)}`);
  }

  return {
    port,
    poolSize,
    urlFor: (database) => {
      const url = new URL(options.backendUrl);
      url.hostname = '127.0.0.1';
      url.port = String(port);
      url.pathname = `/${encodeURIComponent(database)}`;
      return url.toString();
    },
    admin,
    output: () => chunks.join(''),
    stop,
  };
}
