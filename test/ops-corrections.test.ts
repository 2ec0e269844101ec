import { correctBalance } from '../src/credits/corrections';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreditsError } from '../src/credits/errors';
import { verifyDatabase } from '../src/ops/verify';
import { cli } from './support/cli';
import { startCreditsHarness, type CreditsHarness } from './support/credits-harness';
import { balanceOf, insertUser, uniqueEmail } from './support/ops-seed';

let h: CreditsHarness;

beforeAll(async () => {
  h = await startCreditsHarness();
});
afterAll(() => h?.close());

async function ledger(userId: string) {
  const { rows } = await h.sql.query('SELECT amount, kind, reason, checkout_session_id, stripe_event_id FROM credit_transactions WHERE user_id = $1 ORDER BY id', [userId]);
  return rows;
}

describe('grant and revoke', { timeout: 90_000 }, () => {
  it('when support grants through the CLI, then a grant ledger row and the balance change together', async () => {
    const email = uniqueEmail('grant');
    const user = await insertUser(h, email);
    const run = await cli(['grant', '--user', email, '--credits', '50', '--reason', 'ticket 4711: goodwill'], h.database.url);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Granted 50 credits to user ${user.id} (${user.uuid})`);
    expect(run.stdout).toContain('balance: 0 -> 50');
    expect(run.stdout + run.stderr).not.toContain(email); // the output is pasted into tickets
    expect(await ledger(user.id)).toEqual([
      { amount: '50', kind: 'grant', reason: 'ticket 4711: goodwill', checkout_session_id: null, stripe_event_id: null },
    ]);
    expect(await balanceOf(h, user.id)).toBe('50');
  });

  it('when support revokes, then a negative revoke row is written; below zero it is refused and nothing is written', async () => {
    const user = await insertUser(h, uniqueEmail('revoke'));
    await correctBalance(h.store, 'grant', { user: user.uuid, credits: 30, reason: 'seed', operator: 'support-test' });
    const result = await correctBalance(h.store, 'revoke', { user: user.id, credits: 20, reason: 'refund re_123', operator: 'support-test' });
    expect(result).toMatchObject({ kind: 'revoke', credits: 20, balanceBefore: '30', balanceAfter: '10', user: { id: user.id, uuid: user.uuid } });
    await expect(correctBalance(h.store, 'revoke', { user: user.id, credits: 11, reason: 'too much', operator: 'support-test' })).rejects.toThrow(CreditsError);
    expect(await balanceOf(h, user.id)).toBe('10');
    expect((await ledger(user.id)).map((row) => [row.kind, row.amount])).toEqual([
      ['grant', '30'],
      ['revoke', '-20'],
    ]);

    const run = await cli(['revoke', '--user', user.uuid, '--credits', '11', '--reason', 'too much'], h.database.url);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`error: revoke refused: user ${user.id} (${user.uuid}) has 10 credits, fewer than 11; nothing was written\n`);
    expect(run.stdout).toBe('');
    expect(await ledger(user.id)).toHaveLength(2);
  });

  it('when two revokes race for the last credits, then one wins and the balance never goes below zero', async () => {
    const user = await insertUser(h, uniqueEmail('race'));
    await correctBalance(h.store, 'grant', { user: user.id, credits: 30, reason: 'seed', operator: 'support-test' });
    const results = await Promise.allSettled([
      correctBalance(h.store, 'revoke', { user: user.id, credits: 20, reason: 'a', operator: 'support-test' }),
      correctBalance(h.store, 'revoke', { user: user.id, credits: 20, reason: 'b', operator: 'support-test' }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(await balanceOf(h, user.id)).toBe('10');
    expect((await verifyDatabase(h.orm)).ok).toBe(true);
  });

  it('when the user or the arguments are wrong, then it exits 1 (refused) or 2 (usage) and writes nothing', async () => {
    const before = await h.sql.query('SELECT count(*)::int AS n FROM credit_transactions');
    const nobody = await cli(['grant', '--user', 'nobody@example.com', '--credits', '5', '--reason', 'x'], h.database.url);
    expect([nobody.code, nobody.stderr]).toEqual([1, 'error: no user matches that email\n']);
    for (const args of [
      ['grant', '--user', '12', '--credits', '5'],
      ['grant', '--user', '{{user_id}}', '--credits', '5', '--reason', 'x'],
      ['grant', '--user', '12', '--credits', '5', '--reason', 'x', '--force'],
    ]) {
      const run = await cli(args, h.database.url);
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
      expect(run.stderr).toContain(`npm run cli -- ${args[0]} --help`);
    }
    const after = await h.sql.query('SELECT count(*)::int AS n FROM credit_transactions');
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });
});
