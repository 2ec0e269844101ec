import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyCheckoutRequest, outcomeFromProto } from '../../src/contract/apply-checkout';
import { ERROR_CODE_METADATA_KEY, STRIPE_EVENT_METADATA_KEY } from '../../src/contract/error-codes';
import { decodeStripeEvent } from '../../src/contract/stripe-event';
import { createCreditsClient, type CreditsServiceClient } from '../../src/grpc/client';
import { TEST_TOKEN } from '../support/credits-harness';
import { assertInvariants } from '../support/invariants';
import { eventually, runConcurrently, scaled } from '../support/load';
import { startReliabilityStack, type ReliabilityStack } from '../support/reliability-stack';
import { reliabilityRandom } from '../support/seeded-random';
import { checkoutDelivery, deliver, retryUnacknowledged, seededId, startBackgroundLoad, type Delivery } from '../support/webhook-traffic';

// Issue "close to the design's limit": a CreditsService replica sent SIGTERM (a deploy, a scale-in)
// in the middle of a webhook load. Two replicas behind one edge; the edge balances over both.
const random = reliabilityRandom('graceful shutdown under load (scenario 10)');
/** Calls held inside the replica (waiting on a row lock) when SIGTERM arrives; below its pool of 5. */
const HELD = 3;
/** Calls sent straight to the replica once it has begun shutting down. */
const LATE = 4;
let stack: ReliabilityStack;

beforeAll(async () => {
  // Grace long enough for the held calls: the test releases them about a second after the signal.
  stack = await startReliabilityStack({ name: 'shutdown', replicas: 2, creditsEnv: { SHUTDOWN_GRACE_MS: '20000' } });
}, 120_000);
afterAll(() => stack?.close(), 60_000);

interface DirectAnswer {
  code: grpc.status;
  /** The stable credits-error-code of a failed call, when the server sent one. */
  errorCode?: string;
  outcome?: string;
}

/**
 * ApplyCheckout straight to one replica, as the edge would send it for this delivery. The answer is
 * recorded like a webhook answer (OK as a 2xx with its outcome, anything else as 503), so the
 * invariant checker holds it to the same promise: OK means committed.
 */
function applyDirect(client: CreditsServiceClient, delivery: Delivery, deadlineMs: number): Promise<DirectAnswer> {
  stack.record.sent(delivery.eventId, { sessionId: delivery.sessionId, creditable: delivery.creditable });
  const metadata = new grpc.Metadata();
  metadata.set(STRIPE_EVENT_METADATA_KEY, delivery.eventId);
  return new Promise<DirectAnswer>((resolve) => {
    client.ApplyCheckout(applyCheckoutRequest(decodeStripeEvent(delivery.payload)), metadata, { deadline: Date.now() + deadlineMs }, (error, response) => {
      if (error) {
        const errorCode = error.metadata?.get(ERROR_CODE_METADATA_KEY)[0];
        resolve({ code: error.code, ...(typeof errorCode === 'string' ? { errorCode } : {}) });
      } else {
        resolve({ code: grpc.status.OK, outcome: outcomeFromProto(response!.outcome) });
      }
    });
  }).then((answer) => {
    stack.record.answered(delivery.eventId, answer.code === grpc.status.OK ? { status: 200, outcome: answer.outcome } : { status: 503 });
    return answer;
  });
}

/**
 * Backends waiting, directly or in the queue behind another waiter, for the locks of backend `pid`
 * (PostgreSQL queues the second waiter of a row behind the first, not behind the holder).
 */
async function waitingBehind(pid: number): Promise<number> {
  const { rows } = await stack.probe.sql.query<{ pid: number; blockers: number[] }>(
    'SELECT pid, pg_blocking_pids(pid) AS blockers FROM pg_stat_activity WHERE datname = current_database()',
  );
  const behind = new Set([pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const row of rows) {
      if (!behind.has(row.pid) && row.blockers.some((blocker) => behind.has(blocker))) {
        behind.add(row.pid);
        grew = true;
      }
    }
  }
  return behind.size - 1;
}

describe('a CreditsService replica shutting down under load', { timeout: 170_000 }, () => {
  it('10. when one of two replicas gets SIGTERM mid-load, then its calls in flight complete, new ones get UNAVAILABLE, it exits 0, and after redelivery each purchase is credited once', async () => {
    const newBuyer = (prefix: string) => {
      const email = `${prefix}-${random.hex(8)}@reliability.example`;
      stack.audit.rememberEmail(email);
      return email;
    };
    /** Records the purchase a session is meant to be: this email, these credits. */
    const intend = (email: string, credits = random.int(1, 100)) => {
      const intended = { sessionId: seededId(random, 'cs'), email, credits };
      stack.record.expectPurchase(intended);
      return { sessionId: intended.sessionId, email, credits: String(credits) };
    };
    const purchase = (email: string) => checkoutDelivery(random, intend(email));

    // The background load: 20 buyers, card payments and bank debits (unpaid completed, then success).
    const buyers = Array.from({ length: 20 }, (_, index) => newBuyer(`shutdown-${index}`));
    const events: Delivery[] = [];
    while (events.length < scaled(300, 20)) {
      const email = random.pick(buyers);
      if (random.chance(0.8)) events.push(purchase(email));
      else {
        const fields = intend(email);
        events.push(checkoutDelivery(random, { ...fields, paymentStatus: 'unpaid' }), checkoutDelivery(random, { ...fields, type: 'checkout.session.async_payment_succeeded' }));
      }
    }
    // A buyer of its own for the held calls, made by a first purchase so that the row to lock exists.
    const heldEmail = newBuyer('shutdown-held');
    const first = purchase(heldEmail);
    expect(await deliver(stack.traffic, first)).toMatchObject({ status: 200, outcome: 'applied' });
    const held = Array.from({ length: HELD }, () => purchase(heldEmail));
    const late = Array.from({ length: LATE }, () => purchase(newBuyer('shutdown-late')));

    const victim = stack.credits[0]!;
    const survivor = stack.credits[1]!;
    const direct = createCreditsClient(victim.url, { token: TEST_TOKEN });
    const fresh = createCreditsClient(victim.url, { token: TEST_TOKEN });
    const load = startBackgroundLoad(stack.traffic, events, random);
    let signalledAt = 0;
    let exitedAt = 0;
    let heldAnswers: DirectAnswer[] = [];
    let lateAnswers: DirectAnswer[] = [];
    try {
      await eventually('a quarter of the events answered before the signal', () => load.answers.length >= events.length / 4, 60_000);

      // Hold the held buyer's row: the victim's purchases for it insert their event and ledger rows,
      // then wait on the balance update, mid-transaction, until the test lets go.
      const locker = await stack.probe.sql.connect();
      let heldCalls: Promise<DirectAnswer[]> | undefined;
      try {
        await locker.query('BEGIN');
        await locker.query('SELECT id FROM users WHERE lower(email) = lower($1) FOR UPDATE', [heldEmail]);
        const { rows } = await locker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        heldCalls = Promise.all(held.map((delivery) => applyDirect(direct, delivery, 60_000)));
        await eventually(`${HELD} calls waiting inside the victim`, async () => (await waitingBehind(rows[0]!.pid)) >= HELD, 30_000);

        signalledAt = performance.now();
        victim.kill('SIGTERM');
        // main.ts logs this line and closes the server in the same tick: from here on it is closing.
        await eventually('the victim shutting down', () => victim.output().includes('"msg":"shutting down"'), 10_000, 20);
        // New calls, on the channel that carries the held calls and on a new one.
        lateAnswers = await Promise.all(late.map((delivery, index) => applyDirect(index % 2 ? direct : fresh, delivery, 5_000)));
        // It waits for the calls it has: still running while they are held.
        expect(victim.isRunning()).toBe(true);
      } finally {
        await locker.query('COMMIT').catch(() => {});
        locker.release();
      }
      heldAnswers = await heldCalls!;
      expect(await victim.exited).toBe(0);
      exitedAt = performance.now();
      await eventually('answers after the victim exited', () => load.answers.filter((answer) => answer.sentAt > exitedAt).length >= 20, 60_000);
    } finally {
      await load.stop();
      direct.close();
      fresh.close();
    }

    const afterSignal = load.answers.filter((answer) => answer.sentAt > signalledAt);
    const statuses = (answers: { status: number }[]) => answers.reduce<Record<number, number>>((counts, { status }) => ({ ...counts, [status]: (counts[status] ?? 0) + 1 }), {});
    console.log(
      `[reliability] scenario 10: held ${JSON.stringify(heldAnswers)}, late ${JSON.stringify(lateAnswers)}; ` +
        `${load.answers.length} webhook deliveries during the load, after the signal ${JSON.stringify(statuses(afterSignal))}`,
    );

    // Calls in flight at the signal completed and committed.
    expect(heldAnswers).toEqual(Array.from({ length: HELD }, () => ({ code: grpc.status.OK, outcome: 'applied' })));
    // Calls after it were refused with UNAVAILABLE: SHUTTING_DOWN, or the transport's (GOAWAY, connection refused).
    for (const answer of lateAnswers) {
      expect(answer.code).toBe(grpc.status.UNAVAILABLE);
      if (answer.errorCode !== undefined) expect(answer.errorCode).toBe('SHUTTING_DOWN');
    }
    // The edge answered every webhook 200, or 503 for Stripe to retry: never a 500, never a lost answer.
    expect(load.answers.filter((answer) => answer.status !== 200 && answer.status !== 503)).toEqual([]);
    expect(afterSignal.filter((answer) => answer.status === 200).length).toBeGreaterThan(0);
    expect(survivor.isRunning()).toBe(true);

    // Stripe delivers every event (the load stopped before sending some) and redelivers what was not
    // answered 2xx, the late calls among them; only the survivor is left to take it all.
    await runConcurrently([...events, ...late], 8, async (delivery) => void (await deliver(stack.traffic, delivery)));
    await retryUnacknowledged(stack.traffic, [...events, first, ...held, ...late]);
    expect(stack.record.unacknowledged()).toEqual([]);
    const { rows } = await stack.probe.sql.query("SELECT count(*)::int AS n FROM stripe_events WHERE status = 'processing'");
    expect(rows[0].n).toBe(0);
    const result = await assertInvariants(stack.probe, stack.record);
    expect(result.counts.purchasesCredited).toBe(stack.record.purchases.size);
    const balance = await stack.probe.sql.query<{ credits_balance: string }>('SELECT credits_balance FROM users WHERE lower(email) = lower($1)', [heldEmail]);
    const heldCredits = [first, ...held].reduce((sum, delivery) => sum + stack.record.purchases.get(delivery.sessionId!)!.credits, 0);
    expect(balance.rows).toEqual([{ credits_balance: String(heldCredits) }]);
  });

  it('9. the logs of this file hold no customer email, Stripe-Signature value or token', () => {
    expect(stack.audit.findLeaks()).toEqual([]);
  });
});
