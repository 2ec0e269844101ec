import { createRequire } from 'node:module';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHealthClient } from '../src/grpc/client';
import { CREDITS_SERVICE_NAME } from '../src/grpc/proto';
import { startCreditsHarness, TEST_TOKEN, type CreditsHarness } from './support/credits-harness';

const require = createRequire(import.meta.url);

function check(address: string, service: string): Promise<{ status?: string; code?: grpc.status }> {
  const client = createHealthClient(address);
  return new Promise((resolve) => {
    client.Check({ service }, { deadline: Date.now() + 5_000 }, (error, response) => {
      client.close();
      resolve(error ? { code: error.code } : { status: response?.status });
    });
  });
}

async function eventually(probe: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > until) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('health and reflection', () => {
  let h: CreditsHarness;
  beforeAll(async () => {
    h = await startCreditsHarness();
  });
  afterAll(() => h?.close());

  it.each(['', CREDITS_SERVICE_NAME])('when the database answers, then %j is SERVING', async (service) => {
    expect(await check(h.address, service)).toEqual({ status: 'SERVING' });
  });

  it('when asked about an unknown service, then NOT_FOUND', async () => {
    expect(await check(h.address, 'no.such.Service')).toEqual({ code: grpc.status.NOT_FOUND });
  });

  it('when a client with a token asks reflection for the services, then CreditsService and Health are listed', async () => {
    const definition = loadSync(require.resolve('@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto'), {
      keepCase: true,
    });
    const loaded = grpc.loadPackageDefinition(definition) as unknown as {
      grpc: { reflection: { v1: { ServerReflection: new (address: string, credentials: grpc.ChannelCredentials) => grpc.Client } } };
    };
    const client = new loaded.grpc.reflection.v1.ServerReflection(h.address, grpc.credentials.createInsecure()) as grpc.Client & {
      ServerReflectionInfo(metadata: grpc.Metadata): grpc.ClientDuplexStream<object, { list_services_response?: { service: { name: string }[] } }>;
    };
    // Reflection describes the API to token holders only (any scope); test/grpc-auth.test.ts shows it refused without one.
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${TEST_TOKEN}`);
    const names = await new Promise<string[]>((resolve, reject) => {
      const stream = client.ServerReflectionInfo(metadata);
      stream.on('data', (message: { list_services_response?: { service: { name: string }[] } }) => {
        resolve((message.list_services_response?.service ?? []).map((service) => service.name));
        stream.end();
      });
      stream.on('error', reject);
      stream.write({ list_services: '*' });
    });
    client.close();
    expect(names).toEqual(expect.arrayContaining([CREDITS_SERVICE_NAME, 'grpc.health.v1.Health']));
  });

  it('when the database goes away, then health turns NOT_SERVING, and SERVING again when it is back', async () => {
    const admin = new pg.Client({ connectionString: h.database.url.replace(`/${h.database.name}`, '/postgres') });
    await admin.connect();
    try {
      // Renaming the database away makes every new connection fail, as an outage would.
      await admin.query(`ALTER DATABASE ${h.database.name} ALLOW_CONNECTIONS false`);
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [h.database.name]);
      await eventually(async () => (await check(h.address, '')).status === 'NOT_SERVING');
      await admin.query(`ALTER DATABASE ${h.database.name} ALLOW_CONNECTIONS true`);
      await eventually(async () => (await check(h.address, '')).status === 'SERVING');
    } finally {
      await admin.query(`ALTER DATABASE ${h.database.name} ALLOW_CONNECTIONS true`);
      await admin.end();
    }
  });
});
