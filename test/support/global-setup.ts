import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../src/db/embedded';
import { findFreePort } from './free-port';

declare module 'vitest' {
  export interface ProvidedContext {
    adminDatabaseUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const externalUrl = process.env.TEST_DATABASE_URL;
  if (externalUrl) {
    project.provide('adminDatabaseUrl', externalUrl);
    console.log(`Tests use TEST_DATABASE_URL (${withoutPassword(externalUrl)})`);
    return async () => {};
  }

  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'credits-test-pg-'));
  const removeDataDir = () => fs.rm(dataDir, { recursive: true, force: true });
  const server = await startEmbeddedPostgres({ dataDir, port: await findFreePort(), database: 'postgres' }).catch(
    async (error: unknown) => {
      await removeDataDir();
      throw error;
    },
  );
  project.provide('adminDatabaseUrl', server.url);
  console.log(`Tests use embedded PostgreSQL on 127.0.0.1:${server.port} (data in ${dataDir})`);
  return async () => {
    await server.stop();
    await removeDataDir();
  };
}

function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = '';
    return parsed.toString();
  } catch {
    return 'unparseable URL, not shown';
  }
}
