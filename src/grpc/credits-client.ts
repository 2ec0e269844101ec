/**
 * The typed client other services use to read balances and charge for work:
 *
 *   const credits = createCreditsServiceClient('credits.internal:50051', { token: process.env.CREDITS_API_TOKEN });
 *   const { reservation } = await credits.reserveCredits({ identifier: userId, amount: 50, idempotencyKey: `job-${jobId}` });
 *   try { await runJob(); await credits.captureReservation({ reservationId: reservation.id, amount: used }); }
 *   catch (error) { await credits.releaseReservation(reservation.id); throw error; }
 *
 * Promises instead of callbacks, int64 values as bigint, timestamps as Date, a deadline on every
 * call, retries of UNAVAILABLE (the same request again, so a spend keeps its idempotency key), and
 * failures as typed errors carrying the service's stable code (docs/grpc-api.md#error-codes).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { ERROR_CODE_METADATA_KEY } from '../contract/error-codes.js';
import type { CaptureReservationRequest } from '../contract/generated/credits/v1/CaptureReservationRequest.js';
import type { CaptureReservationResponse__Output } from '../contract/generated/credits/v1/CaptureReservationResponse.js';
import type { GetBalanceRequest } from '../contract/generated/credits/v1/GetBalanceRequest.js';
import type { GetBalanceResponse__Output } from '../contract/generated/credits/v1/GetBalanceResponse.js';
import type { ListTransactionsRequest } from '../contract/generated/credits/v1/ListTransactionsRequest.js';
import type { ListTransactionsResponse__Output } from '../contract/generated/credits/v1/ListTransactionsResponse.js';
import type { ReleaseReservationRequest } from '../contract/generated/credits/v1/ReleaseReservationRequest.js';
import type { ReleaseReservationResponse__Output } from '../contract/generated/credits/v1/ReleaseReservationResponse.js';
import type { Reservation__Output } from '../contract/generated/credits/v1/Reservation.js';
import type { ReserveCreditsRequest } from '../contract/generated/credits/v1/ReserveCreditsRequest.js';
import type { ReserveCreditsResponse__Output } from '../contract/generated/credits/v1/ReserveCreditsResponse.js';
import type { ResolveUserRequest } from '../contract/generated/credits/v1/ResolveUserRequest.js';
import type { ResolveUserResponse__Output } from '../contract/generated/credits/v1/ResolveUserResponse.js';
import type { SpendCreditsRequest } from '../contract/generated/credits/v1/SpendCreditsRequest.js';
import type { SpendCreditsResponse__Output } from '../contract/generated/credits/v1/SpendCreditsResponse.js';
import type { Transaction__Output } from '../contract/generated/credits/v1/Transaction.js';
import type { Timestamp__Output } from '../contract/generated/google/protobuf/Timestamp.js';
import { createCreditsClient, type CreditsClientTls, type CreditsServiceClient } from './client.js';

// ---- errors

/** A failed call: `code` is the stable credits error code (or the gRPC status name when the service sent none). */
export class CreditsServiceError extends Error {
  override name = 'CreditsServiceError';

  constructor(
    readonly code: string,
    readonly grpcStatus: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

/** FAILED_PRECONDITION INSUFFICIENT_CREDITS: fewer available credits than asked; nothing was taken. */
export class InsufficientCreditsError extends CreditsServiceError {
  override name = 'InsufficientCreditsError';
}

/** ALREADY_EXISTS IDEMPOTENCY_KEY_REUSED: the key was used for another user or amount; nothing was taken. */
export class IdempotencyKeyReusedError extends CreditsServiceError {
  override name = 'IdempotencyKeyReusedError';
}

/** NOT_FOUND USER_NOT_FOUND. */
export class UserNotFoundError extends CreditsServiceError {
  override name = 'UserNotFoundError';
}

/** NOT_FOUND RESERVATION_NOT_FOUND. */
export class ReservationNotFoundError extends CreditsServiceError {
  override name = 'ReservationNotFoundError';
}

/** FAILED_PRECONDITION RESERVATION_RELEASED, RESERVATION_EXPIRED or RESERVATION_CAPTURED (see `code`). */
export class ReservationNotHeldError extends CreditsServiceError {
  override name = 'ReservationNotHeldError';
}

/** INVALID_ARGUMENT: the request itself is wrong (the message names the field); retrying cannot help. */
export class InvalidCreditsRequestError extends CreditsServiceError {
  override name = 'InvalidCreditsRequestError';
}

/** UNAVAILABLE after every retry, or DEADLINE_EXCEEDED: the outcome is unknown; retry later with the same key. */
export class CreditsUnavailableError extends CreditsServiceError {
  override name = 'CreditsUnavailableError';
}

const ERROR_CLASSES: Record<string, typeof CreditsServiceError> = {
  INSUFFICIENT_CREDITS: InsufficientCreditsError,
  IDEMPOTENCY_KEY_REUSED: IdempotencyKeyReusedError,
  USER_NOT_FOUND: UserNotFoundError,
  RESERVATION_NOT_FOUND: ReservationNotFoundError,
  RESERVATION_RELEASED: ReservationNotHeldError,
  RESERVATION_EXPIRED: ReservationNotHeldError,
  RESERVATION_CAPTURED: ReservationNotHeldError,
};

export function toCreditsServiceError(error: grpc.ServiceError): CreditsServiceError {
  const sent = error.metadata?.get(ERROR_CODE_METADATA_KEY)[0];
  const code = typeof sent === 'string' ? sent : (grpc.status[error.code] ?? String(error.code));
  const message = error.details || error.message;
  const Class =
    ERROR_CLASSES[code] ??
    (error.code === grpc.status.INVALID_ARGUMENT
      ? InvalidCreditsRequestError
      : error.code === grpc.status.UNAVAILABLE || error.code === grpc.status.DEADLINE_EXCEEDED
        ? CreditsUnavailableError
        : CreditsServiceError);
  return new Class(code, error.code, message);
}

// ---- values

export type TransactionKindName = 'purchase' | 'spend' | 'capture' | 'grant' | 'revoke' | 'refund' | 'dispute' | 'dispute_won' | (string & {});
export type ReservationStatusName = 'held' | 'captured' | 'released' | 'expired' | (string & {});

export interface UserInfo {
  /** The UUID. */
  id: string;
  legacyId: string;
  email: string;
  balance: bigint;
  matchedBy: string;
}

export interface BalanceInfo {
  /** The user's UUID. */
  userId: string;
  /** Credits owned. */
  balance: bigint;
  /** Credits held by live reservations. */
  held: bigint;
  /** balance − held: what can be spent or reserved now. */
  available: bigint;
}

export interface CreditTransaction {
  id: string;
  /** The user's UUID. */
  userId: string;
  /** A kind this client does not know yet arrives as the enum name or number, as sent. */
  kind: TransactionKindName;
  /** Signed: positive added credits, negative took them. */
  amount: bigint;
  balanceAfter: bigint;
  createTime: Date;
  description: string;
  reference: string;
  metadata: Record<string, string>;
  /** Refunds and disputes: credits due that could not be taken (dispute wins: not given back, never taken). */
  shortfall: bigint;
}

export interface CreditReservation {
  id: string;
  userId: string;
  amount: bigint;
  status: ReservationStatusName;
  expireTime: Date;
  capturedAmount: bigint;
  description: string;
  metadata: Record<string, string>;
}

const fromTimestamp = (timestamp: Timestamp__Output | null): Date =>
  timestamp ? new Date(Number(timestamp.seconds) * 1000 + Math.floor(timestamp.nanos / 1e6)) : new Date(0);

/** 'TRANSACTION_KIND_SPEND' → 'spend'; a value this client's proto does not know stays as sent. */
const enumName = (prefix: string, value: string | number): string =>
  typeof value === 'string' && value.startsWith(prefix) ? value.slice(prefix.length).toLowerCase() : String(value);

function toTransaction(wire: Transaction__Output | null): CreditTransaction {
  if (!wire) throw new CreditsServiceError('INTERNAL', grpc.status.INTERNAL, 'the response carries no transaction');
  return {
    id: wire.id,
    userId: wire.user_id,
    kind: enumName('TRANSACTION_KIND_', wire.kind),
    amount: BigInt(wire.amount),
    balanceAfter: BigInt(wire.balance_after),
    createTime: fromTimestamp(wire.create_time),
    description: wire.description,
    reference: wire.reference,
    metadata: { ...wire.metadata },
    shortfall: BigInt(wire.shortfall),
  };
}

function toReservation(wire: Reservation__Output | null): CreditReservation {
  if (!wire) throw new CreditsServiceError('INTERNAL', grpc.status.INTERNAL, 'the response carries no reservation');
  return {
    id: wire.id,
    userId: wire.user_id,
    amount: BigInt(wire.amount),
    status: enumName('RESERVATION_STATUS_', wire.status),
    expireTime: fromTimestamp(wire.expire_time),
    capturedAmount: BigInt(wire.captured_amount),
    description: wire.description,
    metadata: { ...wire.metadata },
  };
}

// ---- the client

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface CreditsServiceClientOptions {
  token?: string;
  /** Budget of one call, retries included, unless the call says otherwise (default 5000 ms). */
  deadlineMs?: number;
  /** Retries of UNAVAILABLE (default 4 attempts, full-jitter backoff from 50 ms up to 1 s). */
  retry?: RetryPolicy;
  /** Told before each retry (for logs). */
  onRetry?: (info: { method: string; attempt: number; delayMs: number; error: CreditsServiceError }) => void;
  channelOptions?: grpc.ChannelOptions;
  /** TLS (and a client certificate for mutual TLS) to CreditsService: see creditsClientSecurity in ./client.ts. */
  tls?: CreditsClientTls;
}

export interface CallOptions {
  deadlineMs?: number;
}

export interface SpendInput {
  /** An email, a UUID or an integer id. */
  identifier: string;
  amount: number | bigint;
  /** One key per spend, reused for its retries: 1 to 255 printable ASCII characters. */
  idempotencyKey: string;
  description?: string;
  metadata?: Record<string, string>;
}

export interface ReserveInput extends SpendInput {
  /** 1..86400; default 900. */
  ttlSeconds?: number;
}

const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 50, maxDelayMs: 1_000 };
// A retry that cannot get at least this long before the deadline is not worth starting.
const MIN_ATTEMPT_MS = 50;
// Several replicas behind one name: spread the calls over all of them.
const ROUND_ROBIN: grpc.ChannelOptions = { 'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }) };

type Unary<Req, Res> = (
  request: Req,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response?: Res) => void,
) => grpc.ClientUnaryCall;

export interface CreditsServiceConnection {
  getBalance(identifier: string, options?: CallOptions): Promise<BalanceInfo>;
  resolveUser(identifier: string, options?: CallOptions): Promise<UserInfo>;
  spendCredits(input: SpendInput, options?: CallOptions): Promise<{ transaction: CreditTransaction; balanceAfter: bigint; replayed: boolean }>;
  reserveCredits(input: ReserveInput, options?: CallOptions): Promise<{ reservation: CreditReservation; availableAfter: bigint; replayed: boolean }>;
  /** `amount` 0 or absent captures the whole reservation; the rest of a partial capture is released. */
  captureReservation(
    input: { reservationId: string; amount?: number | bigint },
    options?: CallOptions,
  ): Promise<{ transaction: CreditTransaction; balanceAfter: bigint; replayed: boolean }>;
  releaseReservation(reservationId: string, options?: CallOptions): Promise<{ reservation: CreditReservation; availableAfter: bigint; replayed: boolean }>;
  listTransactions(
    input: { identifier: string; pageSize?: number; pageToken?: string },
    options?: CallOptions,
  ): Promise<{ transactions: CreditTransaction[]; nextPageToken: string }>;
  /** Every transaction of a user, newest first, page after page. */
  allTransactions(identifier: string, options?: CallOptions & { pageSize?: number }): AsyncGenerator<CreditTransaction>;
  close(): void;
}

/** One long-lived client per process: it holds the HTTP/2 connection and reconnects by itself. */
export function createCreditsServiceClient(url: string, options: CreditsServiceClientOptions = {}): CreditsServiceConnection {
  const retry = options.retry ?? DEFAULT_RETRY;
  const defaultDeadlineMs = options.deadlineMs ?? 5_000;
  const stub: CreditsServiceClient = createCreditsClient(url, {
    token: options.token,
    ...(options.tls ? { tls: options.tls } : {}),
    channelOptions: { ...ROUND_ROBIN, ...options.channelOptions },
  });

  const once = <Req, Res>(method: Unary<Req, Res>, request: Req, deadline: number) =>
    new Promise<Res>((resolve, reject) => {
      method.call(stub, request, new grpc.Metadata(), { deadline }, (error, response) => {
        if (error) reject(toCreditsServiceError(error));
        else resolve(response as Res);
      });
    });

  /** The same request again on UNAVAILABLE, with full-jitter backoff, within the call's deadline. */
  async function invoke<Req, Res>(name: string, method: Unary<Req, Res>, request: Req, callOptions: CallOptions = {}): Promise<Res> {
    const deadline = Date.now() + (callOptions.deadlineMs ?? defaultDeadlineMs);
    for (let attempt = 1; ; attempt++) {
      try {
        return await once(method, request, deadline);
      } catch (error) {
        if (!(error instanceof CreditsServiceError) || error.grpcStatus !== grpc.status.UNAVAILABLE) throw error;
        const delayMs = Math.random() * Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1));
        if (attempt >= retry.maxAttempts || Date.now() + delayMs + MIN_ATTEMPT_MS > deadline) throw error;
        options.onRetry?.({ method: name, attempt, delayMs, error });
        await sleep(delayMs);
      }
    }
  }

  const listTransactions: CreditsServiceConnection['listTransactions'] = async (input, callOptions) => {
    const response = await invoke<ListTransactionsRequest, ListTransactionsResponse__Output>(
      'ListTransactions',
      stub.ListTransactions,
      { identifier: input.identifier, page_size: input.pageSize ?? 0, page_token: input.pageToken ?? '' },
      callOptions,
    );
    return { transactions: response.transactions.map(toTransaction), nextPageToken: response.next_page_token };
  };

  return {
    async getBalance(identifier, callOptions) {
      const response = await invoke<GetBalanceRequest, GetBalanceResponse__Output>('GetBalance', stub.GetBalance, { identifier }, callOptions);
      return { userId: response.user_id, balance: BigInt(response.balance), held: BigInt(response.held), available: BigInt(response.available) };
    },
    async resolveUser(identifier, callOptions) {
      const response = await invoke<ResolveUserRequest, ResolveUserResponse__Output>('ResolveUser', stub.ResolveUser, { identifier }, callOptions);
      const user = response.user;
      if (!user) throw new CreditsServiceError('INTERNAL', grpc.status.INTERNAL, 'the response carries no user');
      return { id: user.id, legacyId: user.legacy_id, email: user.email, balance: BigInt(user.credits_balance), matchedBy: enumName('MATCH_KIND_', response.matched_by) };
    },
    async spendCredits(input, callOptions) {
      const response = await invoke<SpendCreditsRequest, SpendCreditsResponse__Output>(
        'SpendCredits',
        stub.SpendCredits,
        {
          identifier: input.identifier,
          amount: String(input.amount),
          idempotency_key: input.idempotencyKey,
          description: input.description ?? '',
          metadata: input.metadata ?? {},
        },
        callOptions,
      );
      return { transaction: toTransaction(response.transaction), balanceAfter: BigInt(response.balance_after), replayed: response.replayed };
    },
    async reserveCredits(input, callOptions) {
      const response = await invoke<ReserveCreditsRequest, ReserveCreditsResponse__Output>(
        'ReserveCredits',
        stub.ReserveCredits,
        {
          identifier: input.identifier,
          amount: String(input.amount),
          idempotency_key: input.idempotencyKey,
          description: input.description ?? '',
          ttl_seconds: input.ttlSeconds ?? 0,
          metadata: input.metadata ?? {},
        },
        callOptions,
      );
      return { reservation: toReservation(response.reservation), availableAfter: BigInt(response.available_after), replayed: response.replayed };
    },
    async captureReservation(input, callOptions) {
      const response = await invoke<CaptureReservationRequest, CaptureReservationResponse__Output>(
        'CaptureReservation',
        stub.CaptureReservation,
        { reservation_id: input.reservationId, amount: String(input.amount ?? 0) },
        callOptions,
      );
      return { transaction: toTransaction(response.transaction), balanceAfter: BigInt(response.balance_after), replayed: response.replayed };
    },
    async releaseReservation(reservationId, callOptions) {
      const response = await invoke<ReleaseReservationRequest, ReleaseReservationResponse__Output>('ReleaseReservation', stub.ReleaseReservation, { reservation_id: reservationId }, callOptions);
      return { reservation: toReservation(response.reservation), availableAfter: BigInt(response.available_after), replayed: response.replayed };
    },
    listTransactions,
    async *allTransactions(identifier, callOptions = {}) {
      let pageToken = '';
      do {
        const page = await listTransactions({ identifier, pageSize: callOptions.pageSize, pageToken }, callOptions);
        yield* page.transactions;
        pageToken = page.nextPageToken;
      } while (pageToken);
    },
    close: () => stub.close(),
  };
}
