import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Metadata, status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateUp } from '../src/db/migrations';
import { initORM } from '../src/db/orm';
import { createCreditsClient, type CreditsServiceClient } from '../src/grpc/client';
import type { ApplyCheckoutRequest } from '../src/contract/generated/credits/v1/ApplyCheckoutRequest';
import { call } from './support/credits-harness';
import { createTestDatabase, type TestDatabase } from './support/database';
import { captureLogs } from './support/log-capture';
import { startCreditsProcess, type CreditsProcess } from './support/service-process';

// The issue: 150 concurrent unauthenticated 1.9 MB calls took CreditsService from 148 to 652 MB
// before they were refused. Refused before they are read, they must cost next to nothing.
const TOKEN = 'memory-test-token-0123456789abcdef-0123';
const CALLS = 100;
const CONNECTIONS = 4;
const PAYLOAD_BYTES = 1_900_000;
const MAX_GROWTH_MB = 100;

/** Resident set size of a process, in MB (Linux /proc; ps elsewhere). */
function rssMb(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    if (match) return Number(match[1]) / 1024;
  } catch {
    // not Linux
  }
  return Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim()) / 1024;
}

function bigRequest(index: number): ApplyCheckoutRequest {
  const eventId = `evt_memory_${index}`;
  return {
    event_id: eventId,
    event_type: 'checkout.session.completed',
    session: null,
    line_items: [],
    event_json: JSON.stringify({ id: eventId, pad: 'x'.repeat(PAYLOAD_BYTES) }),
  };
}

let database: TestDatabase;
let credits: CreditsProcess;
const clients: CreditsServiceClient[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  const orm = await initORM({ url: database.url, poolMax: 1, echo: false, logger: captureLogs().logger });
  await migrateUp(orm);
  await orm.close();
  credits = await startCreditsProcess('credits (memory)', { databaseUrl: database.url, token: TOKEN });
  // Separate HTTP/2 connections, as several attackers would open.
  for (let i = 0; i < CONNECTIONS; i++) clients.push(createCreditsClient(credits.url, { channelOptions: { 'grpc.use_local_subchannel_pool': 1 } }));
}, 120_000);

afterAll(async () => {
  for (const client of clients) client.close();
  await credits?.stop();
  await database?.drop();
}, 60_000);

describe('unauthenticated large calls', () => {
  it(`when ${CALLS} concurrent ${(PAYLOAD_BYTES / 1e6).toFixed(1)} MB ApplyCheckout calls carry no token, then all are UNAUTHENTICATED and RSS grows by less than ${MAX_GROWTH_MB} MB`, async () => {
    // Warm up: connections open and the code paths of a refusal loaded before the baseline is taken.
    for (const client of clients) {
      const warm = await call(client, client.ApplyCheckout, bigRequest(-1), new Metadata());
      expect(!warm.ok && warm.error.code).toBe(status.UNAUTHENTICATED);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    const baseline = rssMb(credits.pid);
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb(credits.pid))), 20);
    const requests = Array.from({ length: CALLS }, (_, index) => bigRequest(index));
    const results = await Promise.all(requests.map((request, index) => call(clients[index % CONNECTIONS]!, clients[0]!.ApplyCheckout, request, new Metadata())));
    await new Promise((resolve) => setTimeout(resolve, 300));
    clearInterval(sampler);
    peak = Math.max(peak, rssMb(credits.pid));
    const growth = peak - baseline;
    console.log(`CreditsService RSS: baseline ${baseline.toFixed(0)} MB, peak ${peak.toFixed(0)} MB, growth ${growth.toFixed(1)} MB over ${CALLS} calls`);

    const answers = results.map((result) => (result.ok ? 'OK' : `${status[result.error.code]} ${result.errorCode ?? ''}`.trim()));
    expect(new Set(answers)).toEqual(new Set(['UNAUTHENTICATED AUTH_TOKEN_MISSING']));
    expect(growth).toBeLessThan(MAX_GROWTH_MB);
    expect(credits.isRunning()).toBe(true);
  });
});
