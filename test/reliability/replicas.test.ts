import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertInvariants } from '../support/invariants';
import { runConcurrently, scaled } from '../support/load';
import { startReliabilityStack, type ReliabilityStack } from '../support/reliability-stack';
import { reliabilityRandom } from '../support/seeded-random';
import { stripeEvent } from '../support/stripe-events';
import { checkoutDelivery, deliver, retryUnacknowledged, seededId, type Delivery } from '../support/webhook-traffic';

// Scenario 4 of issue 4: three CreditsService processes on one database, behind one edge that balances over them.
const random = reliabilityRandom('three replicas (scenario 4)');
let stack: ReliabilityStack;

beforeAll(async () => {
  stack = await startReliabilityStack({ name: 'replicas', replicas: 3 });
}, 180_000);
afterAll(() => stack?.close(), 60_000);

interface Buyer {
  email: string;
  customer: string;
}

/** A case variant of the email, as a buyer may type it into Checkout. */
function spelling(email: string): string {
  return random.pick([email, email.toUpperCase(), email[0]!.toUpperCase() + email.slice(1)]);
}

/** Sessions of every shape Stripe sends, until there are `total` events; each purchase is recorded as intended. */
function generateEvents(buyers: readonly Buyer[], total: number): Delivery[] {
  const events: Delivery[] = [];
  while (events.length < total) {
    const buyer = random.pick(buyers);
    const sessionId = seededId(random, 'cs');
    const credits = random.int(1, 1_000);
    const base = {
      sessionId,
      email: spelling(buyer.email),
      credits: String(credits),
      customer: random.chance(0.5) ? buyer.customer : null,
    };
    // The last slot takes a one-event purchase, so there are exactly `total` events.
    const shape = total - events.length === 1 ? 0 : random.next();
    if (shape < 0.6) {
      events.push(checkoutDelivery(random, base));
    } else if (shape < 0.75) {
      // Card payment announced twice: completed, then async_payment_succeeded for the same session.
      events.push(checkoutDelivery(random, base), checkoutDelivery(random, { ...base, type: 'checkout.session.async_payment_succeeded' }));
    } else if (shape < 0.9) {
      // Bank debit: completed while unpaid, then the payment succeeds.
      events.push(
        checkoutDelivery(random, { ...base, paymentStatus: 'unpaid' }),
        checkoutDelivery(random, { ...base, type: 'checkout.session.async_payment_succeeded' }),
      );
    } else if (shape < 0.96) {
      // Bank debit that fails: never credited, so not recorded as a purchase.
      events.push(
        checkoutDelivery(random, { ...base, paymentStatus: 'unpaid' }),
        checkoutDelivery(random, { ...base, type: 'checkout.session.async_payment_failed', paymentStatus: 'unpaid' }),
      );
      continue;
    } else {
      // An event type nobody handles: stored as ignored.
      const event = stripeEvent('customer.updated', { object: 'customer', id: buyer.customer }, seededId(random, 'evt'));
      events.push({ eventId: event.id as string, creditable: false, payload: JSON.stringify(event) });
      continue;
    }
    stack.record.expectPurchase({ sessionId, email: buyer.email, credits });
  }
  return events;
}

describe('three CreditsService replicas', { timeout: 170_000 }, () => {
  it('4. when 2,000 events over 100 users, 20 % redelivered, arrive shuffled at three replicas, then each session is credited once', async () => {
    const buyers = Array.from({ length: scaled(100, 2) }, (_, index) => {
      const buyer = { email: `user-${index}-${random.hex(8)}@reliability.example`, customer: seededId(random, 'cus') };
      stack.audit.rememberEmail(buyer.email);
      return buyer;
    });
    const events = generateEvents(buyers, scaled(2_000, 10));
    const redeliveries = events.filter(() => random.chance(0.2));
    const deliveries = random.shuffle([...events, ...redeliveries]);
    const started = performance.now();

    await runConcurrently(deliveries, 32, async (delivery) => void (await deliver(stack.traffic, delivery)));
    // Stripe retries what was not answered 2xx; here at once, a bounded number of times.
    await retryUnacknowledged(stack.traffic, events);
    const seconds = (performance.now() - started) / 1000;
    console.log(`[reliability] scenario 4: ${deliveries.length} deliveries in ${seconds.toFixed(1)} s, answers ${JSON.stringify(stack.record.statusCounts())}`);

    expect(stack.record.unacknowledged()).toEqual([]);
    const result = await assertInvariants(stack.probe, stack.record);
    expect(result.counts.purchasesCredited).toBe(stack.record.purchases.size);

    // No double user, and every balance is the sum of that buyer's purchases (users are made only by paid events).
    const expected = new Map<string, number>();
    for (const purchase of stack.record.purchases.values()) expected.set(purchase.email, (expected.get(purchase.email) ?? 0) + purchase.credits);
    const { rows } = await stack.probe.sql.query<{ email: string; credits_balance: string }>('SELECT email, credits_balance FROM users');
    expect(rows).toHaveLength(expected.size);
    expect(new Map(rows.map((row) => [row.email.toLowerCase(), Number(row.credits_balance)]))).toEqual(expected);

    // The edge really spread the calls: every replica applied checkouts.
    for (const service of stack.credits) expect(service.output()).toContain('"method":"ApplyCheckout"');
  });

  it('9. the logs of this file hold no customer email, Stripe-Signature value or token', () => {
    expect(stack.audit.findLeaks()).toEqual([]);
  });
});
