import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/db/embedded';
import { findFreePort } from '../support/free-port';
import { assertInvariants } from '../support/invariants';
import { eventually, runConcurrently, scaled } from '../support/load';
import { startReliabilityStack, type ReliabilityStack } from '../support/reliability-stack';
import { reliabilityRandom } from '../support/seeded-random';
import { checkHealth, type HealthAnswer } from '../support/service-process';
import { checkoutDelivery, deliver, retryUnacknowledged, seededId, startBackgroundLoad, type Delivery } from '../support/webhook-traffic';

// Scenario 5 of issue 4: a PostgreSQL of this file's own, stopped in the middle of a load and started again.
const random = reliabilityRandom('database outage (scenario 5)');
let dataDir: string;
let port: number;
let postgres: EmbeddedPostgres | undefined;
let stack: ReliabilityStack;

const startPostgres = () => startEmbeddedPostgres({ dataDir, port, database: 'reliability' });

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'credits-outage-pg-'));
  port = await findFreePort();
  postgres = await startPostgres();
  stack = await startReliabilityStack({ name: 'outage', databaseUrl: postgres.url, edgeDeadlineMs: 3_000 });
}, 180_000);
afterAll(async () => {
  await stack?.close();
  await postgres?.stop();
  await fs.rm(dataDir, { recursive: true, force: true });
}, 60_000);

interface Observation {
  at: number;
  credits: HealthAnswer;
  edgeReady: boolean;
}

/** Polls CreditsService health and the edge's /readyz until stopped, keeping every change. */
function watchHealth(creditsUrl: string, edgeUrl: string) {
  const seen: Observation[] = [];
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      const [credits, edgeReady] = await Promise.all([
        checkHealth(creditsUrl),
        fetch(`${edgeUrl}/readyz`, { signal: AbortSignal.timeout(2_000) }).then(
          async (response) => (await response.body?.cancel(), response.status === 200),
          () => false,
        ),
      ]);
      const last = seen.at(-1);
      if (!last || last.credits !== credits || last.edgeReady !== edgeReady) seen.push({ at: performance.now(), credits, edgeReady });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return { seen, stop: () => ((stopped = true), done) };
}

describe('a database outage', { timeout: 170_000 }, () => {
  it('5. when PostgreSQL stops mid-load and starts again, then 503 while down, health NOT_SERVING and back, and redelivery credits each purchase once', async () => {
    const buyers = Array.from({ length: 20 }, (_, index) => `outage-${index}-${random.hex(8)}@reliability.example`);
    buyers.forEach((email) => stack.audit.rememberEmail(email));
    const events: Delivery[] = Array.from({ length: scaled(300, 20) }, () => {
      const purchase = { sessionId: seededId(random, 'cs'), email: random.pick(buyers), credits: random.int(1, 100) };
      stack.record.expectPurchase(purchase);
      return checkoutDelivery(random, { ...purchase, credits: String(purchase.credits) });
    });
    const credits = stack.credits[0]!;
    const health = watchHealth(credits.url, stack.edgeUrl);
    const load = startBackgroundLoad(stack.traffic, events, random);
    let stopAt = 0;
    let downAt = 0;
    let restartAt = 0;
    try {
      await eventually('CreditsService SERVING before the outage', () => health.seen.at(-1)?.credits === 'SERVING');
      await eventually('a third of the purchases answered before the outage', () => load.answers.length >= events.length / 3, 60_000);
      stopAt = performance.now();
      await postgres!.stop();
      postgres = undefined;
      downAt = performance.now();
      await eventually(
        'NOT_SERVING and 503s while the database is down',
        () =>
          health.seen.some((seen) => seen.at > stopAt && seen.credits === 'NOT_SERVING' && !seen.edgeReady) &&
          load.answers.filter((answer) => answer.sentAt > downAt).length >= 10 &&
          performance.now() - downAt > 2_000,
        60_000,
      );
      restartAt = performance.now();
      postgres = await startPostgres();
      await eventually(
        'SERVING again once the database is back',
        () => health.seen.some((seen) => seen.at > restartAt && seen.credits === 'SERVING' && seen.edgeReady),
        60_000,
      );
    } finally {
      await load.stop();
      await health.stop();
    }

    const whileDown = load.answers.filter((answer) => answer.sentAt > downAt && answer.answeredAt < restartAt);
    const changes = health.seen.map((seen) => `${seen.credits}/${seen.edgeReady ? 'ready' : 'not ready'}`).join(' → ');
    console.log(`[reliability] scenario 5: ${load.answers.length} deliveries during the load, ${whileDown.length} sent and answered while down; health ${changes}`);
    expect(whileDown.length).toBeGreaterThan(0);
    expect(whileDown.filter((answer) => answer.status !== 503)).toEqual([]);
    const states = health.seen.map((seen) => seen.credits);
    expect(states.indexOf('NOT_SERVING')).toBeGreaterThan(states.indexOf('SERVING'));
    expect(states.lastIndexOf('SERVING')).toBeGreaterThan(states.indexOf('NOT_SERVING'));
    // An outage is UNAVAILABLE (which the edge retries), never an unexpected INTERNAL failure.
    expect(credits.output()).not.toContain('"code":"INTERNAL"');

    // Stripe redelivers everything; the pools reconnected by themselves, so each purchase is credited once.
    await runConcurrently(events, 8, async (delivery) => void (await deliver(stack.traffic, delivery)));
    await retryUnacknowledged(stack.traffic, events);
    expect(stack.record.unacknowledged()).toEqual([]);
    const result = await assertInvariants(stack.probe, stack.record);
    expect(result.counts.purchasesCredited).toBe(events.length);
  });

  it('9. the logs of this file hold no customer email, Stripe-Signature value or token', () => {
    expect(stack.audit.findLeaks()).toEqual([]);
  });
});
