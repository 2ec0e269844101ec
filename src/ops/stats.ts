import type { EntityManager } from '../db/orm.js';
import { table } from './text-table.js';
import { sql } from '../db/sql.js';

export interface EventCount {
  eventType: string;
  status: string;
  count: number;
}

export interface RecentFailure {
  eventId: string;
  eventType: string;
  errorMessage: string | null;
  attempts: number;
  receivedAt: string;
  processedAt: string | null;
}

export interface LedgerWindow {
  kind: string;
  entries: number;
  credits: string;
}

/** Reservations by what happened to them inside the window; `held` is what live reservations hold now. */
export interface ReservationWindow {
  reserved: { count: number; credits: string };
  captured: { count: number; credits: string };
  /** Released by ReleaseReservation, plus the part of partial captures that was not taken. */
  released: { count: number; credits: string };
  /** Expired while held (their expire_time fell inside the window). */
  expired: { count: number; credits: string };
  heldNow: { count: number; credits: string };
}

export interface Stats {
  window: { since: string; until: string };
  events: { byStatus: Record<string, number>; byTypeAndStatus: EventCount[]; total: number };
  recentFailures: RecentFailure[];
  users: { total: number; withCredits: number; creditsOutstanding: string };
  /** Ledger entries created inside the window, by kind (purchase, grant, revoke, spend, capture). */
  ledger: LedgerWindow[];
  /** Purchases and grants inside the window. */
  creditsGranted: string;
  /**
   * Purchases inside the window by how their event arrived: delivered by the webhook, or
   * recovered by reconcile from Stripe's Events API (stripe_events.source).
   */
  purchasesBySource: { webhook: number; reconcile: number };
  /** Spends and captures inside the window, as a positive number. */
  creditsSpent: string;
  reservations: ReservationWindow;
  /** Refunds and disputes inside the window (ledger rows), and the reversal events waiting for their purchase now. */
  reversals: ReversalWindow;
}

export interface ReversalWindow {
  /** Credits taken back by refunds and by disputes. */
  reversed: { refund: string; dispute: string };
  /** Credits given back by won disputes. */
  restored: string;
  /** Credits refunds and disputes were due to take but could not (spent, or held by reservations): the users are in the logs. */
  shortfall: string;
  /** Rows with a shortfall. */
  shortfallRows: number;
  /** Refund and dispute events stored as pending: their purchase is not credited (yet). */
  waitingForPurchase: number;
}

export interface StatsOptions {
  since: Date;
  failureLimit?: number;
}

const iso = (value: Date | string | null): string | null => (value === null ? null : new Date(value).toISOString());

/** What an operator asks first: is anything failing, and how much was credited lately. */
export async function collectStats(em: EntityManager, { since, failureLimit = 10 }: StatsOptions): Promise<Stats> {
  const until = new Date();
  const eventRows = await sql<{ event_type: string; status: string; count: string }[]>(em,
    'SELECT event_type, status, count(*) AS count FROM stripe_events GROUP BY event_type, status ORDER BY event_type, status',
  );
  const failures = await sql<{ event_id: string; event_type: string; error_message: string | null; attempts: number; received_at: Date; processed_at: Date | null }[]>(em,
    `SELECT event_id, event_type, error_message, attempts, received_at, processed_at FROM stripe_events
     WHERE status = 'failed' ORDER BY coalesce(processed_at, received_at) DESC, id DESC LIMIT ?`,
    [failureLimit],
  );
  const [users] = await sql<{ total: string; with_credits: string; outstanding: string }[]>(em,
    `SELECT count(*) AS total, count(*) FILTER (WHERE credits_balance > 0) AS with_credits,
            coalesce(sum(credits_balance), 0) AS outstanding FROM users`,
  );
  const ledger = await sql<{ kind: string; entries: string; credits: string }[]>(em,
    `SELECT kind, count(*) AS entries, sum(amount) AS credits FROM credit_transactions
     WHERE created_at >= ? AND created_at <= ? GROUP BY kind ORDER BY kind`,
    [since, until],
  );

  const bySource = await sql<{ source: string; purchases: string }[]>(em,
    `SELECT e.source, count(*) AS purchases FROM credit_transactions t JOIN stripe_events e ON e.event_id = t.stripe_event_id
     WHERE t.kind = 'purchase' AND t.created_at >= ? AND t.created_at <= ? GROUP BY e.source`,
    [since, until],
  );
  const purchasesFrom = (source: string) => Number(bySource.find((row) => row.source === source)?.purchases ?? 0);
  const [reservations] = await sql<Record<`${'reserved' | 'captured' | 'released' | 'expired' | 'held'}_${'count' | 'credits'}`, string>[]>(em,
    `WITH w AS (SELECT ?::timestamptz AS since, ?::timestamptz AS until),
     r AS (SELECT r.*, r.created_at BETWEEN w.since AND w.until AS created_in,
                  r.settled_at BETWEEN w.since AND w.until AS settled_in,
                  r.status IN ('expired', 'held') AND r.expire_time BETWEEN w.since AND least(w.until, statement_timestamp()) AS expired_in
           FROM credit_reservations r CROSS JOIN w)
     SELECT count(*) FILTER (WHERE created_in) AS reserved_count,
            coalesce(sum(amount) FILTER (WHERE created_in), 0) AS reserved_credits,
            count(*) FILTER (WHERE status = 'captured' AND settled_in) AS captured_count,
            coalesce(sum(captured_amount) FILTER (WHERE status = 'captured' AND settled_in), 0) AS captured_credits,
            count(*) FILTER (WHERE status = 'released' AND settled_in) AS released_count,
            coalesce(sum(CASE WHEN status = 'released' THEN amount ELSE amount - captured_amount END)
              FILTER (WHERE status IN ('released', 'captured') AND settled_in), 0) AS released_credits,
            count(*) FILTER (WHERE expired_in) AS expired_count,
            coalesce(sum(amount) FILTER (WHERE expired_in), 0) AS expired_credits,
            count(*) FILTER (WHERE status = 'held' AND expire_time > statement_timestamp()) AS held_count,
            coalesce(sum(amount) FILTER (WHERE status = 'held' AND expire_time > statement_timestamp()), 0) AS held_credits
     FROM r`,
    [since, until],
  );
  const [reversals] = await sql<Record<'refund' | 'dispute' | 'restored' | 'shortfall' | 'shortfall_rows' | 'waiting', string>[]>(em,
    `SELECT coalesce(-sum(amount) FILTER (WHERE kind = 'refund'), 0) AS refund,
            coalesce(-sum(amount) FILTER (WHERE kind = 'dispute'), 0) AS dispute,
            coalesce(sum(amount) FILTER (WHERE kind = 'dispute_won'), 0) AS restored,
            coalesce(sum(shortfall) FILTER (WHERE kind IN ('refund', 'dispute')), 0) AS shortfall,
            count(*) FILTER (WHERE kind IN ('refund', 'dispute') AND shortfall > 0) AS shortfall_rows,
            (SELECT count(*) FROM stripe_events WHERE status = 'pending'
               AND event_type IN ('charge.refunded', 'charge.dispute.created', 'charge.dispute.closed')) AS waiting
     FROM credit_transactions WHERE kind IN ('refund', 'dispute', 'dispute_won') AND created_at >= ? AND created_at <= ?`,
    [since, until],
  );
  const reservationFigure = (name: 'reserved' | 'captured' | 'released' | 'expired' | 'held') => ({
    count: Number(reservations?.[`${name}_count`] ?? 0),
    credits: String(reservations?.[`${name}_credits`] ?? 0),
  });

  const byTypeAndStatus = eventRows.map((row) => ({ eventType: row.event_type, status: row.status, count: Number(row.count) }));
  const byStatus: Record<string, number> = {};
  for (const row of byTypeAndStatus) byStatus[row.status] = (byStatus[row.status] ?? 0) + row.count;
  const sumOf = (kinds: string[]) => ledger.filter((row) => kinds.includes(row.kind)).reduce((sum, row) => sum + BigInt(row.credits), 0n);
  const granted = sumOf(['purchase', 'grant']);
  const spent = -sumOf(['spend', 'capture']);
  return {
    window: { since: since.toISOString(), until: until.toISOString() },
    events: { byStatus, byTypeAndStatus, total: byTypeAndStatus.reduce((sum, row) => sum + row.count, 0) },
    recentFailures: failures.map((row) => ({
      eventId: row.event_id,
      eventType: row.event_type,
      errorMessage: row.error_message,
      attempts: row.attempts,
      receivedAt: iso(row.received_at)!,
      processedAt: iso(row.processed_at),
    })),
    users: { total: Number(users?.total ?? 0), withCredits: Number(users?.with_credits ?? 0), creditsOutstanding: String(users?.outstanding ?? 0) },
    ledger: ledger.map((row) => ({ kind: row.kind, entries: Number(row.entries), credits: String(row.credits) })),
    creditsGranted: granted.toString(),
    purchasesBySource: { webhook: purchasesFrom('webhook'), reconcile: purchasesFrom('reconcile') },
    creditsSpent: spent.toString(),
    reservations: {
      reserved: reservationFigure('reserved'),
      captured: reservationFigure('captured'),
      released: reservationFigure('released'),
      expired: reservationFigure('expired'),
      heldNow: reservationFigure('held'),
    },
    reversals: {
      reversed: { refund: String(reversals?.refund ?? 0), dispute: String(reversals?.dispute ?? 0) },
      restored: String(reversals?.restored ?? 0),
      shortfall: String(reversals?.shortfall ?? 0),
      shortfallRows: Number(reversals?.shortfall_rows ?? 0),
      waitingForPurchase: Number(reversals?.waiting ?? 0),
    },
  };
}

export function formatStats(stats: Stats): string {
  const statuses = Object.keys(stats.events.byStatus).sort();
  const types = [...new Set(stats.events.byTypeAndStatus.map((row) => row.eventType))];
  const countOf = (type: string, status: string) =>
    String(stats.events.byTypeAndStatus.find((row) => row.eventType === type && row.status === status)?.count ?? 0);
  const sections = [
    `Events (${stats.events.total} stored)`,
    stats.events.total === 0
      ? '  none'
      : table([
          ['  type', ...statuses],
          ...types.map((type) => [`  ${type}`, ...statuses.map((status) => countOf(type, status))]),
          ['  all types', ...statuses.map((status) => String(stats.events.byStatus[status]))],
        ]),
    '',
    `Most recent failures (${stats.recentFailures.length})`,
    stats.recentFailures.length === 0
      ? '  none'
      : table([
          ['  event', 'type', 'attempts', 'last try', 'reason'],
          ...stats.recentFailures.map((f) => [`  ${f.eventId}`, f.eventType, String(f.attempts), f.processedAt ?? f.receivedAt, f.errorMessage ?? '']),
        ]),
    '',
    'Users',
    table([
      ['  users', 'with credits', 'credits outstanding'],
      [`  ${stats.users.total}`, String(stats.users.withCredits), stats.users.creditsOutstanding],
    ]),
    '',
    `Ledger since ${stats.window.since} (credits granted: ${stats.creditsGranted}, spent: ${stats.creditsSpent})`,
    stats.ledger.length === 0
      ? '  no entries'
      : table([['  kind', 'entries', 'credits'], ...stats.ledger.map((row) => [`  ${row.kind}`, String(row.entries), row.credits])]),
    `  purchases: ${stats.purchasesBySource.webhook} delivered by webhook, ${stats.purchasesBySource.reconcile} recovered by reconcile`,
    '',
    `Reservations since ${stats.window.since} (held now: ${stats.reservations.heldNow.credits} credits in ${stats.reservations.heldNow.count})`,
    table([
      ['  reserved', 'captured', 'released', 'expired'],
      [
        `  ${stats.reservations.reserved.count} (${stats.reservations.reserved.credits})`,
        ...(['captured', 'released', 'expired'] as const).map((name) => `${stats.reservations[name].count} (${stats.reservations[name].credits})`),
      ],
    ]),
    '',
    `Refunds and disputes since ${stats.window.since} (waiting for their purchase now: ${stats.reversals.waitingForPurchase})`,
    table([
      ['  taken back by refunds', 'by disputes', 'given back (won)', 'shortfall'],
      [
        `  ${stats.reversals.reversed.refund}`,
        stats.reversals.reversed.dispute,
        stats.reversals.restored,
        `${stats.reversals.shortfall} in ${stats.reversals.shortfallRows} row(s)`,
      ],
    ]),
    ...(stats.reversals.shortfallRows > 0
      ? ['  shortfall: credits already spent or held when the refund or dispute came; the warning log names each user']
      : []),
  ];
  return sections.join('\n');
}
