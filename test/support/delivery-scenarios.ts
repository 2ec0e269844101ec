import { expect } from 'vitest';
import { assertInvariants } from './invariants';
import { runConcurrently } from './load';
import type { ReliabilityStack } from './reliability-stack';
import type { Random } from './seeded-random';
import { checkoutDelivery, deliver, seededId, type Delivery } from './webhook-traffic';

/**
 * Scenarios 1–3 of the reliability suite: Stripe delivering concurrently, through the edge, to
 * CreditsService processes. One definition, run against PostgreSQL directly
 * (concurrent-deliveries.test.ts) and through PgBouncer (pgbouncer.test.ts), at the sizes each asks.
 */
export function deliveryScenarios(stack: () => ReliabilityStack, random: Random, emailPrefix: string) {
  async function ledgerOf(sessionIds: string[]) {
    const { rows } = await stack().probe.sql.query<{ checkout_session_id: string; rows: number; amount: string }>(
      `SELECT checkout_session_id, count(*)::int AS rows, sum(amount) AS amount FROM credit_transactions
       WHERE checkout_session_id = ANY($1::text[]) GROUP BY checkout_session_id`,
      [sessionIds],
    );
    return new Map(rows.map((row) => [row.checkout_session_id, { rows: row.rows, amount: Number(row.amount) }]));
  }

  async function usersWithEmail(email: string) {
    const { rows } = await stack().probe.sql.query<{ id: string; credits_balance: string }>(
      'SELECT id, credits_balance FROM users WHERE lower(email) = lower($1)',
      [email],
    );
    return rows;
  }

  function newPurchase(credits: number, email = `${emailPrefix}-buyer-${random.hex(12)}@reliability.example`) {
    const sessionId = seededId(random, 'cs');
    stack().record.expectPurchase({ sessionId, email, credits });
    stack().audit.rememberEmail(email);
    return { sessionId, email, credits };
  }

  return {
    /** 1. The same signed event delivered `copies` times at once: one ledger row, one credit. */
    async sameEventManyTimes(copies: number): Promise<void> {
      const purchase = newPurchase(100);
      const delivery = checkoutDelivery(random, { sessionId: purchase.sessionId, email: purchase.email, credits: '100' });

      const answers = await Promise.all(Array.from({ length: copies }, () => deliver(stack().traffic, delivery)));

      expect(answers.filter((answer) => answer.status !== 200)).toEqual([]);
      expect(answers.filter((answer) => answer.outcome === 'applied')).toHaveLength(1);
      expect(answers.filter((answer) => answer.outcome === 'duplicate')).toHaveLength(copies - 1);
      expect(await ledgerOf([purchase.sessionId])).toEqual(new Map([[purchase.sessionId, { rows: 1, amount: 100 }]]));
      expect(await usersWithEmail(purchase.email)).toEqual([expect.objectContaining({ credits_balance: '100' })]);
      const { rows } = await stack().probe.sql.query('SELECT status, attempts FROM stripe_events WHERE event_id = $1', [delivery.eventId]);
      expect(rows).toEqual([{ status: 'completed', attempts: copies }]);
      await assertInvariants(stack().probe, stack().record);
    },

    /** 2. `completed` and `async_payment_succeeded` of one session, in either order or together: one credit. */
    async completedAndSucceededRace(perOrder: number): Promise<void> {
      const orders = ['completed first', 'async first', 'together, completed sent first', 'together, async sent first'] as const;
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
        const send = (delivery: Delivery) => deliver(stack().traffic, delivery);
        if (order === 'completed first') await send(completed).then(() => send(succeeded));
        else if (order === 'async first') await send(succeeded).then(() => send(completed));
        else if (order === 'together, completed sent first') await Promise.all([send(completed), send(succeeded)]);
        else await Promise.all([send(succeeded), send(completed)]);
      });

      const ledger = await ledgerOf(cases.map(({ purchase }) => purchase.sessionId));
      for (const { purchase } of cases) expect(ledger.get(purchase.sessionId)).toEqual({ rows: 1, amount: purchase.credits });
      expect(stack().record.unacknowledged()).toEqual([]);
      await assertInvariants(stack().probe, stack().record);
    },

    /** 3. `purchases` purchases by one new email, in several spellings, at once: one user holds all their credits. */
    async oneNewEmailManyPurchases(purchases: number): Promise<void> {
      const email = `${emailPrefix}-new-buyer-${random.hex(12)}@reliability.example`;
      // Stripe keeps the email as typed: the same person may type it in another case.
      const spellings = [email, email.toUpperCase(), email.replace(`${emailPrefix}-new-buyer`, `${emailPrefix.toUpperCase()}-New-Buyer`)];
      const deliveries = Array.from({ length: purchases }, (_, index) => {
        const purchase = newPurchase(10, spellings[index % spellings.length]);
        return checkoutDelivery(random, { sessionId: purchase.sessionId, email: purchase.email, credits: '10' });
      });

      const answers = await Promise.all(deliveries.map((delivery) => deliver(stack().traffic, delivery)));

      expect(answers.filter((answer) => answer.status !== 200 || answer.outcome !== 'applied')).toEqual([]);
      expect(await usersWithEmail(email)).toEqual([expect.objectContaining({ credits_balance: String(10 * purchases) })]);
      await assertInvariants(stack().probe, stack().record);
    },
  };
}
