import { correctBalance } from '../src/credits/corrections';
import { captureReservation, releaseReservation, reserveCredits } from '../src/credits/reservations';
import { spendCredits } from '../src/credits/spending';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectStats, formatStats } from '../src/ops/stats';
import { startCreditsHarness, type CreditsHarness } from './support/credits-harness';
import { insertUser, sendCheckout, uniqueEmail } from './support/ops-seed';

let h: CreditsHarness;
let rejectedEventId: string;

beforeAll(async () => {
  h = await startCreditsHarness();
  const first = await sendCheckout(h, { email: uniqueEmail('stats-a'), metadata: { credits: '100' } });
  await sendCheckout(h, { email: uniqueEmail('stats-b'), metadata: { credits: '250' } });
  rejectedEventId = (await sendCheckout(h, { email: null, customer_email: null, client_reference_id: null })).eventId;
  await sendCheckout(h, { email: uniqueEmail('stats-c'), payment_status: 'unpaid' });
  await sendCheckout(h, { mode: 'setup' });
  await insertUser(h, uniqueEmail('stats-empty'));
  await correctBalance(h.store, 'grant', { user: first.response.user!.id, credits: 10, reason: 'goodwill', operator: 'support-test' });
  await correctBalance(h.store, 'revoke', { user: first.response.user!.id, credits: 5, reason: 'correction', operator: 'support-test' });
  // An old purchase, outside a 24h window.
  const old = await sendCheckout(h, { email: uniqueEmail('stats-old'), metadata: { credits: '1000' } });
  await h.sql.query(`UPDATE credit_transactions SET created_at = now() - interval '3 days' WHERE checkout_session_id = $1`, [old.sessionId]);
});
afterAll(() => h?.close());

describe('stats', () => {
  it('when events and ledger rows are stored, then they are counted by status, type, kind and window', async () => {
    const stats = await collectStats(h.orm.em.fork(), { since: new Date(Date.now() - 86_400_000) });
    expect(stats.events.byStatus).toEqual({ completed: 3, failed: 1, ignored: 1, pending: 1 });
    expect(stats.events.total).toBe(6);
    expect(stats.events.byTypeAndStatus).toEqual([
      { eventType: 'checkout.session.completed', status: 'completed', count: 3 },
      { eventType: 'checkout.session.completed', status: 'failed', count: 1 },
      { eventType: 'checkout.session.completed', status: 'ignored', count: 1 },
      { eventType: 'checkout.session.completed', status: 'pending', count: 1 },
    ]);
    expect(stats.recentFailures).toEqual([
      expect.objectContaining({ eventId: rejectedEventId, eventType: 'checkout.session.completed', attempts: 1, errorMessage: expect.stringContaining('user_unresolved') }),
    ]);
    // Users: stats-a, stats-b, stats-old with credits; stats-c (pending) was never created; stats-empty has none.
    expect(stats.users).toEqual({ total: 4, withCredits: 3, creditsOutstanding: String(105 + 250 + 1000) });
    expect(stats.ledger).toEqual([
      { kind: 'grant', entries: 1, credits: '10' },
      { kind: 'purchase', entries: 2, credits: '350' },
      { kind: 'revoke', entries: 1, credits: '-5' },
    ]);
    expect(stats.creditsGranted).toBe('360');
    expect(stats.purchasesBySource).toEqual({ webhook: 2, reconcile: 0 });

    const wide = await collectStats(h.orm.em.fork(), { since: new Date(Date.now() - 7 * 86_400_000) });
    expect(wide.creditsGranted).toBe('1360');
  });

  it('when printed as a table, then the numbers line up under their headings and no email appears', async () => {
    const text = formatStats(await collectStats(h.orm.em.fork(), { since: new Date(Date.now() - 86_400_000) }));
    expect(text).toMatch(/type\s+completed\s+failed\s+ignored\s+pending/);
    expect(text).toMatch(/checkout\.session\.completed\s+3\s+1\s+1\s+1/);
    expect(text).toContain(rejectedEventId);
    expect(text).toMatch(/users\s+with credits\s+credits outstanding\n\s+4\s+3\s+1355/);
    expect(text).toContain('credits granted: 360');
    expect(text).toContain('purchases: 2 delivered by webhook, 0 recovered by reconcile');
    expect(text).not.toContain('@');
  });
});

describe('stats of spending', () => {
  let s: CreditsHarness;
  beforeAll(async () => {
    s = await startCreditsHarness();
    const buyer = await sendCheckout(s, { email: uniqueEmail('stats-spender'), metadata: { credits: '500' } });
    const user = buyer.response.user!.id;
    await spendCredits(s.store, { identifier: user, amount: 40, idempotencyKey: 'stats-spend-1' });
    const partial = await reserveCredits(s.store, { identifier: user, amount: 100, idempotencyKey: 'stats-r1' });
    await captureReservation(s.store, { reservationId: partial.reservation.id, amount: 60 });
    const released = await reserveCredits(s.store, { identifier: user, amount: 50, idempotencyKey: 'stats-r2' });
    await releaseReservation(s.store, { reservationId: released.reservation.id });
    const expired = await reserveCredits(s.store, { identifier: user, amount: 25, idempotencyKey: 'stats-r3' });
    await s.sql.query(`UPDATE credit_reservations SET expire_time = now() - interval '1 minute' WHERE id = $1`, [expired.reservation.id]);
    await reserveCredits(s.store, { identifier: user, amount: 30, idempotencyKey: 'stats-r4' });
  });
  afterAll(() => s?.close());

  it('when credits were spent and reserved, then spends, captures and every fate of a reservation are counted', async () => {
    const stats = await collectStats(s.orm.em.fork(), { since: new Date(Date.now() - 86_400_000) });
    expect(stats.ledger).toEqual([
      { kind: 'capture', entries: 1, credits: '-60' },
      { kind: 'purchase', entries: 1, credits: '500' },
      { kind: 'spend', entries: 1, credits: '-40' },
    ]);
    expect([stats.creditsGranted, stats.creditsSpent]).toEqual(['500', '100']);
    expect(stats.reservations).toEqual({
      reserved: { count: 4, credits: '205' },
      captured: { count: 1, credits: '60' },
      released: { count: 1, credits: '90' }, // 50 released, and the 40 the partial capture did not take
      expired: { count: 1, credits: '25' },
      heldNow: { count: 1, credits: '30' },
    });
    const text = formatStats(stats);
    expect(text).toContain('(credits granted: 500, spent: 100)');
    expect(text).toMatch(/held now: 30 credits in 1\)\n\s+reserved\s+captured\s+released\s+expired\n\s+4 \(205\)\s+1 \(60\)\s+1 \(90\)\s+1 \(25\)/);
  });
});
