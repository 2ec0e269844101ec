import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveryScenarios } from '../support/delivery-scenarios';
import { scaled } from '../support/load';
import { startReliabilityStack, type ReliabilityStack } from '../support/reliability-stack';
import { reliabilityRandom } from '../support/seeded-random';

// Scenarios 1–3 of issue 4: Stripe delivering concurrently, through the edge, to a CreditsService process.
const random = reliabilityRandom('concurrent deliveries (scenarios 1-3)');
let stack: ReliabilityStack;
const scenarios = deliveryScenarios(() => stack, random, 'plain');

beforeAll(async () => {
  stack = await startReliabilityStack({ name: 'concurrent' });
}, 120_000);
afterAll(() => stack?.close(), 60_000);

describe('concurrent deliveries', { timeout: 120_000 }, () => {
  it('1. when the same signed event is delivered 100 times at once, then one ledger row and one credit', () =>
    scenarios.sameEventManyTimes(scaled(100, 2)));

  it('2. when completed and async_payment_succeeded of one session arrive together or in either order, then one credit', () =>
    scenarios.completedAndSucceededRace(scaled(10)));

  it('3. when 50 purchases by one new email arrive at once, then exactly one user holds all their credits', () =>
    scenarios.oneNewEmailManyPurchases(scaled(50, 2)));

  it('9. the logs of this file hold no customer email, Stripe-Signature value or token', () => {
    expect(stack.audit.counts.emails).toBeGreaterThan(0);
    expect(stack.audit.findLeaks()).toEqual([]);
  });
});
