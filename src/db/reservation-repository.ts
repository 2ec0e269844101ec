import type { ReservationRecord, ReservationRepository, ReservationStatus } from '../credits/ports.js';
import { toMetadata } from './ledger.js';
import type { EntityManager } from './orm.js';
import { sql } from './sql.js';

interface ReservationRow {
  id: string;
  user_id: string;
  user_uuid: string;
  amount: string;
  status: ReservationStatus;
  stored_status: ReservationStatus;
  idempotency_key: string;
  description: string | null;
  metadata: unknown;
  expire_time: Date;
  created_at: Date;
  settled_at: Date | null;
  captured_amount: string | null;
}

/*
 * Time is the statement's, not the transaction's start: the domain decides after it has locked the
 * user's row, so two decisions about one user are ordered like their locks, and the later one sees
 * the later time (a spend that saw a reservation expired is never followed by a capture that sees it held).
 */
const LIVE = `r.status = 'held' AND r.expire_time > statement_timestamp()`;

/** Columns of `credit_reservations r` joined with `users u`; the status as it is now. */
const COLUMNS = `r.id, r.user_id, u.uuid AS user_uuid, r.amount,
  CASE WHEN r.status = 'held' AND r.expire_time <= statement_timestamp() THEN 'expired' ELSE r.status END AS status,
  r.status AS stored_status, r.idempotency_key, r.description, r.metadata, r.expire_time, r.created_at, r.settled_at, r.captured_amount`;
const SELECT_ROWS = `SELECT ${COLUMNS} FROM credit_reservations r JOIN users u ON u.id = r.user_id`;

function toRecord(row: ReservationRow): ReservationRecord {
  return {
    id: row.id,
    userId: String(row.user_id),
    userUuid: row.user_uuid,
    amount: String(row.amount),
    status: row.status,
    storedStatus: row.stored_status,
    idempotencyKey: row.idempotency_key,
    description: row.description,
    metadata: toMetadata(row.metadata),
    expireTime: new Date(row.expire_time),
    createdAt: new Date(row.created_at),
    settledAt: row.settled_at === null ? null : new Date(row.settled_at),
    capturedAmount: row.captured_amount === null ? null : String(row.captured_amount),
  };
}

/** Reservations on PostgreSQL: a held reservation stops counting at its expire_time, with no job needed. */
export function reservationRepository(em: EntityManager): ReservationRepository {
  const one = async (text: string, params: unknown[]) => {
    const [row] = await sql<ReservationRow[]>(em, text, params);
    return row && toRecord(row);
  };
  return {
    async heldFor(userId) {
      const [row] = await sql<{ held: string }[]>(em, `SELECT coalesce(sum(r.amount), 0) AS held FROM credit_reservations r WHERE r.user_id = ? AND ${LIVE}`, [
        userId,
      ]);
      return BigInt(row?.held ?? 0);
    },
    create: (reservation) =>
      one(
        `WITH r AS (
           INSERT INTO credit_reservations (user_id, amount, idempotency_key, description, metadata, expire_time)
           VALUES (?, ?, ?, ?, ?::jsonb, statement_timestamp() + make_interval(secs => ?))
           ON CONFLICT (idempotency_key) DO NOTHING RETURNING *
         ) SELECT ${COLUMNS} FROM r JOIN users u ON u.id = r.user_id`,
        [
          reservation.userId,
          reservation.amount,
          reservation.idempotencyKey,
          reservation.description ?? null,
          JSON.stringify(reservation.metadata ?? {}),
          reservation.ttlSeconds,
        ],
      ),
    findByIdempotencyKey: (key) => one(`${SELECT_ROWS} WHERE r.idempotency_key = ?`, [key]),
    find: (id) => one(`${SELECT_ROWS} WHERE r.id = ?`, [id]),
    lock: (id) => one(`${SELECT_ROWS} WHERE r.id = ? FOR UPDATE OF r`, [id]),
    async settle(id, status, capturedAmount) {
      const settled = await one(
        `WITH r AS (
           UPDATE credit_reservations SET status = ?, captured_amount = ?,
             settled_at = CASE WHEN ? = 'expired' THEN expire_time ELSE statement_timestamp() END
           WHERE id = ? AND status = 'held' RETURNING *
         ) SELECT ${COLUMNS} FROM r JOIN users u ON u.id = r.user_id`,
        [status, capturedAmount ?? null, status, id],
      );
      if (!settled) throw new Error(`reservation ${id} is not held: lock it and read its status before settling it`);
      return settled;
    },
    async expireDue(userId) {
      const rows = await sql<{ id: string }[]>(
        em,
        `UPDATE credit_reservations SET status = 'expired', settled_at = expire_time
         WHERE user_id = ? AND status = 'held' AND expire_time <= statement_timestamp() RETURNING id`,
        [userId],
      );
      return rows.length;
    },
  };
}

/** For metrics at scrape time: credits held by live reservations now, and credits of reservations that ever expired unused. */
export async function reservationTotals(em: EntityManager): Promise<{ heldCredits: number; expiredCredits: number }> {
  const [row] = await sql<{ held: string; expired: string }[]>(
    em,
    `SELECT coalesce(sum(r.amount) FILTER (WHERE ${LIVE}), 0) AS held,
            coalesce(sum(r.amount) FILTER (WHERE r.status = 'expired' OR (r.status = 'held' AND r.expire_time <= statement_timestamp())), 0) AS expired
     FROM credit_reservations r WHERE r.status IN ('held', 'expired')`,
  );
  return { heldCredits: Number(row?.held ?? 0), expiredCredits: Number(row?.expired ?? 0) };
}
