import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/db/embedded';
import { migrateUp } from '../../src/db/migrations';
import { initORM } from '../../src/db/orm';
import { createLogger } from '../../src/logger';
import { findFreePort } from '../../test/support/free-port';

/** The PostgreSQL server every benchmark database lives on. */
export interface BenchServer {
  /** Admin URL (a database the bench may CREATE DATABASE from). */
  adminUrl: string;
  kind: 'external' | 'embedded';
  stop(): Promise<void>;
}

/** The postmaster's pid when the server runs on this machine (its backends are its children); for CPU accounting. */
export function findPostmasterPid(adminUrl: string): Promise<number | undefined> {
  return withClient(adminUrl, async (client) => {
    // Read while this backend still lives: its parent is the postmaster.
    const backend = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    try {
      const stat = readFileSync(`/proc/${backend}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      return readFileSync(`/proc/${parent}/cmdline`, 'utf8').includes('postgres') ? parent : undefined;
    } catch {
      return undefined; // a server on another machine
    }
  });
}

export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** BENCH_DATABASE_URL or DATABASE_URL when set; otherwise an embedded PostgreSQL in a temporary directory. */
export async function openBenchServer(env: NodeJS.ProcessEnv): Promise<BenchServer> {
  const external = env.BENCH_DATABASE_URL?.trim() || env.DATABASE_URL?.trim();
  if (external) return { adminUrl: external, kind: 'external', stop: async () => {} };
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'credits-bench-pg-'));
  try {
    const server = await startEmbeddedPostgres({ dataDir, port: await findFreePort(), database: 'postgres' });
    return {
      adminUrl: server.url,
      kind: 'embedded',
      stop: async () => {
        await server.stop();
        await fs.rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await fs.rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}

export async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * A fresh `credits_bench_<random>` database with the product's schema, migrated by the product's own
 * migrator (or left empty with `migrate: false`, for a first start that migrates it).
 */
export async function createBenchDatabase(server: BenchServer, purpose: string, options: { migrate?: boolean } = {}): Promise<BenchDatabase> {
  const name = `credits_bench_${randomBytes(5).toString('hex')}_${purpose}`;
  await withClient(server.adminUrl, (client) => client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`));
  const url = new URL(server.adminUrl);
  url.pathname = `/${name}`;
  const database: BenchDatabase = {
    name,
    url: url.toString(),
    drop: () =>
      withClient(server.adminUrl, async (client) => {
        await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
        await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)}`);
      }),
  };
  if (options.migrate === false) return database;
  try {
    const orm = await initORM({ url: database.url, poolMax: 2, echo: false, logger: createLogger({ level: 'warn' }) });
    try {
      await migrateUp(orm);
    } finally {
      await orm.close();
    }
  } catch (error) {
    await database.drop();
    throw error;
  }
  return database;
}

/** Host, port, user, password and database name of a URL, as libpq tools take them. */
export function libpqParts(url: string) {
  const parsed = new URL(url);
  return {
    host: parsed.hostname || '127.0.0.1',
    port: parsed.port || '5432',
    user: decodeURIComponent(parsed.username || 'postgres'),
    password: decodeURIComponent(parsed.password),
    database: decodeURIComponent(parsed.pathname.slice(1)),
  };
}
