import type pg from 'pg';
import type { WebhookBook } from './webhook-events';

export interface MoneyCheck {
  ok: boolean;
  /** Distinct events (= Checkout Sessions) answered 2xx. */
  answeredSessions: number;
  ledgerRows: number;
  users: number;
  creditsExpected: number;
  creditsInLedger: number;
  problems: string[];
}

interface LedgerRow {
  checkout_session_id: string;
  amount: string;
  email: string;
}

/**
 * Every session answered 2xx is credited exactly once, to its buyer, with its pack's credits;
 * nothing else is credited; every balance equals its ledger; every answered event is completed.
 */
export async function checkMoney(client: pg.Client, book: WebhookBook): Promise<MoneyCheck> {
  const problems: string[] = [];
  const report = (problem: string) => {
    if (problems.length < 20) problems.push(problem);
  };
  const bySession = new Map<string, { credits: number; email: string }>();
  const expectedByEmail = new Map<string, number>();
  let creditsExpected = 0;
  for (const event of book.values()) {
    if (!event.answered) continue;
    bySession.set(event.sessionId, { credits: event.credits, email: event.email });
    expectedByEmail.set(event.email, (expectedByEmail.get(event.email) ?? 0) + event.credits);
    creditsExpected += event.credits;
  }
  const sent = new Set([...book.values()].map((event) => event.sessionId));

  const ledger = await client.query<LedgerRow>(
    `SELECT t.checkout_session_id, t.amount::text AS amount, u.email
       FROM credit_transactions t JOIN users u ON u.id = t.user_id WHERE t.kind = 'purchase'`,
  );
  let creditsInLedger = 0;
  const credited = new Set<string>();
  for (const row of ledger.rows) {
    creditsInLedger += Number(row.amount);
    if (credited.has(row.checkout_session_id)) report(`session ${row.checkout_session_id} credited twice`);
    credited.add(row.checkout_session_id);
    const expected = bySession.get(row.checkout_session_id);
    if (!expected) {
      report(sent.has(row.checkout_session_id) ? `session ${row.checkout_session_id} credited but never answered 2xx` : `unknown session ${row.checkout_session_id} credited`);
      continue;
    }
    if (Number(row.amount) !== expected.credits) report(`session ${row.checkout_session_id}: ${row.amount} credited, ${expected.credits} bought`);
    if (row.email !== expected.email) report(`session ${row.checkout_session_id} credited to another user`);
  }
  for (const session of bySession.keys()) if (!credited.has(session)) report(`session ${session} answered 2xx but not credited`);

  const balances = await client.query<{ email: string; balance: string; ledger: string }>(
    `SELECT u.email, u.credits_balance::text AS balance, COALESCE(SUM(t.amount), 0)::text AS ledger
       FROM users u LEFT JOIN credit_transactions t ON t.user_id = u.id GROUP BY u.id`,
  );
  for (const row of balances.rows) {
    if (row.balance !== row.ledger) report(`a user's balance ${row.balance} differs from its ledger sum ${row.ledger}`);
    const expected = expectedByEmail.get(row.email) ?? 0;
    if (Number(row.balance) !== expected) report(`a user's balance is ${row.balance}, purchases answered 2xx add up to ${expected}`);
  }
  if (balances.rowCount !== expectedByEmail.size) report(`${balances.rowCount} users, ${expectedByEmail.size} distinct buyers answered`);

  const events = await client.query<{ status: string; count: string }>('SELECT status, count(*)::text AS count FROM stripe_events GROUP BY status');
  const completed = Number(events.rows.find((row) => row.status === 'completed')?.count ?? 0);
  const other = events.rows.filter((row) => row.status !== 'completed');
  if (completed !== bySession.size) report(`${completed} events completed, ${bySession.size} answered 2xx`);
  if (other.length) report(`events not completed: ${other.map((row) => `${row.status}=${row.count}`).join(', ')}`);

  return {
    ok: problems.length === 0,
    answeredSessions: bySession.size,
    ledgerRows: ledger.rowCount ?? 0,
    users: balances.rowCount ?? 0,
    creditsExpected,
    creditsInLedger,
    problems,
  };
}
