import { Metadata, status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaptureReservationResponse__Output } from '../src/contract/generated/credits/v1/CaptureReservationResponse';
import type { GetBalanceResponse__Output } from '../src/contract/generated/credits/v1/GetBalanceResponse';
import type { ListTransactionsResponse__Output } from '../src/contract/generated/credits/v1/ListTransactionsResponse';
import type { ReleaseReservationResponse__Output } from '../src/contract/generated/credits/v1/ReleaseReservationResponse';
import type { ReserveCreditsRequest } from '../src/contract/generated/credits/v1/ReserveCreditsRequest';
import type { ReserveCreditsResponse__Output } from '../src/contract/generated/credits/v1/ReserveCreditsResponse';
import type { SpendCreditsRequest } from '../src/contract/generated/credits/v1/SpendCreditsRequest';
import type { SpendCreditsResponse__Output } from '../src/contract/generated/credits/v1/SpendCreditsResponse';
import { correctBalance } from '../src/credits/corrections';
import { verifyDatabase } from '../src/ops/verify';
import { call, checkLedger, startCreditsHarness, TEST_TOKEN, type CallResult, type CreditsHarness } from './support/credits-harness';
import { insertUser, sendCheckout, uniqueEmail } from './support/ops-seed';
import { stripeId } from './support/stripe-events';

let h: CreditsHarness;

beforeAll(async () => {
  h = await startCreditsHarness();
});
afterAll(() => h?.close());

const auth = () => {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${TEST_TOKEN}`);
  return metadata;
};
const key = (label = 'k') => `${label}-${stripeId('idem')}`;

/** A user with `credits` granted through the ledger, so every row records its balance_after. */
async function fundedUser(credits: number, label = 'spender') {
  const user = await insertUser(h, uniqueEmail(label));
  if (credits > 0) await correctBalance(h.store, 'grant', { user: user.id, credits, reason: 'test funds', operator: 'support-test' });
  return user;
}

const spend = (request: SpendCreditsRequest) => call<SpendCreditsRequest, SpendCreditsResponse__Output>(h.client, h.client.SpendCredits, request, auth());
const reserve = (request: ReserveCreditsRequest) =>
  call<ReserveCreditsRequest, ReserveCreditsResponse__Output>(h.client, h.client.ReserveCredits, request, auth());
const capture = (reservation_id: string, amount: number | string = 0) =>
  call<object, CaptureReservationResponse__Output>(h.client, h.client.CaptureReservation, { reservation_id, amount: String(amount) }, auth());
const release = (reservation_id: string) =>
  call<object, ReleaseReservationResponse__Output>(h.client, h.client.ReleaseReservation, { reservation_id }, auth());
const balanceOf = async (identifier: string) => {
  const result = await call<object, GetBalanceResponse__Output>(h.client, h.client.GetBalance, { identifier }, auth());
  if (!result.ok) throw new Error(`GetBalance failed: ${result.errorCode}`);
  return result.response;
};
const list = (identifier: string, page_size = 0, page_token = '') =>
  call<object, ListTransactionsResponse__Output>(h.client, h.client.ListTransactions, { identifier, page_size, page_token }, auth());

function ok<T>(result: CallResult<T>): T {
  if (!result.ok) throw new Error(`call failed: ${result.error.code} ${result.errorCode} ${result.error.details}`);
  return result.response;
}

const failure = (result: CallResult<unknown>) => (result.ok ? 'OK' : [status[result.error.code], result.errorCode]);

async function ledgerRows(userId: string) {
  const { rows } = await h.sql.query('SELECT id, kind, amount, balance_after, idempotency_key, reservation_id FROM credit_transactions WHERE user_id = $1 ORDER BY id', [
    userId,
  ]);
  return rows;
}

async function reservationRow(id: string) {
  const { rows } = await h.sql.query('SELECT status, captured_amount, settled_at, expire_time FROM credit_reservations WHERE id = $1', [id]);
  return rows[0];
}

describe('SpendCredits', () => {
  it('when 100 spends of 1 race for a balance of 60, then exactly 60 succeed, 40 get INSUFFICIENT_CREDITS, and the balance ends at 0', async () => {
    const user = await fundedUser(60, 'crowd');
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => spend({ identifier: user.uuid, amount: '1', idempotency_key: key(`crowd-${i}`) })));
    const succeeded = results.filter((r) => r.ok);
    expect(succeeded).toHaveLength(60);
    expect(results.filter((r) => !r.ok).map(failure)).toEqual(Array(40).fill(['FAILED_PRECONDITION', 'INSUFFICIENT_CREDITS']));
    // Each success saw the balance the one before it left: 59, 58, ..., 0, each once.
    expect(succeeded.map((r) => Number(ok(r).balance_after)).sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    expect(await balanceOf(user.uuid)).toEqual({ user_id: user.uuid, balance: '0', held: '0', available: '0' });
    const rows = await ledgerRows(user.id);
    expect(rows.filter((row) => row.kind === 'spend')).toHaveLength(60);
    expect(rows.reduce((sum, row) => sum + Number(row.amount), 0)).toBe(0);
  });

  it('when 50 retries of one key race, then one debit is made and all 50 answers are the same, 49 of them replayed', async () => {
    const user = await fundedUser(10, 'retry');
    const request = { identifier: user.id, amount: '3', idempotency_key: key('retry'), description: 'render job 17', metadata: { job: '17' } };
    const answers = (await Promise.all(Array.from({ length: 50 }, () => spend(request)))).map(ok);
    expect(answers.filter((a) => !a.replayed)).toHaveLength(1);
    expect(answers.filter((a) => a.replayed)).toHaveLength(49);
    const first = answers.find((a) => !a.replayed)!;
    for (const answer of answers) expect({ ...answer, replayed: false }).toEqual(first);
    expect(first).toMatchObject({
      balance_after: '7',
      transaction: {
        user_id: user.uuid,
        kind: 'TRANSACTION_KIND_SPEND',
        amount: '-3',
        balance_after: '7',
        description: 'render job 17',
        reference: request.idempotency_key,
        metadata: { job: '17' },
      },
    });
    expect((await ledgerRows(user.id)).filter((row) => row.kind === 'spend')).toHaveLength(1);
    expect((await balanceOf(user.id)).balance).toBe('7');

    // A retry long after, when the balance has moved on, still answers the first result.
    await correctBalance(h.store, 'grant', { user: user.id, credits: 5, reason: 'later', operator: 'support-test' });
    expect(ok(await spend(request))).toEqual({ ...first, replayed: true });
  });

  it('when a key is reused with another amount or another user, then ALREADY_EXISTS IDEMPOTENCY_KEY_REUSED and nothing is taken', async () => {
    const user = await fundedUser(10, 'reuse');
    const other = await fundedUser(10, 'reuse-other');
    const idempotency_key = key('reuse');
    ok(await spend({ identifier: user.uuid, amount: '2', idempotency_key }));
    expect(failure(await spend({ identifier: user.uuid, amount: '3', idempotency_key }))).toEqual(['ALREADY_EXISTS', 'IDEMPOTENCY_KEY_REUSED']);
    expect(failure(await spend({ identifier: other.uuid, amount: '2', idempotency_key }))).toEqual(['ALREADY_EXISTS', 'IDEMPOTENCY_KEY_REUSED']);
    expect((await balanceOf(user.uuid)).balance).toBe('8');
    expect((await balanceOf(other.uuid)).balance).toBe('10');
  });

  it('when ten users race with one key, then one spends and nine get IDEMPOTENCY_KEY_REUSED', async () => {
    const users = await Promise.all(Array.from({ length: 10 }, (_, i) => fundedUser(5, `key-race-${i}`)));
    const idempotency_key = key('shared');
    const results = await Promise.all(users.map((user) => spend({ identifier: user.uuid, amount: '1', idempotency_key })));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok).map(failure)).toEqual(Array(9).fill(['ALREADY_EXISTS', 'IDEMPOTENCY_KEY_REUSED']));
    const balances = await Promise.all(users.map((user) => balanceOf(user.uuid)));
    expect(balances.map((b) => b.balance).sort()).toEqual([...Array(9).fill('5'), '4'].sort());
  });

  it('when the user has too few available credits, then FAILED_PRECONDITION INSUFFICIENT_CREDITS and nothing is written', async () => {
    const user = await fundedUser(5, 'poor');
    const before = await ledgerRows(user.id);
    const result = await spend({ identifier: user.uuid, amount: '6', idempotency_key: key('poor') });
    expect(failure(result)).toEqual(['FAILED_PRECONDITION', 'INSUFFICIENT_CREDITS']);
    expect(!result.ok && result.error.details).toBe('5 credits available, fewer than 6; nothing was written');
    expect(await ledgerRows(user.id)).toEqual(before);
  });

  it('when the identifier names nobody, then NOT_FOUND USER_NOT_FOUND', async () => {
    expect(failure(await spend({ identifier: 'nobody-spends@example.com', amount: '1', idempotency_key: key() }))).toEqual(['NOT_FOUND', 'USER_NOT_FOUND']);
  });
});

describe('reservations', () => {
  it('when credits are reserved, then GetBalance shows them held, and neither a spend nor a reservation can use them', async () => {
    const user = await fundedUser(100, 'hold');
    const reserved = ok(await reserve({ identifier: user.uuid, amount: '70', idempotency_key: key('hold'), description: 'batch 9' }));
    expect(reserved).toMatchObject({
      available_after: '30',
      replayed: false,
      reservation: { user_id: user.uuid, amount: '70', status: 'RESERVATION_STATUS_HELD', captured_amount: '0', description: 'batch 9' },
    });
    const expires = Number(reserved.reservation!.expire_time!.seconds) * 1000;
    expect(expires).toBeGreaterThan(Date.now() + 800_000); // the default ttl of 900 s
    expect(await balanceOf(user.uuid)).toEqual({ user_id: user.uuid, balance: '100', held: '70', available: '30' });

    expect(failure(await spend({ identifier: user.uuid, amount: '31', idempotency_key: key() }))).toEqual(['FAILED_PRECONDITION', 'INSUFFICIENT_CREDITS']);
    expect(failure(await reserve({ identifier: user.uuid, amount: '31', idempotency_key: key() }))).toEqual(['FAILED_PRECONDITION', 'INSUFFICIENT_CREDITS']);
    expect(ok(await spend({ identifier: user.uuid, amount: '30', idempotency_key: key() })).balance_after).toBe('70');
    expect(await balanceOf(user.uuid)).toEqual({ user_id: user.uuid, balance: '70', held: '70', available: '0' });
    // Support cannot revoke held credits either.
    await expect(correctBalance(h.store, 'revoke', { user: user.id, credits: 1, reason: 'test', operator: 'support-test' })).rejects.toThrow(
      `has 0 credits available (70 owned, 70 held by reservations), fewer than 1`,
    );
  });

  it('when a reservation is captured in part, then the capture is one ledger row, the rest is released, and a second capture answers the first', async () => {
    const user = await fundedUser(100, 'capture');
    const { reservation } = ok(await reserve({ identifier: user.uuid, amount: '50', idempotency_key: key('capture'), metadata: { job: 'j-1' } }));
    const first = ok(await capture(reservation!.id, 30));
    expect(first).toMatchObject({
      balance_after: '70',
      replayed: false,
      transaction: { kind: 'TRANSACTION_KIND_CAPTURE', amount: '-30', balance_after: '70', reference: reservation!.id, metadata: { job: 'j-1' } },
    });
    expect(await balanceOf(user.uuid)).toEqual({ user_id: user.uuid, balance: '70', held: '0', available: '70' });
    expect(await reservationRow(reservation!.id)).toMatchObject({ status: 'captured', captured_amount: '30' });

    expect(ok(await capture(reservation!.id, 30))).toEqual({ ...first, replayed: true });
    expect(ok(await capture(reservation!.id))).toEqual({ ...first, replayed: true });
    expect(failure(await release(reservation!.id))).toEqual(['FAILED_PRECONDITION', 'RESERVATION_CAPTURED']);
    expect((await ledgerRows(user.id)).filter((row) => row.kind === 'capture')).toHaveLength(1);
    expect((await balanceOf(user.uuid)).balance).toBe('70');
  });

  it('when captured with amount 0, then the whole reservation is taken; more than reserved is INVALID_ARGUMENT', async () => {
    const user = await fundedUser(20, 'capture-all');
    const { reservation } = ok(await reserve({ identifier: user.uuid, amount: '12', idempotency_key: key() }));
    const tooMuch = await capture(reservation!.id, 13);
    expect(failure(tooMuch)).toEqual(['INVALID_ARGUMENT', 'REQUEST_INVALID']);
    expect(!tooMuch.ok && tooMuch.error.details).toContain('amount must be at most the 12 credits reserved');
    expect(ok(await capture(reservation!.id, 0))).toMatchObject({ balance_after: '8', transaction: { amount: '-12' } });
  });

  it('when a reservation is released, then its credits are available again; releasing again changes nothing; capturing it is refused', async () => {
    const user = await fundedUser(40, 'release');
    const { reservation } = ok(await reserve({ identifier: user.uuid, amount: '25', idempotency_key: key('release') }));
    const released = ok(await release(reservation!.id));
    expect(released).toMatchObject({ available_after: '40', replayed: false, reservation: { id: reservation!.id, status: 'RESERVATION_STATUS_RELEASED' } });
    expect(ok(await release(reservation!.id))).toEqual({ ...released, replayed: true });
    expect(failure(await capture(reservation!.id))).toEqual(['FAILED_PRECONDITION', 'RESERVATION_RELEASED']);
    expect(await balanceOf(user.uuid)).toEqual({ user_id: user.uuid, balance: '40', held: '0', available: '40' });
    expect(await ledgerRows(user.id)).toHaveLength(1); // the grant only
  });

  it('when a reservation outlives its ttl, then it stops holding at its expire_time with no job, and capturing it is RESERVATION_EXPIRED', async () => {
    const user = await fundedUser(30, 'expire');
    const { reservation } = ok(await reserve({ identifier: user.uuid, amount: '20', idempotency_key: key('expire'), ttl_seconds: 1 }));
    const expireTime = Number(reservation!.expire_time!.seconds) * 1000 + reservation!.expire_time!.nanos / 1e6;
    expect((await balanceOf(user.uuid)).held).toBe('20');
    // Wait past expire_time (a bound, not a timing assertion), then nothing holds the credits any more.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expireTime - Date.now()) + 200));
    expect(await balanceOf(user.uuid)).toEqual({ user_id: user.uuid, balance: '30', held: '0', available: '30' });
    expect(ok(await spend({ identifier: user.uuid, amount: '30', idempotency_key: key() })).balance_after).toBe('0');

    const expired = await capture(reservation!.id);
    expect(failure(expired)).toEqual(['FAILED_PRECONDITION', 'RESERVATION_EXPIRED']);
    // The refusal stored what it found: the row is expired, settled at its expire_time.
    const row = await reservationRow(reservation!.id);
    expect(row).toMatchObject({ status: 'expired', captured_amount: null });
    expect(row.settled_at).toEqual(row.expire_time);
    expect(ok(await release(reservation!.id))).toMatchObject({ replayed: true, reservation: { status: 'RESERVATION_STATUS_EXPIRED' } });
  });

  it('when expire_time is moved into the past by hand, then the reservation reads as EXPIRED and releasing it succeeds', async () => {
    const user = await fundedUser(10, 'expire-db');
    const { reservation } = ok(await reserve({ identifier: user.uuid, amount: '10', idempotency_key: key() }));
    await h.sql.query(`UPDATE credit_reservations SET expire_time = now() - interval '1 minute' WHERE id = $1`, [reservation!.id]);
    expect((await balanceOf(user.uuid)).available).toBe('10');
    expect(ok(await release(reservation!.id))).toMatchObject({ available_after: '10', replayed: true, reservation: { status: 'RESERVATION_STATUS_EXPIRED' } });
    expect(failure(await capture(reservation!.id))).toEqual(['FAILED_PRECONDITION', 'RESERVATION_EXPIRED']);
  });

  it('when ReserveCredits is retried with its key, then the same reservation comes back; another amount is IDEMPOTENCY_KEY_REUSED', async () => {
    const user = await fundedUser(50, 'reserve-retry');
    const request = { identifier: user.uuid, amount: '10', idempotency_key: key('reserve-retry') };
    const answers = (await Promise.all(Array.from({ length: 20 }, () => reserve(request)))).map(ok);
    expect(new Set(answers.map((a) => a.reservation!.id)).size).toBe(1);
    expect(answers.filter((a) => !a.replayed)).toHaveLength(1);
    expect((await balanceOf(user.uuid)).held).toBe('10');
    expect(failure(await reserve({ ...request, amount: '11' }))).toEqual(['ALREADY_EXISTS', 'IDEMPOTENCY_KEY_REUSED']);
    // A replay after the capture shows the reservation as it is now.
    ok(await capture(answers[0]!.reservation!.id, 4));
    expect(ok(await reserve(request))).toMatchObject({ replayed: true, reservation: { status: 'RESERVATION_STATUS_CAPTURED', captured_amount: '4' } });
  });

  it('when the reservation id is unknown, then NOT_FOUND RESERVATION_NOT_FOUND; malformed, INVALID_ARGUMENT', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    expect(failure(await capture(unknown))).toEqual(['NOT_FOUND', 'RESERVATION_NOT_FOUND']);
    expect(failure(await release(unknown))).toEqual(['NOT_FOUND', 'RESERVATION_NOT_FOUND']);
    expect(failure(await capture('res_123'))).toEqual(['INVALID_ARGUMENT', 'REQUEST_INVALID']);
  });

  it('when captures and releases race on one reservation, then exactly one settles it and the ledger stays whole', async () => {
    const user = await fundedUser(30, 'settle-race');
    const { reservation } = ok(await reserve({ identifier: user.uuid, amount: '30', idempotency_key: key() }));
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? capture(reservation!.id, 30) : release(reservation!.id))));
    const row = await reservationRow(reservation!.id);
    if (row.status === 'captured') {
      expect(results.filter((_, i) => i % 2 === 0).every((r) => r.ok)).toBe(true);
      expect(results.filter((_, i) => i % 2 === 1).map(failure)).toEqual(Array(5).fill(['FAILED_PRECONDITION', 'RESERVATION_CAPTURED']));
      expect((await balanceOf(user.uuid)).balance).toBe('0');
    } else {
      expect(row.status).toBe('released');
      expect(results.filter((_, i) => i % 2 === 1).every((r) => r.ok)).toBe(true);
      expect(results.filter((_, i) => i % 2 === 0).map(failure)).toEqual(Array(5).fill(['FAILED_PRECONDITION', 'RESERVATION_RELEASED']));
      expect((await balanceOf(user.uuid)).balance).toBe('30');
    }
    expect((await ledgerRows(user.id)).filter((r) => r.kind === 'capture').length).toBe(row.status === 'captured' ? 1 : 0);
  });
});

describe('ListTransactions', () => {
  it('when a user bought, spent, captured and support corrected, then every row is listed newest first with its reference', async () => {
    const purchase = await sendCheckout(h, { email: uniqueEmail('history'), metadata: { credits: '100' } });
    const uuid = purchase.response.user!.id;
    await correctBalance(h.store, 'grant', { user: uuid, credits: 10, reason: 'ticket 12', operator: 'support-test' });
    await correctBalance(h.store, 'revoke', { user: uuid, credits: 5, reason: 'ticket 13', operator: 'support-test' });
    const spendKey = key('history');
    ok(await spend({ identifier: uuid, amount: '20', idempotency_key: spendKey, description: 'export', metadata: { file: 'a.csv' } }));
    const { reservation } = ok(await reserve({ identifier: uuid, amount: '30', idempotency_key: key(), description: 'training run' }));
    ok(await capture(reservation!.id, 25));

    const page = ok(await list(uuid));
    expect(page.next_page_token).toBe('');
    expect(page.transactions.map((t) => [t.kind, t.amount, t.balance_after, t.reference, t.description])).toEqual([
      ['TRANSACTION_KIND_CAPTURE', '-25', '60', reservation!.id, 'training run'],
      ['TRANSACTION_KIND_SPEND', '-20', '85', spendKey, 'export'],
      ['TRANSACTION_KIND_REVOKE', '-5', '105', 'ticket 13', ''],
      ['TRANSACTION_KIND_GRANT', '10', '110', 'ticket 12', ''],
      ['TRANSACTION_KIND_PURCHASE', '100', '100', purchase.sessionId, ''],
    ]);
    expect(page.transactions[1]!.metadata).toEqual({ file: 'a.csv' });
    for (const transaction of page.transactions) {
      expect(transaction.user_id).toBe(uuid);
      const created = Number(transaction.create_time!.seconds) * 1000;
      expect(Math.abs(created - Date.now())).toBeLessThan(3_600_000);
    }
    const ids = page.transactions.map((t) => BigInt(t.id));
    expect([...ids].sort((a, b) => (a > b ? -1 : 1))).toEqual(ids);
  });

  it('when rows are written while a caller pages, then the pages neither skip nor repeat a row that existed when paging began', async () => {
    const user = await fundedUser(0, 'pages');
    for (let i = 0; i < 60; i++) await correctBalance(h.store, 'grant', { user: user.id, credits: 1, reason: `seed ${i}`, operator: "support-test" });
    const { rows: existing } = await h.sql.query<{ id: string }>('SELECT id FROM credit_transactions WHERE user_id = $1 ORDER BY id DESC', [user.id]);

    // Writers keep adding grants and spends to this user while the pages are read.
    let writing = true;
    const writers = Array.from({ length: 3 }, async (_, w) => {
      let written = 0;
      while (writing) {
        if (written % 2 === 0) await correctBalance(h.store, 'grant', { user: user.id, credits: 2, reason: `writer ${w}`, operator: "support-test" });
        else ok(await spend({ identifier: user.uuid, amount: '1', idempotency_key: key(`writer-${w}`) }));
        written++;
      }
      return written;
    });

    const seen: string[] = [];
    let token = '';
    let pages = 0;
    do {
      const page = ok(await list(user.uuid, 7, token));
      seen.push(...page.transactions.map((t) => t.id));
      token = page.next_page_token;
      pages++;
    } while (token);
    writing = false;
    const written = (await Promise.all(writers)).reduce((sum, n) => sum + n, 0);

    expect(pages).toBeGreaterThan(8);
    expect(new Set(seen).size).toBe(seen.length); // nothing repeated
    expect(seen.map(BigInt)).toEqual([...seen.map(BigInt)].sort((a, b) => (a > b ? -1 : 1))); // newest first throughout
    const seenSet = new Set(seen);
    expect(existing.map((row) => String(row.id)).filter((id) => !seenSet.has(id))).toEqual([]); // nothing skipped
    expect(written).toBeGreaterThan(0);
    expect(await checkLedger(h.sql)).toMatchObject({ mismatched: 0, negative: 0 });
  });

  it('when page_size is 0 the page holds 50; above 500 it holds at most 500', async () => {
    const user = await fundedUser(0, 'sizes');
    await h.sql.query(
      `INSERT INTO credit_transactions (user_id, amount, kind, reason, created_by, balance_after) SELECT $1, 1, 'grant', 'bulk', 'test', n FROM generate_series(1, 520) AS n`,
      [user.id],
    );
    await h.sql.query('UPDATE users SET credits_balance = 520 WHERE id = $1', [user.id]);
    const first = ok(await list(user.uuid));
    expect(first.transactions).toHaveLength(50);
    expect(first.transactions[0]!.balance_after).toBe('520');
    const big = ok(await list(user.uuid, 5_000));
    expect(big.transactions).toHaveLength(500);
    const rest = ok(await list(user.uuid, 5_000, big.next_page_token));
    expect([rest.transactions.length, rest.next_page_token]).toEqual([20, '']);
  });

  it('when a page token is garbage or belongs to another identifier, then INVALID_ARGUMENT naming page_token', async () => {
    const a = await fundedUser(3, 'token-a');
    const b = await fundedUser(3, 'token-b');
    for (let i = 0; i < 3; i++) await correctBalance(h.store, 'grant', { user: a.id, credits: 1, reason: 'x', operator: 'support-test' });
    const page = ok(await list(a.uuid, 2));
    expect(page.next_page_token).not.toBe('');
    for (const [identifier, token] of [
      [b.uuid, page.next_page_token],
      [a.uuid, 'not-a-token'],
      [a.uuid, `${page.next_page_token}x`],
      [a.uuid, Buffer.from('v1:1:-5').toString('base64url')],
    ] as const) {
      const result = await list(identifier, 2, token);
      expect(failure(result)).toEqual(['INVALID_ARGUMENT', 'REQUEST_INVALID']);
      expect(!result.ok && result.error.details).toContain('page_token');
    }
  });
});

describe('bad input on every new field', () => {
  let user: { id: string; uuid: string };
  beforeAll(async () => {
    user = await fundedUser(100, 'bad-input');
  });

  const spendWith = (fields: Partial<SpendCreditsRequest>) => () => spend({ identifier: user.uuid, amount: '1', idempotency_key: key(), ...fields });
  const reserveWith = (fields: Partial<ReserveCreditsRequest>) => () => reserve({ identifier: user.uuid, amount: '1', idempotency_key: key(), ...fields });
  const manyEntries = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, 'v']));

  it.each([
    ['SpendCredits amount 0', 'amount', spendWith({ amount: '0' })],
    ['SpendCredits amount -5', 'amount', spendWith({ amount: '-5' })],
    ['SpendCredits amount above 2^53', 'amount', spendWith({ amount: '9007199254740993' })],
    ['SpendCredits without an idempotency key', 'idempotency_key', spendWith({ idempotency_key: '' })],
    ['SpendCredits with a blank idempotency key', 'idempotency_key', spendWith({ idempotency_key: '   ' })],
    ['SpendCredits with a 256-character key', 'idempotency_key', spendWith({ idempotency_key: 'k'.repeat(256) })],
    ['SpendCredits with a non-ASCII key', 'idempotency_key', spendWith({ idempotency_key: 'clé-1' })],
    ['SpendCredits with a control character in the key', 'idempotency_key', spendWith({ idempotency_key: 'a\u0000b' })],
    ['SpendCredits with a 501-character description', 'description', spendWith({ description: 'd'.repeat(501) })],
    ['SpendCredits with a NUL in the description', 'description', spendWith({ description: 'a\u0000b' })],
    ['SpendCredits with 21 metadata entries', 'metadata', spendWith({ metadata: manyEntries })],
    ['SpendCredits with a 41-character metadata key', 'metadata', spendWith({ metadata: { ['k'.repeat(41)]: 'v' } })],
    ['SpendCredits with a 501-character metadata value', 'metadata', spendWith({ metadata: { k: 'v'.repeat(501) } })],
    ['ReserveCredits amount 0', 'amount', reserveWith({ amount: '0' })],
    ['ReserveCredits without an idempotency key', 'idempotency_key', reserveWith({ idempotency_key: '' })],
    ['ReserveCredits ttl_seconds -1', 'ttl_seconds', reserveWith({ ttl_seconds: -1 })],
    ['ReserveCredits ttl_seconds 86401', 'ttl_seconds', reserveWith({ ttl_seconds: 86_401 })],
    ['ReserveCredits with 21 metadata entries', 'metadata', reserveWith({ metadata: manyEntries })],
    ['CaptureReservation without a reservation id', 'reservation_id', () => capture('')],
    ['CaptureReservation with a malformed reservation id', 'reservation_id', () => capture('not-a-uuid')],
    ['CaptureReservation amount -1', 'amount', () => capture('00000000-0000-4000-8000-000000000000', -1)],
    ['ReleaseReservation with a malformed reservation id', 'reservation_id', () => release('12345')],
    ['ListTransactions page_size -1', 'page_size', () => list(user.uuid, -1)],
    ['ListTransactions with a made-up page_token', 'page_token', () => list(user.uuid, 0, 'djE6OTk5OTk6MQ')],
  ] as [string, string, () => Promise<CallResult<unknown>>][])('when %s, then INVALID_ARGUMENT REQUEST_INVALID naming %s, and nothing is written', async (_name, field, send) => {
    const before = await h.sql.query('SELECT (SELECT count(*) FROM credit_transactions) + (SELECT count(*) FROM credit_reservations) AS n');
    const result = await send();
    expect(failure(result)).toEqual(['INVALID_ARGUMENT', 'REQUEST_INVALID']);
    expect(!result.ok && result.error.details).toContain(field);
    const after = await h.sql.query('SELECT (SELECT count(*) FROM credit_transactions) + (SELECT count(*) FROM credit_reservations) AS n');
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it('when the identifier is a placeholder, then IDENTIFIER_PLACEHOLDER as for GetBalance', async () => {
    expect(failure(await spend({ identifier: '{{user_id}}', amount: '1', idempotency_key: key() }))).toEqual(['INVALID_ARGUMENT', 'IDENTIFIER_PLACEHOLDER']);
    expect(failure(await list('null'))).toEqual(['INVALID_ARGUMENT', 'IDENTIFIER_PLACEHOLDER']);
  });
});

describe('verify after all of it', () => {
  it('when everything above ran, then verify passes; a reservation corrupted by hand fails it, naming the user', async () => {
    const report = await verifyDatabase(h.orm);
    expect(report.checks.filter((check) => check.status !== 'ok')).toEqual([]);

    const user = await fundedUser(20, 'corrupt');
    const { reservation: captured } = ok(await reserve({ identifier: user.uuid, amount: '5', idempotency_key: key() }));
    ok(await capture(captured!.id));
    const { reservation: held } = ok(await reserve({ identifier: user.uuid, amount: '15', idempotency_key: key() }));

    // A captured reservation set back to held by hand: it has a capture row it should not have.
    await h.sql.query(`UPDATE credit_reservations SET status = 'held', captured_amount = NULL, settled_at = NULL WHERE id = $1`, [captured!.id]);
    try {
      const broken = await verifyDatabase(h.orm);
      const check = broken.checks.find((c) => c.id === 'invariant.uncaptured_reservation_has_no_capture')!;
      expect(check.problems).toEqual([`user ${user.id} (${user.uuid}): reservation ${captured!.id} is held but has a capture ledger row`]);
      // ... and now 20 credits are held of the 15 owned.
      expect(broken.checks.find((c) => c.id === 'invariant.available_non_negative')!.problems).toEqual([
        `user ${user.id} (${user.uuid}): balance 15, held by live reservations 20`,
      ]);
      expect(broken.ok).toBe(false);
    } finally {
      await h.sql.query(`UPDATE credit_reservations SET status = 'captured', captured_amount = 5, settled_at = now() WHERE id = $1`, [captured!.id]);
    }

    // A held reservation marked captured by hand: its capture row is missing.
    await h.sql.query(`UPDATE credit_reservations SET status = 'captured', captured_amount = 15, settled_at = now() WHERE id = $1`, [held!.id]);
    try {
      const broken = await verifyDatabase(h.orm);
      expect(broken.checks.find((c) => c.id === 'invariant.captured_reservation_has_capture')!.problems).toEqual([
        `user ${user.id} (${user.uuid}): reservation ${held!.id} is captured (15) but has no capture ledger row`,
      ]);
    } finally {
      await h.sql.query(`UPDATE credit_reservations SET status = 'held', captured_amount = NULL, settled_at = NULL WHERE id = $1`, [held!.id]);
    }
    expect((await verifyDatabase(h.orm)).ok).toBe(true);
    expect(await checkLedger(h.sql)).toMatchObject({ mismatched: 0, negative: 0 });
  });
});
