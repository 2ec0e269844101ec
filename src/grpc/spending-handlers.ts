import type { CaptureReservationRequest__Output } from '../contract/generated/credits/v1/CaptureReservationRequest.js';
import type { CaptureReservationResponse } from '../contract/generated/credits/v1/CaptureReservationResponse.js';
import type { CreditsServiceHandlers } from '../contract/generated/credits/v1/CreditsService.js';
import type { ListTransactionsRequest__Output } from '../contract/generated/credits/v1/ListTransactionsRequest.js';
import type { ListTransactionsResponse } from '../contract/generated/credits/v1/ListTransactionsResponse.js';
import type { ReleaseReservationRequest__Output } from '../contract/generated/credits/v1/ReleaseReservationRequest.js';
import type { ReleaseReservationResponse } from '../contract/generated/credits/v1/ReleaseReservationResponse.js';
import type { Reservation } from '../contract/generated/credits/v1/Reservation.js';
import type { ReservationStatus } from '../contract/generated/credits/v1/ReservationStatus.js';
import type { ReserveCreditsRequest__Output } from '../contract/generated/credits/v1/ReserveCreditsRequest.js';
import type { ReserveCreditsResponse } from '../contract/generated/credits/v1/ReserveCreditsResponse.js';
import type { SpendCreditsRequest__Output } from '../contract/generated/credits/v1/SpendCreditsRequest.js';
import type { SpendCreditsResponse } from '../contract/generated/credits/v1/SpendCreditsResponse.js';
import type { Transaction } from '../contract/generated/credits/v1/Transaction.js';
import type { TransactionKind } from '../contract/generated/credits/v1/TransactionKind.js';
import type { Timestamp } from '../contract/generated/google/protobuf/Timestamp.js';
import type { CreditsStore, LedgerKind, LedgerRecord, ReservationRecord, ReservationStatus as DomainReservationStatus } from '../credits/ports.js';
import { captureReservation, releaseReservation, reserveCredits } from '../credits/reservations.js';
import type { SpendingEvent } from '../credits/spending-events.js';
import { spendCredits } from '../credits/spending.js';
import { listTransactions, referenceOf } from '../credits/transactions.js';
import { unary, type UnaryOptions } from './unary.js';

const TRANSACTION_KINDS: Record<LedgerKind, TransactionKind> = {
  purchase: 'TRANSACTION_KIND_PURCHASE',
  spend: 'TRANSACTION_KIND_SPEND',
  capture: 'TRANSACTION_KIND_CAPTURE',
  grant: 'TRANSACTION_KIND_GRANT',
  revoke: 'TRANSACTION_KIND_REVOKE',
  refund: 'TRANSACTION_KIND_REFUND',
  dispute: 'TRANSACTION_KIND_DISPUTE',
  dispute_won: 'TRANSACTION_KIND_DISPUTE_WON',
};

const RESERVATION_STATUSES: Record<DomainReservationStatus, ReservationStatus> = {
  held: 'RESERVATION_STATUS_HELD',
  captured: 'RESERVATION_STATUS_CAPTURED',
  released: 'RESERVATION_STATUS_RELEASED',
  expired: 'RESERVATION_STATUS_EXPIRED',
};

export function toTimestamp(date: Date): Timestamp {
  const ms = date.getTime();
  const seconds = Math.floor(ms / 1000);
  return { seconds: String(seconds), nanos: (ms - seconds * 1000) * 1_000_000 };
}

export function toTransaction(row: LedgerRecord): Transaction {
  return {
    id: row.id,
    user_id: row.userUuid,
    kind: TRANSACTION_KINDS[row.kind],
    amount: row.amount,
    balance_after: row.balanceAfter ?? '0',
    create_time: toTimestamp(row.createdAt),
    description: row.description ?? '',
    reference: referenceOf(row),
    metadata: row.metadata,
    created_by: row.createdBy ?? '',
    shortfall: row.shortfall,
  };
}

export function toReservation(reservation: ReservationRecord): Reservation {
  return {
    id: reservation.id,
    user_id: reservation.userUuid,
    amount: reservation.amount,
    status: RESERVATION_STATUSES[reservation.status],
    expire_time: toTimestamp(reservation.expireTime),
    captured_amount: reservation.capturedAmount ?? '0',
    description: reservation.description ?? '',
    metadata: reservation.metadata,
  };
}

export interface SpendingHandlerDeps {
  store: CreditsStore;
  call: Omit<UnaryOptions, 'method'>;
  /** Told what each call changed, after it committed (metrics count credits spent, held, captured, released). */
  onSpending?: (event: SpendingEvent) => void;
}

type SpendingHandlers = Pick<CreditsServiceHandlers, 'SpendCredits' | 'ReserveCredits' | 'CaptureReservation' | 'ReleaseReservation' | 'ListTransactions'>;

/** SpendCredits, the reservation calls and ListTransactions: wire ↔ domain; the rules are the domain's. */
export function spendingHandlers({ store, call, onSpending }: SpendingHandlerDeps): SpendingHandlers {
  return {
    SpendCredits: unary<SpendCreditsRequest__Output, SpendCreditsResponse>({ ...call, method: 'SpendCredits' }, async (request, { summary, caller }) => {
      const result = await spendCredits(store, {
        caller: caller.name,
        identifier: request.identifier,
        amount: request.amount,
        idempotencyKey: request.idempotency_key,
        description: request.description,
        metadata: request.metadata,
      });
      Object.assign(summary, { credits: -Number(result.transaction.amount), replayed: result.replayed });
      if (!result.replayed) onSpending?.({ kind: 'spent', credits: -Number(result.transaction.amount) });
      return { transaction: toTransaction(result.transaction), balance_after: result.balanceAfter, replayed: result.replayed };
    }),
    ReserveCredits: unary<ReserveCreditsRequest__Output, ReserveCreditsResponse>({ ...call, method: 'ReserveCredits' }, async (request, { summary }) => {
      const result = await reserveCredits(store, {
        identifier: request.identifier,
        amount: request.amount,
        idempotencyKey: request.idempotency_key,
        description: request.description,
        ttlSeconds: request.ttl_seconds,
        metadata: request.metadata,
      });
      Object.assign(summary, { credits: Number(result.reservation.amount), replayed: result.replayed });
      if (!result.replayed) onSpending?.({ kind: 'reserved', credits: Number(result.reservation.amount) });
      return { reservation: toReservation(result.reservation), available_after: result.availableAfter, replayed: result.replayed };
    }),
    CaptureReservation: unary<CaptureReservationRequest__Output, CaptureReservationResponse>(
      { ...call, method: 'CaptureReservation' },
      async (request, { summary, caller }) => {
        const result = await captureReservation(store, { reservationId: request.reservation_id, amount: request.amount, caller: caller.name });
        Object.assign(summary, { credits: -Number(result.transaction.amount), replayed: result.replayed });
        if (!result.replayed) onSpending?.({ kind: 'captured', credits: -Number(result.transaction.amount), released: Number(result.released) });
        return { transaction: toTransaction(result.transaction), balance_after: result.balanceAfter, replayed: result.replayed };
      },
    ),
    ReleaseReservation: unary<ReleaseReservationRequest__Output, ReleaseReservationResponse>(
      { ...call, method: 'ReleaseReservation' },
      async (request, { summary }) => {
        const result = await releaseReservation(store, { reservationId: request.reservation_id });
        Object.assign(summary, { credits: Number(result.reservation.amount), status: result.reservation.status, replayed: result.replayed });
        if (!result.replayed) onSpending?.({ kind: 'released', credits: Number(result.reservation.amount) });
        return { reservation: toReservation(result.reservation), available_after: result.availableAfter, replayed: result.replayed };
      },
    ),
    ListTransactions: unary<ListTransactionsRequest__Output, ListTransactionsResponse>({ ...call, method: 'ListTransactions' }, async (request, { summary }) => {
      const page = await listTransactions(store, { identifier: request.identifier, pageSize: request.page_size, pageToken: request.page_token });
      Object.assign(summary, { rows: page.transactions.length, more: page.nextPageToken !== '' });
      return { transactions: page.transactions.map(toTransaction), next_page_token: page.nextPageToken };
    }),
  };
}
