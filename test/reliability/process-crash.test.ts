import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertInvariants } from '../support/invariants';
import { eventually, runConcurrently, scaled } from '../support/load';
import { startReliabilityStack, type ReliabilityStack } from '../support/reliability-stack';
import { reliabilityRandom } from '../support/seeded-random';
import { checkoutDelivery, deliver, retryUnacknowledged, seededId, startBackgroundLoad, type Delivery } from '../support/webhook-traffic';

// Scenario 6 of issue 4: the CreditsService process SIGKILLed in the middle of a load, then restarted on its port.
const random = reliabilityRandom('killed process (scenario 6)');
let stack: ReliabilityStack;

beforeAll(async () => {
  stack = await startReliabilityStack({ name: 'crash', edgeDeadlineMs: 3_000 });
}, 120_000);
afterAll(() => stack?.close(), 60_000);

async function edgeReady(): Promise<boolean> {
  const response = await fetch(`${stack.edgeUrl}/readyz`, { signal: AbortSignal.timeout(2_000) });
  await response.body?.cancel();
  return response.status === 200;
}

describe('a killed CreditsService', { timeout: 170_000 }, () => {
  it('6. when the process is SIGKILLed mid-load and restarted, then redelivery credits each purchase once and nothing is stuck in processing', async () => {
    const buyers = Array.from({ length: 20 }, (_, index) => `crash-${index}-${random.hex(8)}@reliability.example`);
    buyers.forEach((email) => stack.audit.rememberEmail(email));
    const events: Delivery[] = [];
    for (let count = scaled(300, 20); events.length < count; ) {
      const purchase = { sessionId: seededId(random, 'cs'), email: random.pick(buyers), credits: random.int(1, 100) };
      stack.record.expectPurchase(purchase);
      const fields = { ...purchase, credits: String(purchase.credits) };
      if (random.chance(0.8)) events.push(checkoutDelivery(random, fields));
      else {
        // Bank debits: the unpaid completed event and the later success, both in flight when the process dies.
        events.push(
          checkoutDelivery(random, { ...fields, paymentStatus: 'unpaid' }),
          checkoutDelivery(random, { ...fields, type: 'checkout.session.async_payment_succeeded' }),
        );
      }
    }

    const victim = stack.credits[0]!;
    const load = startBackgroundLoad(stack.traffic, events, random);
    let deadAt = 0;
    let restartAt = 0;
    try {
      await eventually('a third of the events answered before the kill', () => load.answers.length >= events.length / 3, 60_000);
      victim.kill('SIGKILL');
      expect(await victim.exited).toBe('SIGKILL');
      deadAt = performance.now();
      await eventually('answers while the process is dead', () => load.answers.filter((answer) => answer.sentAt > deadAt).length >= 10, 60_000);
      restartAt = performance.now();
      const restarted = await stack.restartCredits(0);
      expect(restarted.port).toBe(victim.port);
      await eventually('the edge ready again', edgeReady, 60_000);
    } finally {
      await load.stop();
    }

    const whileDead = load.answers.filter((answer) => answer.sentAt > deadAt && answer.answeredAt < restartAt);
    console.log(`[reliability] scenario 6: ${load.answers.length} deliveries during the load, ${whileDead.length} sent and answered while the process was dead`);
    expect(whileDead.length).toBeGreaterThan(0);
    expect(whileDead.filter((answer) => answer.status !== 503)).toEqual([]);

    await runConcurrently(events, 8, async (delivery) => void (await deliver(stack.traffic, delivery)));
    await retryUnacknowledged(stack.traffic, events);
    expect(stack.record.unacknowledged()).toEqual([]);
    const { rows } = await stack.probe.sql.query("SELECT count(*)::int AS n FROM stripe_events WHERE status = 'processing'");
    expect(rows[0].n).toBe(0);
    const result = await assertInvariants(stack.probe, stack.record);
    expect(result.counts.purchasesCredited).toBe(stack.record.purchases.size);
  });

  it('9. the logs of this file hold no customer email, Stripe-Signature value or token', () => {
    expect(stack.audit.findLeaks()).toEqual([]);
  });
});
