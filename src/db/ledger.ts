import type { Ledger, LedgerKind, LedgerRecord, Metadata } from '../credits/ports.js';
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
  };
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
             (user_id, amount, kind, checkout_session_id, stripe_event_id, reason, created_by, idempotency_key, reservation_id, description, metadata, balance_after)
           SELECT current.id, ?::bigint, ?, ?, ?, ?, ?, ?, ?::uuid, ?, ?::jsonb, current.credits_balance + ?::bigint FROM current
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
  };
}
