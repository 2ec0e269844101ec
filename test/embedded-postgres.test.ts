import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { afterAll, describe, expect, inject, test } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../src/db/embedded';
import { createTestDatabase } from './support/database';
import { findFreePort } from './support/free-port';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const tempDirs: string[] = [];
const servers: EmbeddedPostgres[] = [];

async function makeTempDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'embedded-pg-test-'));
  tempDirs.push(dir);
  return dir;
}

async function start(dataDir: string, port?: number): Promise<EmbeddedPostgres> {
  const server = await startEmbeddedPostgres({ dataDir, port: port ?? (await findFreePort()) });
  servers.push(server);
  return server;
}

async function query(url: string, sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
}

function postmasterPid(dataDir: string): Promise<number | undefined> {
  return fs
    .readFile(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8')
    .then((text) => Number.parseInt(text.split('\n')[0] ?? '', 10))
    .catch(() => undefined);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// Safety net for a failed orphan test: a server no API call owns any more.
async function stopLeftoverServer(dataDir: string): Promise<void> {
  const pid = await postmasterPid(dataDir);
  if (pid === undefined || !isAlive(pid)) return;
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 400 && existsSync(path.join(dataDir, 'pg', 'postmaster.pid')); i++) await sleep(25);
}

afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
  for (const dir of tempDirs) {
    await stopLeftoverServer(dir);
    await fs.rm(dir, { recursive: true, force: true });
  }
});

describe('startEmbeddedPostgres', () => {
  test('starts a server that answers queries', async () => {
    const server = await start(await makeTempDir());
    expect(server.url).toBe(`postgres://postgres:postgres@127.0.0.1:${server.port}/credits`);
    expect(await query(server.url, 'select 1 as one')).toEqual([{ one: 1 }]);
    await server.stop();
    await server.stop(); // idempotent
  });

  test('keeps data across a stop and a start in the same data directory', async () => {
    const dataDir = await makeTempDir();
    const first = await start(dataDir);
    await query(first.url, "create table kept (value text); insert into kept values ('before restart')");
    await first.stop();

    const second = await start(dataDir);
    expect(await query(second.url, 'select value from kept')).toEqual([{ value: 'before restart' }]);
    await second.stop();
  });

  test('refuses a server whose owner lives; stops one orphaned by a SIGKILLed parent, then starts on the same data', async () => {
    const dataDir = await makeTempDir();
    const port = await findFreePort();
    const script = path.join(dataDir, 'start-server.mts');
    const moduleUrl = pathToFileURL(path.join(repoRoot, 'src/db/embedded.ts')).href;
    await fs.writeFile(
      script,
      `import { startEmbeddedPostgres } from ${JSON.stringify(moduleUrl)};
const server = await startEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)}, port: ${port} });
console.log(server.url);
setInterval(() => {}, 60_000);
`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: repoRoot, stdio: 'pipe' });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const url = await new Promise<string>((resolve, reject) => {
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('\n')) resolve(stdout.split('\n')[0] ?? '');
      });
      void exited.then((code) => reject(new Error(`child exited (${String(code)}) early: ${stderr}`)));
    });
    await query(url, "create table kept (value text); insert into kept values ('before SIGKILL')");

    // While its owner lives, a second start on the same data is refused and leaves the server up.
    await expect(start(dataDir, await findFreePort())).rejects.toThrow(/in use by a running process/);
    expect(await query(url, 'select count(*)::int as n from kept')).toEqual([{ n: 1 }]);

    child.kill('SIGKILL');
    await exited;
    const orphanPid = await postmasterPid(dataDir);
    expect(orphanPid !== undefined && isAlive(orphanPid)).toBe(true);

    const server = await start(dataDir, port);
    expect(await postmasterPid(dataDir)).not.toBe(orphanPid);
    expect(await query(server.url, 'select value from kept')).toEqual([{ value: 'before SIGKILL' }]);
    await server.stop();
  });

  test('names the port and EMBEDDED_PG_PORT when the port is taken', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen({ port: 0, host: '127.0.0.1' }, resolve));
    const { port } = blocker.address() as net.AddressInfo;
    try {
      await expect(start(await makeTempDir(), port)).rejects.toThrow(
        new RegExp(`Port ${port} .*EMBEDDED_PG_PORT`),
      );
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});

describe('createTestDatabase', () => {
  test('gives a database you can connect to, and drop() removes it', async () => {
    const adminUrl = inject('adminDatabaseUrl');
    const database = await createTestDatabase();
    expect(database.name).toMatch(/^credits_test_[0-9a-f]+$/);

    // Left connected on purpose: drop() has to terminate it.
    const client = new pg.Client({ connectionString: database.url });
    client.on('error', () => {});
    await client.connect();
    expect((await client.query('select current_database() as name')).rows).toEqual([{ name: database.name }]);

    await database.drop();
    await client.end();
    expect(await query(adminUrl, 'select 1 from pg_database where datname = $1', [database.name])).toEqual([]);
  });
});
