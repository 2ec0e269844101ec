import type { Ledger, LedgerKind, LedgerRecord, Metadata, ReversalKind } from '../credits/ports.js';
import { PAYMENT_INTENT_LOCK_CLASS } from './advisory-lock.js';
import type { EntityManager } from './orm.js';
import { sql } from './sql.js';
import { QUALIFIED_USER_COLUMNS, toUserRecord, type UserRow } from './user-repository.js';

interface LedgerRow {
  id: string;
  user_id: string;
  user_uuid: string;
  amount: string;
  kind: LedgerKind;
  balance_after: string | null;
  created_at: Date;
  checkout_session_id: string | null;
  reason: string | null;
  created_by: string | null;
  idempotency_key: string | null;
  reservation_id: string | null;
  description: string | null;
  metadata: unknown;
  stripe_charge_id: string | null;
  stripe_dispute_id: string | null;
  shortfall: string;
}

const ENTRY_COLUMNS = [
  'id',
  'user_id',
  'amount',
  'kind',
  'balance_after',
  'created_at',
  'checkout_session_id',
  'reason',
  'created_by',
  'idempotency_key',
  'reservation_id',
  'description',
  'metadata',
  'stripe_charge_id',
  'stripe_dispute_id',
  'shortfall',
];
/** A ledger row with its user's UUID, for statements that join `credit_transactions t` with `users u`. */
const SELECT_ROWS = `SELECT ${ENTRY_COLUMNS.map((column) => `t.${column}`).join(', ')}, u.uuid AS user_uuid
  FROM credit_transactions t JOIN users u ON u.id = t.user_id`;

/** jsonb written by this service holds strings only; anything else (a row written by hand) is shown as text. */
export function toMetadata(value: unknown): Metadata {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, typeof v === 'string' ? v : JSON.stringify(v)]));
}

function toLedgerRecord(row: LedgerRow): LedgerRecord {
  return {
    id: String(row.id),
    userId: String(row.user_id),
    userUuid: row.user_uuid,
    kind: row.kind,
    amount: String(row.amount),
    balanceAfter: row.balance_after === null ? null : String(row.balance_after),
    createdAt: new Date(row.created_at),
    checkoutSessionId: row.checkout_session_id,
    reason: row.reason,
    createdBy: row.created_by,
    idempotencyKey: row.idempotency_key,
    reservationId: row.reservation_id,
    description: row.description,
    metadata: toMetadata(row.metadata),
    stripeChargeId: row.stripe_charge_id ?? null,
    stripeDisputeId: row.stripe_dispute_id ?? null,
    shortfall: String(row.shortfall ?? 0),
  };
}

/** An integer the database returned (bigint or numeric as text), or null when it is none that JS holds exactly. */
function safeInteger(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const number = Number(value);
  return Number.isSafeInteger(number) ? number : null;
}

/**
 * The one ledger writer. One statement: it locks the user's row first (so one user's ledger ids
 * grow in commit order), inserts the row with the balance after it, and moves the balance only
 * if this statement inserted the row, so a unique reference already in the ledger (a Checkout
 * Session credited before, a spend's idempotency key, a captured reservation) moves nothing,
 * even between concurrent transactions.
 */
export function ledger(em: EntityManager): Ledger {
  return {
    async post(entry) {
      const [row] = await sql<(UserRow & Record<`entry_${string}`, unknown>)[]>(
        em,
        `WITH current AS (
           SELECT id, credits_balance FROM users WHERE id = ? FOR UPDATE
         ), entry AS (
           INSERT INTO credit_transactions
             (user_id, amount, kind, checkout_session_id, stripe_event_id, reason, created_by, idempotency_key, reservation_id, description, metadata,
              payment_intent, purchase_id, stripe_charge_id, stripe_dispute_id, refunded_amount, shortfall, balance_after)
           SELECT current.id, ?::bigint, ?, ?, ?, ?, ?, ?, ?::uuid, ?, ?::jsonb, ?, ?::bigint, ?, ?, ?::bigint, ?::bigint, current.credits_balance + ?::bigint FROM current
           ON CONFLICT DO NOTHING RETURNING ${ENTRY_COLUMNS.join(', ')}
         )
         UPDATE users SET credits_balance = entry.balance_after, updated_at = now()
         FROM entry WHERE users.id = entry.user_id
         RETURNING ${QUALIFIED_USER_COLUMNS}, ${ENTRY_COLUMNS.map((column) => `entry.${column} AS entry_${column}`).join(', ')}`,
        [
          entry.userId,
          entry.amount,
          entry.kind,
          entry.checkoutSessionId ?? null,
          entry.stripeEventId ?? null,
          entry.reason ?? null,
          entry.createdBy ?? null,
          entry.idempotencyKey ?? null,
          entry.reservationId ?? null,
          entry.description ?? null,
          JSON.stringify(entry.metadata ?? {}),
          entry.paymentIntent || null,
          entry.purchaseId ?? null,
          entry.stripeChargeId || null,
          entry.stripeDisputeId || null,
          entry.refundedAmount ?? null,
          entry.shortfall ?? 0,
          entry.amount,
        ],
      );
      if (!row) return undefined;
      const user = toUserRecord(row);
      const fields = Object.fromEntries(ENTRY_COLUMNS.map((column) => [column, row[`entry_${column}`]])) as unknown as LedgerRow;
      return { entryId: String(fields.id), user, entry: toLedgerRecord({ ...fields, user_uuid: user.uuid }) };
    },
    async findByIdempotencyKey(key) {
      const [row] = await sql<LedgerRow[]>(em, `${SELECT_ROWS} WHERE t.idempotency_key = ?`, [key]);
      return row && toLedgerRecord(row);
    },
    async findCapture(reservationId) {
      const [row] = await sql<LedgerRow[]>(em, `${SELECT_ROWS} WHERE t.reservation_id = ?`, [reservationId]);
      return row && toLedgerRecord(row);
    },
    async page(userId, { beforeId, limit }) {
      const rows = await sql<LedgerRow[]>(
        em,
        `${SELECT_ROWS} WHERE t.user_id = ? ${beforeId === undefined ? '' : 'AND t.id < ?'} ORDER BY t.id DESC LIMIT ?`,
        beforeId === undefined ? [userId, limit] : [userId, beforeId, limit],
      );
      return rows.map(toLedgerRecord);
    },
    async findPurchase(paymentIntent) {
      // What the buyer paid is read from the session in the purchase's own stored event.
      const [row] = await sql<{ id: string; user_id: string; amount: string; payment_intent: string; amount_paid: string | null }[]>(
        em,
        `SELECT t.id, t.user_id, t.amount, t.payment_intent,
                CASE WHEN jsonb_typeof(e.payload->'data'->'object'->'amount_total') = 'number'
                     THEN (e.payload->'data'->'object'->>'amount_total')::numeric END AS amount_paid
         FROM credit_transactions t LEFT JOIN stripe_events e ON e.event_id = t.stripe_event_id
         WHERE t.kind = 'purchase' AND t.payment_intent = ? ORDER BY t.id LIMIT 1`,
        [paymentIntent],
      );
      if (!row) return undefined;
      return {
        id: String(row.id),
        userId: String(row.user_id),
        credits: Number(row.amount),
        paymentIntent: row.payment_intent,
        amountPaid: safeInteger(row.amount_paid),
      };
    },
    async reversalsOf(purchaseId) {
      const rows = await sql<{ kind: ReversalKind; amount: string; shortfall: string }[]>(
        em,
        `SELECT kind, amount, shortfall FROM credit_transactions WHERE purchase_id = ? ORDER BY id`,
        [purchaseId],
      );
      return rows.map((row) => ({ kind: row.kind, amount: Number(row.amount), shortfall: Number(row.shortfall) }));
    },
    async lockPaymentIntent(paymentIntent) {
      await sql(em, 'SELECT pg_advisory_xact_lock(?::int, hashtext(?))', [PAYMENT_INTENT_LOCK_CLASS, paymentIntent]);
    },
  };
}
