import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { progressBar } from '../src/cli/progress';
import { formatReplayReport, replayEvents } from '../src/ops/replay';
import { verifyDatabase } from '../src/ops/verify';
import { cli } from './support/cli';
import { startCreditsHarness, type CreditsHarness } from './support/credits-harness';
import { captureLogs } from './support/log-capture';
import { balanceOf, insertUser, sendCheckout, uniqueEmail } from './support/ops-seed';
import { stripeId } from './support/stripe-events';

let h: CreditsHarness;
const rules = { priceCredits: {}, maxPerPurchase: 1_000_000, maxBalance: Number.MAX_SAFE_INTEGER, livemode: false };

beforeAll(async () => {
  h = await startCreditsHarness();
});
afterAll(() => h?.close());

async function eventRow(eventId: string) {
  const { rows } = await h.sql.query('SELECT status, outcome, attempts, error_message FROM stripe_events WHERE event_id = $1', [eventId]);
  return rows[0];
}

async function ledgerRows(sessionId: string): Promise<number> {
  const { rows } = await h.sql.query('SELECT count(*)::int AS n FROM credit_transactions WHERE checkout_session_id = $1', [sessionId]);
  return rows[0].n;
}

/** Only these events are `failed`: earlier tests' leftovers are settled first. */
async function clearFailures(): Promise<void> {
  await h.sql.query(`UPDATE stripe_events SET status = 'ignored' WHERE status = 'failed'`);
}

describe('replay', { timeout: 90_000 }, () => {
  it('when a rejected event is replayed after its user exists, then it is applied once; again, it is a duplicate', async () => {
    await clearFailures();
    const email = uniqueEmail('later');
    const rejected = await sendCheckout(h, { email: null, client_reference_id: email, metadata: { credits: '120' } });
    expect(rejected.response).toMatchObject({ outcome: 'APPLY_CHECKOUT_OUTCOME_REJECTED', reason: 'user_unresolved' });
    expect(await eventRow(rejected.eventId)).toMatchObject({ status: 'failed', attempts: 1 });

    // A dry run lists the event and what its metadata buys, and writes nothing.
    const dry = await cli(['replay', '--failed', '--dry-run'], h.database.url);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(rejected.eventId);
    expect(dry.stdout).toContain('would_replay');
    expect(dry.stdout).toContain('120 credits from metadata');
    expect(dry.stdout).toContain('Dry run, nothing written: 1 event(s): would_replay 1');
    expect(dry.stderr).toBe(''); // not a terminal: no progress bar
    expect(await eventRow(rejected.eventId)).toMatchObject({ status: 'failed', attempts: 1 });

    const user = await insertUser(h, email);
    const applied = await cli(['replay', '--event', rejected.eventId], h.database.url);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toMatch(new RegExp(`${rejected.eventId}\\s+checkout.session.completed\\s+failed\\s+applied\\s+120`));
    expect(applied.stdout).toContain('Replayed: 1 event(s): applied 1');
    expect(await balanceOf(h, user.id)).toBe('120');
    expect(await ledgerRows(rejected.sessionId)).toBe(1);
    expect(await eventRow(rejected.eventId)).toMatchObject({ status: 'completed', outcome: 'applied', attempts: 2, error_message: null });

    const again = await cli(['replay', '--event', rejected.eventId, '--json'], h.database.url);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({
      dryRun: false,
      items: [{ eventId: rejected.eventId, previousStatus: 'completed', outcome: 'duplicate', reason: 'event_already_processed', creditsGranted: 0 }],
      summary: { duplicate: 1 },
    });
    expect(await balanceOf(h, user.id)).toBe('120');
    expect(await ledgerRows(rejected.sessionId)).toBe(1);

    const none = await replayEvents(h.orm.em, h.store, { failed: true }, { rules, logger: captureLogs().logger });
    expect(formatReplayReport(none)).toBe('Nothing to replay.');
    expect((await verifyDatabase(h.orm)).ok).toBe(true);
  });

  it('when a failed event is still rejected on replay, then the CLI exits 1 and explains what credits_unknown needs', async () => {
    await clearFailures();
    const noCredits = await sendCheckout(h, { email: uniqueEmail('priced'), metadata: {} });
    expect(noCredits.response.reason).toBe('credits_unknown');
    const run = await cli(['replay', '--failed'], h.database.url);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('Replayed: 1 event(s): rejected 1');
    expect(run.stdout).toContain('no line item has a price in STRIPE_PRICE_CREDITS');
    expect(await eventRow(noCredits.eventId)).toMatchObject({ status: 'failed', attempts: 2 });
  });

  it('when --since is given, then only failures received since then are replayed, oldest first, with progress', async () => {
    await clearFailures();
    const old = await sendCheckout(h, { email: null, client_reference_id: uniqueEmail('old') });
    const recentA = await sendCheckout(h, { email: null, client_reference_id: uniqueEmail('recent-a') });
    const recentB = await sendCheckout(h, { email: null, client_reference_id: uniqueEmail('recent-b') });
    await h.sql.query(`UPDATE stripe_events SET received_at = now() - interval '10 days' WHERE event_id = $1`, [old.eventId]);
    await h.sql.query(`UPDATE stripe_events SET received_at = now() - interval '1 minute' WHERE event_id = $1`, [recentA.eventId]);

    const progress: [number, number][] = [];
    const report = await replayEvents(
      h.orm.em,
      h.store,
      { failed: true, since: new Date(Date.now() - 86_400_000) },
      { rules, logger: captureLogs().logger, onProgress: (done, total) => progress.push([done, total]) },
    );
    expect(report.items.map((item) => [item.eventId, item.outcome])).toEqual([
      [recentA.eventId, 'rejected'],
      [recentB.eventId, 'rejected'],
    ]);
    expect(report.summary).toEqual({ rejected: 2 });
    expect(progress).toEqual([
      [1, 2],
      [2, 2],
    ]);
    expect(await eventRow(old.eventId)).toMatchObject({ attempts: 1 });
  });

  it('when the event id is not stored or the command line is wrong, then it exits 1 or 2 without a stack trace', async () => {
    const missing = await cli(['replay', '--event', stripeId('evt')], h.database.url);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: no stored event with id evt_test_\w+\n$/);
    const badDate = await cli(['replay', '--failed', '--since', 'yesterday'], h.database.url);
    expect(badDate.code).toBe(2);
    expect(badDate.stderr).toContain('--since must be an ISO date');
  });

  it('when the payload stored is not a Stripe event, then that event is reported as an error and nothing changes', async () => {
    await clearFailures();
    const eventId = stripeId('evt');
    await h.sql.query(
      `INSERT INTO stripe_events (event_id, event_type, status, outcome, error_message, payload) VALUES ($1, 'checkout.session.completed', 'failed', 'rejected', 'x', '{"broken": true}')`,
      [eventId],
    );
    const report = await replayEvents(h.orm.em, h.store, { eventId }, { rules, logger: captureLogs().logger });
    expect(report.items).toEqual([expect.objectContaining({ eventId, outcome: 'error', reason: 'REQUEST_INVALID: stored payload is not a Stripe event' })]);
    expect(await eventRow(eventId)).toMatchObject({ status: 'failed', attempts: 1 });
  });
});

describe('progress bar', () => {
  it('when stderr is a terminal, then it draws in place and clears at the end; otherwise it writes nothing', () => {
    const tty = Object.assign(new PassThrough(), { isTTY: true, columns: 80 });
    const bar = progressBar(tty);
    bar.update(1, 4, 'evt_1 applied');
    bar.finish();
    const drawn = tty.read().toString();
    expect(drawn).toContain('[######..................] 1/4 evt_1 applied');
    expect(drawn.endsWith('\r\x1b[2K')).toBe(true);

    const pipe = new PassThrough();
    progressBar(pipe).update(1, 1, 'x');
    expect(pipe.read()).toBeNull();
  });
});
