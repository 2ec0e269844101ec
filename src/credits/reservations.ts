import { CreditsError } from './errors.js';
import type { CreditsStore, LedgerRecord, ReservationRecord, UnitOfWork, UserRecord } from './ports.js';
import { retryConflicts } from './retry.js';
import {
  parseAmount,
  parseCaptureAmount,
  parseDescription,
  parseIdempotencyKey,
  parseMetadata,
  parseReservationId,
  parseTtlSeconds,
  type WireInteger,
} from './spending-input.js';
import { idempotencyKeyReused, insufficientCredits } from './spending.js';
import { resolveUserForUpdate } from './users.js';

export interface ReserveRequest {
  identifier: string;
  amount: WireInteger;
  idempotencyKey: string;
  description?: string;
  /** 0 means 900 seconds. */
  ttlSeconds?: number;
  metadata?: Readonly<Record<string, string>>;
}

export interface ReservationResult {
  /** The reservation in its state now. */
  reservation: ReservationRecord;
  /** The user's available credits now (balance − held). */
  availableAfter: string;
  /** True when nothing was changed: the key had reserved already, or the reservation was settled already. */
  replayed: boolean;
}

export interface CaptureRequest {
  reservationId: string;
  /** 0 captures the whole reservation. */
  amount?: WireInteger;
  /** Who captures (the API caller's name), stored on the capture row. */
  caller?: string;
}

export interface CaptureResult {
  /** The capture's ledger row (a negative amount). */
  transaction: LedgerRecord;
  /** The balance right after the capture, as first committed. */
  balanceAfter: string;
  /** The credits held but not taken, released by this capture (0 on a replay). */
  released: string;
  replayed: boolean;
}

/** A refusal decided inside the transaction, thrown after what it wrote (an expiry) committed. */
type Decided<T> = { result: T } | { refused: CreditsError };

async function decided<T>(work: Promise<Decided<T>>): Promise<T> {
  const outcome = await work;
  if ('refused' in outcome) throw outcome.refused;
  return outcome.result;
}

const notFound = () => new CreditsError('RESERVATION_NOT_FOUND', 'no reservation has that reservation_id');

async function availableNow(uow: UnitOfWork, userId: string, balance: bigint): Promise<string> {
  const held = await uow.reservations.heldFor(userId);
  return (balance - held).toString();
}

/**
 * Finds the reservation, then locks its user before the reservation itself: the same order as
 * ReserveCredits and SpendCredits (user first), so these never deadlock each other.
 */
async function lockReservation(uow: UnitOfWork, id: string): Promise<{ reservation: ReservationRecord; balance: bigint }> {
  const found = await uow.reservations.find(id);
  if (!found) throw notFound();
  const balance = await uow.users.lockBalance(found.userId);
  const reservation = await uow.reservations.lock(id);
  if (!reservation) throw notFound();
  return { reservation, balance };
}

function sameReservation(earlier: ReservationRecord, user: UserRecord, amount: number): void {
  if (earlier.userId !== user.id || earlier.amount !== String(amount)) throw idempotencyKeyReused('reservation');
}

/**
 * Holds credits for a job, exactly once per idempotency key (the same rules as SpendCredits): the
 * user's row is locked, held reservations past their expire_time are stored as expired, and only
 * available credits can be held.
 */
export async function reserveCredits(store: CreditsStore, request: ReserveRequest): Promise<ReservationResult> {
  const amount = parseAmount(request.amount);
  const idempotencyKey = parseIdempotencyKey(request.idempotencyKey);
  const description = parseDescription(request.description);
  const ttlSeconds = parseTtlSeconds(request.ttlSeconds ?? 0);
  const metadata = parseMetadata(request.metadata);
  return retryConflicts(() =>
    store.transaction(async (uow) => {
      const user = await resolveUserForUpdate(uow.users, request.identifier);
      const balance = BigInt(user.creditsBalance);
      const earlier = await uow.reservations.findByIdempotencyKey(idempotencyKey);
      if (earlier) {
        sameReservation(earlier, user, amount);
        return { reservation: earlier, availableAfter: await availableNow(uow, user.id, balance), replayed: true };
      }
      await uow.reservations.expireDue(user.id);
      const held = await uow.reservations.heldFor(user.id);
      if (balance - held < BigInt(amount)) throw insufficientCredits(balance, held, amount);
      const created = await uow.reservations.create({ userId: user.id, amount, idempotencyKey, ttlSeconds, description, metadata });
      if (created) return { reservation: created, availableAfter: (balance - held - BigInt(amount)).toString(), replayed: false };
      // Another user's reservation committed this key between the look-up and the insert.
      const winner = await uow.reservations.findByIdempotencyKey(idempotencyKey);
      if (!winner) throw new CreditsError('TRANSACTION_CONFLICT', 'the idempotency key changed hands while reserving; retry');
      sameReservation(winner, user, amount);
      return { reservation: winner, availableAfter: await availableNow(uow, user.id, balance), replayed: true };
    }),
  );
}

/**
 * Takes some or all of a held reservation as one capture ledger row and releases the rest. A
 * captured reservation answers with its first capture; a released or expired one is refused.
 */
export async function captureReservation(store: CreditsStore, request: CaptureRequest): Promise<CaptureResult> {
  const id = parseReservationId(request.reservationId);
  const requested = parseCaptureAmount(request.amount ?? 0);
  return retryConflicts(() =>
    decided<CaptureResult>(
      store.transaction(async (uow): Promise<Decided<CaptureResult>> => {
        const { reservation } = await lockReservation(uow, id);
        switch (reservation.status) {
          case 'captured': {
            const capture = await uow.ledger.findCapture(id);
            if (!capture) throw new Error(`reservation ${id} is captured but has no capture row`);
            return { result: { transaction: capture, balanceAfter: capture.balanceAfter ?? '0', released: '0', replayed: true } };
          }
          case 'released':
            return { refused: new CreditsError('RESERVATION_RELEASED', 'the reservation was released, so it cannot be captured; nothing was taken') };
          case 'expired':
            if (reservation.storedStatus === 'held') await uow.reservations.settle(id, 'expired');
            return {
              refused: new CreditsError(
                'RESERVATION_EXPIRED',
                `the reservation expired at ${reservation.expireTime.toISOString()}, so it cannot be captured; nothing was taken`,
              ),
            };
          case 'held':
            break;
        }
        const reserved = Number(reservation.amount);
        const amount = requested === 0 ? reserved : requested;
        if (amount > reserved) {
          throw new CreditsError('REQUEST_INVALID', `amount must be at most the ${reserved} credits reserved (0 captures all of them)`);
        }
        const posted = await uow.ledger.post({
          userId: reservation.userId,
          kind: 'capture',
          amount: -amount,
          reservationId: id,
          description: reservation.description ?? undefined,
          metadata: reservation.metadata,
          createdBy: request.caller,
        });
        if (!posted) throw new Error(`reservation ${id} is held but already has a capture row`);
        await uow.reservations.settle(id, 'captured', amount);
        return { result: { transaction: posted.entry, balanceAfter: posted.user.creditsBalance, released: String(reserved - amount), replayed: false } };
      }),
    ),
  );
}

/**
 * Gives a held reservation's credits back. Releasing it again, or releasing one that expired,
 * changes nothing and answers with the reservation as it is; a captured one is refused.
 */
export async function releaseReservation(store: CreditsStore, request: { reservationId: string }): Promise<ReservationResult> {
  const id = parseReservationId(request.reservationId);
  return retryConflicts(() =>
    decided<ReservationResult>(
      store.transaction(async (uow): Promise<Decided<ReservationResult>> => {
        const { reservation, balance } = await lockReservation(uow, id);
        switch (reservation.status) {
          case 'captured':
            return { refused: new CreditsError('RESERVATION_CAPTURED', 'the reservation was captured, so it cannot be released') };
          case 'held': {
            const released = await uow.reservations.settle(id, 'released');
            return { result: { reservation: released, availableAfter: await availableNow(uow, reservation.userId, balance), replayed: false } };
          }
          case 'expired': {
            const expired = reservation.storedStatus === 'held' ? await uow.reservations.settle(id, 'expired') : reservation;
            return { result: { reservation: expired, availableAfter: await availableNow(uow, reservation.userId, balance), replayed: true } };
          }
          case 'released':
            return { result: { reservation, availableAfter: await availableNow(uow, reservation.userId, balance), replayed: true } };
        }
      }),
    ),
  );
}
