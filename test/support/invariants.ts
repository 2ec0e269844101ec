import { normalizeEmail } from '../../src/credits/identifiers';
import pg from 'pg';
import { initORM, type MikroORM } from '../../src/db/orm';
import type { Logger } from '../../src/logger';
import { verifyDatabase, type VerifyReport } from '../../src/ops/verify';

/** A purchase the test means to happen: this Checkout Session should credit this email this much. */
export interface Purchase {
  sessionId: string;
  email: string;
  credits: number;
}

export interface Answer {
  /** HTTP status; 0 when no answer came (connection cut, client timeout). */
  status: number;
  outcome?: string;
}

interface SentEvent {
  sessionId?: string;
  /** A paid completed/async_payment_succeeded event of an intended purchase. */
  creditable: boolean;
  answers: Answer[];
}

/** What the edge was sent and what it answered: the test's side of the invariants. */
export class DeliveryRecord {
  readonly purchases = new Map<string, Purchase>();
  readonly events = new Map<string, SentEvent>();

  expectPurchase(purchase: Purchase): void {
    this.purchases.set(purchase.sessionId, purchase);
  }

  sent(eventId: string, about: { sessionId?: string; creditable: boolean }): void {
    if (!this.events.has(eventId)) this.events.set(eventId, { ...about, answers: [] });
  }

  answered(eventId: string, answer: Answer): void {
    const event = this.events.get(eventId);
    if (!event) throw new Error(`answer for an event never recorded as sent: ${eventId}`);
    event.answers.push(answer);
  }

  /** Events that have had no 2xx yet: what Stripe would still retry. */
  unacknowledged(): string[] {
    return [...this.events].filter(([, event]) => !event.answers.some(is2xx)).map(([id]) => id);
  }

  /** How many answers had each status, e.g. { 200: 1990, 503: 10 }. */
  statusCounts(): Record<number, number> {
    const counts: Record<number, number> = {};
    for (const event of this.events.values()) for (const { status } of event.answers) counts[status] = (counts[status] ?? 0) + 1;
    return counts;
  }
}

const is2xx = (answer: Answer) => answer.status >= 200 && answer.status < 300;

/** The test's own view of the database: the product's ORM setup (for verifyDatabase) and a plain pg pool. */
export interface DatabaseProbe {
  orm: MikroORM;
  sql: pg.Pool;
  close(): Promise<void>;
}

export async function openDatabaseProbe(url: string, logger: Logger): Promise<DatabaseProbe> {
  const orm = await initORM({ url, poolMax: 2, echo: false, logger });
  const sql = new pg.Pool({ connectionString: url, max: 2 });
  sql.on('error', () => {}); // idle connections cut by an outage; the next query reconnects
  return {
    orm,
    sql,
    close: async () => {
      await sql.end();
      await orm.close();
    },
  };
}

export interface InvariantResult {
  problems: string[];
  report: VerifyReport;
  counts: { eventsAcknowledged: number; purchasesCredited: number };
}

// A 2xx promises that this is committed: the stored status each answered outcome allows.
const STATUSES_FOR_OUTCOME: Record<string, readonly string[]> = {
  applied: ['completed'],
  duplicate: ['completed', 'ignored', 'failed', 'pending'],
  payment_pending: ['pending', 'completed', 'failed'],
  payment_failed: ['completed'],
  ignored: ['ignored'],
  rejected: ['failed', 'completed'],
};

/**
 * The invariants of issue 4, checked after every scenario: verifyDatabase (balances equal their
 * ledger and are ≥ 0, no session credited twice, no applied event without its ledger row,
 * nothing in processing), then the edge's promises: every 2xx is a committed outcome, each
 * intended purchase is credited at most once, and exactly once (right user, right amount) when
 * one of its paid events was answered 2xx, and no session is credited that nobody meant.
 */
export async function checkInvariants(probe: DatabaseProbe, record: DeliveryRecord): Promise<InvariantResult> {
  const problems: string[] = [];
  // After the load has stopped, any visible 'processing' row is stuck: committed rows never say processing.
  const report = await verifyDatabase(probe.orm, { stuckAfterSeconds: 0 });
  for (const check of report.checks) {
    if (check.status === 'problem') problems.push(`verify ${check.id}: ${check.problems.join('; ')}`);
  }

  const acknowledged = [...record.events].filter(([, event]) => event.answers.some(is2xx));
  const ids = acknowledged.map(([id]) => id);
  const { rows: eventRows } = await probe.sql.query<{ event_id: string; status: string }>(
    'SELECT event_id, status FROM stripe_events WHERE event_id = ANY($1::text[])',
    [ids],
  );
  const { rows: ledgerByEvent } = await probe.sql.query<{ stripe_event_id: string }>(
    "SELECT stripe_event_id FROM credit_transactions WHERE kind = 'purchase' AND stripe_event_id = ANY($1::text[])",
    [ids],
  );
  const statusOf = new Map(eventRows.map((row) => [row.event_id, row.status]));
  const withLedger = new Set(ledgerByEvent.map((row) => row.stripe_event_id));
  for (const [id, event] of acknowledged) {
    const status = statusOf.get(id);
    if (status === undefined) {
      problems.push(`event ${id} was answered 2xx but has no row`);
      continue;
    }
    for (const answer of event.answers.filter(is2xx)) {
      const allowed = STATUSES_FOR_OUTCOME[answer.outcome ?? ''];
      if (!allowed) problems.push(`event ${id} was answered ${answer.status} with an unknown outcome ${answer.outcome}`);
      else if (!allowed.includes(status)) problems.push(`event ${id} was answered ${answer.outcome} but is stored as ${status}`);
      if (answer.outcome === 'applied' && !withLedger.has(id)) problems.push(`event ${id} was answered applied but has no ledger row`);
    }
  }

  const { rows: credited } = await probe.sql.query<{ checkout_session_id: string; amount: string; email: string | null }>(
    `SELECT t.checkout_session_id, t.amount, u.email FROM credit_transactions t JOIN users u ON u.id = t.user_id
     WHERE t.kind = 'purchase'`,
  );
  const creditsOf = new Map<string, { amount: number; email: string | null }[]>();
  for (const row of credited) {
    const list = creditsOf.get(row.checkout_session_id) ?? [];
    list.push({ amount: Number(row.amount), email: row.email });
    creditsOf.set(row.checkout_session_id, list);
    if (!record.purchases.has(row.checkout_session_id)) problems.push(`session ${row.checkout_session_id} was credited but no test meant it`);
  }
  const mustBeCredited = new Set<string>();
  for (const event of record.events.values()) {
    if (event.creditable && event.sessionId && event.answers.some(is2xx)) mustBeCredited.add(event.sessionId);
  }
  for (const purchase of record.purchases.values()) {
    const rows = creditsOf.get(purchase.sessionId) ?? [];
    if (rows.length > 1) problems.push(`session ${purchase.sessionId} was credited ${rows.length} times`);
    if (rows.length === 0 && mustBeCredited.has(purchase.sessionId)) {
      problems.push(`session ${purchase.sessionId} was answered 2xx for a paid event but never credited`);
    }
    for (const row of rows) {
      if (row.amount !== purchase.credits) problems.push(`session ${purchase.sessionId} credited ${row.amount}, expected ${purchase.credits}`);
      // The service's own email identity (NFKC, lower case): the stored spelling may be the NFC form of the one sent.
      if (row.email === null || normalizeEmail(row.email) !== normalizeEmail(purchase.email)) problems.push(`session ${purchase.sessionId} credited the wrong user`);
    }
  }
  return {
    problems,
    report,
    counts: { eventsAcknowledged: acknowledged.length, purchasesCredited: [...record.purchases.keys()].filter((id) => creditsOf.has(id)).length },
  };
}

/** Throws with every problem listed; the one call each scenario ends with. */
export async function assertInvariants(probe: DatabaseProbe, record: DeliveryRecord): Promise<InvariantResult> {
  const result = await checkInvariants(probe, record);
  if (result.problems.length > 0) {
    const shown = result.problems.slice(0, 30);
    throw new Error(`${result.problems.length} invariant problem(s):\n  ${shown.join('\n  ')}${result.problems.length > 30 ? '\n  …' : ''}`);
  }
  return result;
}
