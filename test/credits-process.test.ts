import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateUp } from '../src/db/migrations';
import { initORM } from '../src/db/orm';
import { createHealthClient } from '../src/grpc/client';
import { createTestDatabase, type TestDatabase } from './support/database';
import { captureLogs } from './support/log-capture';
import { findFreePort } from './support/free-port';

interface Started {
  child: ChildProcess;
  output: () => string;
}

function startCredits(env: NodeJS.ProcessEnv): Started {
  // node --import tsx (not the tsx CLI) so that signals reach the service process itself.
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'credits'], {
    env: { PATH: process.env.PATH, LOG_LEVEL: 'info', NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

async function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}

async function waitFor(started: Started, text: string, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!started.output().includes(text)) {
    if (started.child.exitCode !== null || Date.now() > until) throw new Error(`never printed ${text}:\n${started.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the credits process', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database?.drop());

  it('when a variable is invalid, then it stops with exit code 78 naming the variable', async () => {
    const started = startCredits({ DATABASE_URL: database.url, GRPC_PORT: 'not-a-port' });
    expect(await exitOf(started.child)).toBe(78);
    expect(started.output()).toContain('GRPC_PORT');
  });

  it('when the database is not migrated, then it refuses to serve and says to run npm run migrate', async () => {
    const started = startCredits({ DATABASE_URL: database.url, GRPC_PORT: '0', METRICS_PORT: '0' });
    expect(await exitOf(started.child)).toBe(1);
    expect(started.output()).toContain('npm run migrate');
  });

  it('when migrated, then it serves, and on SIGTERM it stops serving and exits 0', async () => {
    const { logger } = captureLogs();
    const orm = await initORM({ url: database.url, poolMax: 1, echo: false, logger });
    await migrateUp(orm);
    await orm.close();

    const port = await findFreePort();
    const started = startCredits({ DATABASE_URL: database.url, GRPC_PORT: String(port), METRICS_PORT: '0', CREDITS_API_TOKEN: 'process-test-token' });
    await waitFor(started, '"ready"');
    const health = createHealthClient(`127.0.0.1:${port}`);
    const status = await new Promise((resolve) =>
      health.Check({ service: '' }, (error, response) => resolve(error ? error.code : response?.status)),
    );
    health.close();
    expect(status).toBe('SERVING');

    started.child.kill('SIGTERM');
    expect(await exitOf(started.child)).toBe(0);
    expect(started.output()).toContain('shutting down');
    expect(started.output()).not.toContain('process-test-token');
  });
});
