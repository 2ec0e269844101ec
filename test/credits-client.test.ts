import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { correctBalance } from '../src/credits/corrections';
import {
  createCreditsServiceClient,
  CreditsServiceError,
  CreditsUnavailableError,
  IdempotencyKeyReusedError,
  InsufficientCreditsError,
  InvalidCreditsRequestError,
  ReservationNotFoundError,
  ReservationNotHeldError,
  UserNotFoundError,
  type CreditsServiceConnection,
} from '../src/grpc/credits-client';
import { startCreditsServer } from '../src/grpc/server';
import { startCreditsHarness, TEST_TOKEN, type CreditsHarness } from './support/credits-harness';
import { findFreePort } from './support/free-port';
import { insertUser, uniqueEmail } from './support/ops-seed';
import { stripeId } from './support/stripe-events';

let h: CreditsHarness;
let credits: CreditsServiceConnection;

beforeAll(async () => {
  h = await startCreditsHarness();
  credits = createCreditsServiceClient(h.address, { token: TEST_TOKEN });
});
afterAll(async () => {
  credits?.close();
  await h?.close();
});

async function fundedUser(amount: number) {
  const user = await insertUser(h, uniqueEmail('client'));
  await correctBalance(h.store, 'grant', { user: user.id, credits: amount, reason: 'client test', operator: 'support-test' });
  return user;
}

/** What a consuming service does for one job: reserve, run, then capture what it used or release on failure. */
async function chargeForJob(identifier: string, jobId: string, run: () => Promise<number>) {
  const { reservation } = await credits.reserveCredits({ identifier, amount: 50, idempotencyKey: `job-${jobId}`, description: `job ${jobId}` });
  try {
    const used = await run();
    return await credits.captureReservation({ reservationId: reservation.id, amount: used });
  } catch (error) {
    await credits.releaseReservation(reservation.id);
    throw error;
  }
}

describe('the typed credits client', () => {
  it('when a job succeeds, it is charged what it used; when it fails, its reservation is released', async () => {
    const user = await fundedUser(100);
    const charged = await chargeForJob(user.uuid, stripeId('job'), async () => 35);
    expect(charged).toMatchObject({ balanceAfter: 65n, replayed: false, transaction: { kind: 'capture', amount: -35n, balanceAfter: 65n, userId: user.uuid } });
    expect(charged.transaction.createTime).toBeInstanceOf(Date);

    await expect(chargeForJob(user.uuid, stripeId('job'), async () => Promise.reject(new Error('job crashed')))).rejects.toThrow('job crashed');
    expect(await credits.getBalance(user.uuid)).toEqual({ userId: user.uuid, balance: 65n, held: 0n, available: 65n });

    const kinds: string[] = [];
    for await (const transaction of credits.allTransactions(user.uuid, { pageSize: 1 })) kinds.push(`${transaction.kind} ${transaction.amount}`);
    expect(kinds).toEqual(['capture -35', 'grant 100']);
  });

  it('when a call fails, the error is a typed class carrying the stable code and the gRPC status', async () => {
    const user = await fundedUser(5);
    const key = stripeId('spend');
    expect(await credits.spendCredits({ identifier: user.id, amount: 2n, idempotencyKey: key, metadata: { a: 'b' } })).toMatchObject({
      balanceAfter: 3n,
      replayed: false,
      transaction: { kind: 'spend', amount: -2n, reference: key, metadata: { a: 'b' } },
    });
    expect((await credits.spendCredits({ identifier: user.id, amount: 2n, idempotencyKey: key })).replayed).toBe(true);

    const cases: [() => Promise<unknown>, new (...args: never[]) => CreditsServiceError, string, status][] = [
      [() => credits.spendCredits({ identifier: user.id, amount: 10, idempotencyKey: stripeId('k') }), InsufficientCreditsError, 'INSUFFICIENT_CREDITS', status.FAILED_PRECONDITION],
      [() => credits.spendCredits({ identifier: user.id, amount: 1, idempotencyKey: key }), IdempotencyKeyReusedError, 'IDEMPOTENCY_KEY_REUSED', status.ALREADY_EXISTS],
      [() => credits.getBalance('nobody-at-all@example.com'), UserNotFoundError, 'USER_NOT_FOUND', status.NOT_FOUND],
      [() => credits.captureReservation({ reservationId: '00000000-0000-4000-8000-000000000000' }), ReservationNotFoundError, 'RESERVATION_NOT_FOUND', status.NOT_FOUND],
      [() => credits.spendCredits({ identifier: user.id, amount: 0, idempotencyKey: stripeId('k') }), InvalidCreditsRequestError, 'REQUEST_INVALID', status.INVALID_ARGUMENT],
    ];
    for (const [send, Class, code, grpcStatus] of cases) {
      const error = await send().then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(Class);
      expect(error).toBeInstanceOf(CreditsServiceError);
      expect(error).toMatchObject({ code, grpcStatus });
    }

    const { reservation } = await credits.reserveCredits({ identifier: user.id, amount: 1, idempotencyKey: stripeId('r') });
    expect(reservation).toMatchObject({ status: 'held', amount: 1n, capturedAmount: 0n });
    expect((await credits.releaseReservation(reservation.id)).reservation.status).toBe('released');
    const notHeld = await credits.captureReservation({ reservationId: reservation.id }).catch((e: unknown) => e);
    expect(notHeld).toBeInstanceOf(ReservationNotHeldError);
    expect(notHeld).toMatchObject({ code: 'RESERVATION_RELEASED' });
    expect(await credits.resolveUser(user.uuid)).toMatchObject({ id: user.uuid, legacyId: user.id, balance: 3n, matchedBy: 'uuid' });
  });

  it('when CreditsService is not up yet, then the spend is retried with the same key until it is, and taken once', async () => {
    const user = await fundedUser(10);
    const port = await findFreePort();
    const retries: number[] = [];
    let server: Awaited<ReturnType<typeof startCreditsServer>> | undefined;
    let starting: Promise<void> | undefined;
    const late = createCreditsServiceClient(`127.0.0.1:${port}`, {
      token: TEST_TOKEN,
      deadlineMs: 30_000,
      retry: { maxAttempts: 200, baseDelayMs: 20, maxDelayMs: 100 },
      // The first UNAVAILABLE starts the server: no guessing how long anything takes.
      onRetry: ({ attempt, error }) => {
        expect(error).toBeInstanceOf(CreditsUnavailableError);
        retries.push(attempt);
        starting ??= startCreditsServer({
          store: h.store,
          databaseAnswers: async () => true,
          logger: h.logs.logger,
          rules: { priceCredits: {}, maxPerPurchase: 1_000, maxBalance: Number.MAX_SAFE_INTEGER, livemode: false },
          apiToken: TEST_TOKEN,
          host: '127.0.0.1',
          port,
        }).then((started) => {
          server = started;
        });
      },
    });
    try {
      const key = stripeId('late');
      const result = await late.spendCredits({ identifier: user.uuid, amount: 4, idempotencyKey: key });
      expect(result).toMatchObject({ balanceAfter: 6n, replayed: false });
      expect(retries.length).toBeGreaterThan(0);
      const { rows } = await h.sql.query('SELECT count(*)::int AS n FROM credit_transactions WHERE idempotency_key = $1', [key]);
      expect(rows[0].n).toBe(1);
    } finally {
      late.close();
      await starting;
      await server?.close(500);
    }
  });

  it('when retries run out, then CreditsUnavailableError', async () => {
    const port = await findFreePort();
    const nowhere = createCreditsServiceClient(`127.0.0.1:${port}`, { token: TEST_TOKEN, retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 } });
    let attempts = 0;
    try {
      const error = await nowhere.getBalance('someone@example.com').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CreditsUnavailableError);
      expect(error).toMatchObject({ grpcStatus: status.UNAVAILABLE });
    } finally {
      nowhere.close();
    }
    const counting = createCreditsServiceClient(`127.0.0.1:${port}`, {
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
      onRetry: () => attempts++,
    });
    await counting.getBalance('someone@example.com').catch(() => undefined);
    counting.close();
    expect(attempts).toBe(2); // three attempts in all
  });
});
