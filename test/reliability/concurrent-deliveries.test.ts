import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertInvariants } from '../support/invariants';
import { runConcurrently, scaled } from '../support/load';
import { startReliabilityStack, type ReliabilityStack } from '../support/reliability-stack';
import { reliabilityRandom } from '../support/seeded-random';
import { checkoutDelivery, deliver, seededId, type Delivery } from '../support/webhook-traffic';

// Scenarios 1–3 of issue 4: Stripe delivering concurrently, through the edge, to a CreditsService process.
const random = reliabilityRandom('concurrent deliveries (scenarios 1-3)');
let stack: ReliabilityStack;

beforeAll(async () => {
  stack = await startReliabilityStack({ name: 'concurrent' });
}, 120_000);
afterAll(() => stack?.close(), 60_000);

async function ledgerOf(sessionIds: string[]) {
  const { rows } = await stack.probe.sql.query<{ checkout_session_id: string; rows: number; amount: string }>(
    `SELECT checkout_session_id, count(*)::int AS rows, sum(amount) AS amount FROM credit_transactions
     WHERE checkout_session_id = ANY($1::text[]) GROUP BY checkout_session_id`,
    [sessionIds],
  );
  return new Map(rows.map((row) => [row.checkout_session_id, { rows: row.rows, amount: Number(row.amount) }]));
}

async function usersWithEmail(email: string) {
  const { rows } = await stack.probe.sql.query<{ id: string; credits_balance: string }>(
    'SELECT id, credits_balance FROM users WHERE lower(email) = lower($1)',
    [email],
  );
  return rows;
}

function newPurchase(credits: number, email = `buyer-${random.hex(12)}@reliability.example`) {
  const sessionId = seededId(random, 'cs');
  stack.record.expectPurchase({ sessionId, email, credits });
  stack.audit.rememberEmail(email);
  return { sessionId, email, credits };
}

describe('concurrent deliveries', { timeout: 120_000 }, () => {
  it('1. when the same signed event is delivered 100 times at once, then one ledger row and one credit', async () => {
    const copies = scaled(100, 2);
    const purchase = newPurchase(100);
    const delivery = checkoutDelivery(random, { sessionId: purchase.sessionId, email: purchase.email, credits: '100' });

    const answers = await Promise.all(Array.from({ length: copies }, () => deliver(stack.traffic, delivery)));

    expect(answers.filter((answer) => answer.status !== 200)).toEqual([]);
    expect(answers.filter((answer) => answer.outcome === 'applied')).toHaveLength(1);
    expect(answers.filter((answer) => answer.outcome === 'duplicate')).toHaveLength(copies - 1);
    expect(await ledgerOf([purchase.sessionId])).toEqual(new Map([[purchase.sessionId, { rows: 1, amount: 100 }]]));
    expect(await usersWithEmail(purchase.email)).toEqual([expect.objectContaining({ credits_balance: '100' })]);
    const { rows } = await stack.probe.sql.query('SELECT status, attempts FROM stripe_events WHERE event_id = $1', [delivery.eventId]);
    expect(rows).toEqual([{ status: 'completed', attempts: copies }]);
    await assertInvariants(stack.probe, stack.record);
  });

  it('2. when completed and async_payment_succeeded of one session arrive together or in either order, then one credit', async () => {
    const orders = ['completed first', 'async first', 'together, completed sent first', 'together, async sent first'] as const;
    const perOrder = scaled(10);
    const cases = orders.flatMap((order) =>
      Array.from({ length: perOrder }, (_, index) => {
        const purchase = newPurchase(random.int(1, 500));
        // Half the sessions are card payments (both events paid), half bank debits (completed is unpaid).
        const delayed = index % 2 === 1;
        const both = { sessionId: purchase.sessionId, email: purchase.email, credits: String(purchase.credits) };
        const completed = checkoutDelivery(random, { ...both, paymentStatus: delayed ? 'unpaid' : 'paid' });
        const succeeded = checkoutDelivery(random, { ...both, type: 'checkout.session.async_payment_succeeded' });
        return { order, purchase, completed, succeeded };
      }),
    );

    await runConcurrently(cases, 16, async ({ order, completed, succeeded }) => {
      const send = (delivery: Delivery) => deliver(stack.traffic, delivery);
      if (order === 'completed first') await send(completed).then(() => send(succeeded));
      else if (order === 'async first') await send(succeeded).then(() => send(completed));
      else if (order === 'together, completed sent first') await Promise.all([send(completed), send(succeeded)]);
      else await Promise.all([send(succeeded), send(completed)]);
    });

    const ledger = await ledgerOf(cases.map(({ purchase }) => purchase.sessionId));
    for (const { purchase } of cases) expect(ledger.get(purchase.sessionId)).toEqual({ rows: 1, amount: purchase.credits });
    expect(stack.record.unacknowledged()).toEqual([]);
    await assertInvariants(stack.probe, stack.record);
  });

  it('3. when 50 purchases by one new email arrive at once, then exactly one user holds all their credits', async () => {
    const purchases = scaled(50, 2);
    const email = `new-buyer-${random.hex(12)}@reliability.example`;
    // Stripe keeps the email as typed: the same person may type it in another case.
    const spellings = [email, email.toUpperCase(), email.replace('new-buyer', 'New-Buyer')];
    const deliveries = Array.from({ length: purchases }, (_, index) => {
      const purchase = newPurchase(10, spellings[index % spellings.length]);
      return checkoutDelivery(random, { sessionId: purchase.sessionId, email: purchase.email, credits: '10' });
    });

    const answers = await Promise.all(deliveries.map((delivery) => deliver(stack.traffic, delivery)));

    expect(answers.filter((answer) => answer.status !== 200 || answer.outcome !== 'applied')).toEqual([]);
    expect(await usersWithEmail(email)).toEqual([expect.objectContaining({ credits_balance: String(10 * purchases) })]);
    await assertInvariants(stack.probe, stack.record);
  });

  it('9. the logs of this file hold no customer email, Stripe-Signature value or token', () => {
    expect(stack.audit.counts.emails).toBeGreaterThan(0);
    expect(stack.audit.findLeaks()).toEqual([]);
  });
});
