import type { Ledger } from '../credits/ports.js';
import type { EntityManager } from './orm.js';
import { sql } from './sql.js';
import { QUALIFIED_USER_COLUMNS, toUserRecord, type UserRow } from './user-repository.js';

/**
 * The one ledger writer. One statement: the balance moves only if this statement inserted the
 * ledger row, so a unique reference already in the ledger (a Checkout Session credited before)
 * moves nothing, even between concurrent transactions.
 */
export function ledger(em: EntityManager): Ledger {
  return {
    async post(entry) {
      const [row] = await sql<(UserRow & { entry_id: string })[]>(
        em,
        `WITH entry AS (
           INSERT INTO credit_transactions (user_id, amount, kind, checkout_session_id, stripe_event_id, reason, created_by)
           VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id, user_id, amount
         )
         UPDATE users SET credits_balance = users.credits_balance + entry.amount, updated_at = now()
         FROM entry WHERE users.id = entry.user_id
         RETURNING ${QUALIFIED_USER_COLUMNS}, entry.id AS entry_id`,
        [entry.userId, entry.amount, entry.kind, entry.checkoutSessionId ?? null, entry.stripeEventId ?? null, entry.reason ?? null, entry.createdBy ?? null],
      );
      return row && { entryId: String(row.entry_id), user: toUserRecord(row) };
    },
  };
}
