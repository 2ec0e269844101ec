import type { LineItem, StripeEvent } from '../contract/stripe-event.js';
import type { Identifier } from './identifiers.js';

export type EmailIdentifier = Extract<Identifier, { kind: 'email' }>;

/**
 * What the domain needs from storage. db/ implements these on PostgreSQL through MikroORM; the
 * unit tests implement them in memory. Implementations report storage failures as CreditsError
 * (DATABASE_UNAVAILABLE, TRANSACTION_CONFLICT, DEADLINE_EXCEEDED, INTERNAL) and nothing else.
 */

export interface UserRecord {
  /** The integer id (users.id), as a decimal string. */
  id: string;
  uuid: string;
  email: string | null;
  /** Credits owned: the sum of the user's ledger rows, as a decimal string. */
  creditsBalance: string;
}

/** What became of linking a Stripe customer to a user: a customer belongs to one user, ever. */
export type CustomerLink = 'linked' | 'already_linked' | 'linked_to_another_user';

export interface UserRepository {
  find(identifier: Identifier): Promise<UserRecord | undefined>;
  findByStripeCustomer(customerId: string): Promise<UserRecord | undefined>;
  /** Race-safe: two transactions creating one email end with one user. */
  findOrCreateByEmail(email: EmailIdentifier): Promise<UserRecord>;
  /** Links the Stripe customer to the user unless it belongs to someone already; never moves a link. */
  linkStripeCustomer(userId: string, customerId: string): Promise<CustomerLink>;
  /** Locks the user's row until the transaction ends and returns the balance it holds. */
  lockBalance(userId: string): Promise<bigint>;
  /** Finds the user and locks the row until the transaction ends, in one statement: the balance is the latest committed. */
  findForUpdate(identifier: Identifier): Promise<UserRecord | undefined>;
  /** The user and the credits held by live reservations, read in one statement (one snapshot). */
  findBalance(identifier: Identifier): Promise<BalanceRecord | undefined>;
}

export interface BalanceRecord {
  user: UserRecord;
  /** Credits held by live reservations (held and not expired), as a decimal string. */
  held: string;
}

export const EVENT_STATUSES = ['processing', 'completed', 'failed', 'ignored', 'pending'] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];

/**
 * How an event reached the service: delivered by Stripe to the webhook, or found in Stripe's
 * Events API by reconcile. Recorded once, when the event is first stored.
 */
export const EVENT_SOURCES = ['webhook', 'reconcile'] as const;
export type EventSource = (typeof EVENT_SOURCES)[number];

export interface ClaimedEvent {
  /** The status the event had before this delivery ('processing' when it is new). */
  status: EventStatus;
  userId: string | null;
  /** The line items stored with the event (the first delivery's that had any), or null. */
  lineItems: LineItem[] | null;
  /** The PaymentIntent stored with the event: its own, or one an earlier charge look-up found; null when none. */
  paymentIntent: string | null;
}

export interface EventDecision {
  status: EventStatus;
  outcome: string;
  reason: string;
  userId: string | null;
  /** The PaymentIntent the event concerns, when it was learnt by looking its charge up; kept with the event. */
  paymentIntent?: string;
}

export interface StripeEventRepository {
  /**
   * Inserts the event as processing with its line items, recording its `source`, or counts another
   * attempt and locks the stored row (keeping the line items stored first, adding them if it had
   * none; the source stays what the first insert recorded).
   */
  claim(event: StripeEvent, source: EventSource): Promise<ClaimedEvent>;
  finish(eventId: string, decision: EventDecision): Promise<void>;
  /** Stores the event as failed/rejected unless it was completed or ignored meanwhile; `source` as for claim. */
  recordRejection(event: StripeEvent, message: string, source: EventSource): Promise<void>;
  /** The refund and dispute events of this PaymentIntent already applied (status completed), as stored. */
  appliedReversals(paymentIntent: string): Promise<StripeEvent[]>;
  /**
   * The refund and dispute events of this PaymentIntent waiting for its purchase (status pending),
   * oldest Stripe `created` first, each locked until the transaction ends. One that another
   * transaction is applying right now is skipped: that transaction finds the purchase itself.
   */
  takePendingReversals(paymentIntent: string): Promise<StripeEvent[]>;
}

export const LEDGER_KINDS = ['purchase', 'grant', 'revoke', 'spend', 'capture', 'refund', 'dispute', 'dispute_won'] as const;
export type LedgerKind = (typeof LEDGER_KINDS)[number];

/** The ledger kinds that take back (refund, dispute) or give back (dispute_won) a purchase's credits. */
export const REVERSAL_KINDS = ['refund', 'dispute', 'dispute_won'] as const;
export type ReversalKind = (typeof REVERSAL_KINDS)[number];

/** String keys and values a caller attaches to a spend or a reservation. */
export type Metadata = Record<string, string>;

export interface LedgerEntry {
  userId: string;
  kind: LedgerKind;
  /** Signed: positive adds credits, negative takes them. */
  amount: number;
  /** A purchase's Checkout Session: unique, so a session is credited once. */
  checkoutSessionId?: string;
  stripeEventId?: string;
  reason?: string;
  /** Who wrote it: the operator of a manual correction. */
  createdBy?: string;
  /** A spend's idempotency key: unique, so a spend is taken once. */
  idempotencyKey?: string;
  /** A capture's reservation: unique, so a reservation is captured once. */
  reservationId?: string;
  description?: string;
  metadata?: Metadata;
  /** A purchase's PaymentIntent: how its refunds and disputes find it. */
  paymentIntent?: string;
  /** A reversal's purchase (its ledger row id). */
  purchaseId?: string;
  /** A refund's (or dispute's) Stripe charge. */
  stripeChargeId?: string;
  /** A dispute's or a win's Stripe dispute: unique per kind, so a dispute is reversed once and won back once. */
  stripeDisputeId?: string;
  /** A refund's cumulative amount_refunded: unique with the charge, so a cumulative amount is applied once. */
  refundedAmount?: number;
  /** Credits a reversal was due to take but could not; on a win, credits not given back because never taken. */
  shortfall?: number;
}

/** One stored ledger row. */
export interface LedgerRecord {
  id: string;
  /** The integer id of the user. */
  userId: string;
  userUuid: string;
  kind: LedgerKind;
  /** Signed, as a decimal string. */
  amount: string;
  /** The balance right after this row; null only for rows written by hand without it. */
  balanceAfter: string | null;
  createdAt: Date;
  checkoutSessionId: string | null;
  reason: string | null;
  /** Who wrote it: the operator of a manual correction, or the API caller. */
  createdBy: string | null;
  idempotencyKey: string | null;
  reservationId: string | null;
  description: string | null;
  metadata: Metadata;
  stripeChargeId: string | null;
  stripeDisputeId: string | null;
  /** As a decimal string; '0' for every row that is not a reversal. */
  shortfall: string;
}

/** A purchase, as refunds and disputes need it. */
export interface PurchaseRecord {
  /** The purchase's ledger row id. */
  id: string;
  userId: string;
  /** Credits the purchase added. */
  credits: number;
  paymentIntent: string;
  /** What the buyer paid: the session's amount_total in the smallest currency unit; null when unknown. */
  amountPaid: number | null;
}

/** A refund, dispute or win row of one purchase. */
export interface ReversalRecord {
  kind: ReversalKind;
  /** Signed credits moved: ≤ 0 for a refund or dispute, ≥ 0 for a win. */
  amount: number;
  shortfall: number;
}

export interface LedgerPosting {
  entryId: string;
  /** The user as the posting left them (the new balance). */
  user: UserRecord;
  entry: LedgerRecord;
}

export interface Ledger {
  /**
   * The one way a balance changes: the ledger row and the balance move together, with the user's
   * row locked first, and the row records the balance after it. Returns undefined, and moves
   * nothing, when the entry's unique reference is already in the ledger. A balance that would
   * fall below zero is refused as INSUFFICIENT_CREDITS.
   */
  post(entry: LedgerEntry): Promise<LedgerPosting | undefined>;
  /** The spend recorded under this idempotency key, whoever's it is. */
  findByIdempotencyKey(key: string): Promise<LedgerRecord | undefined>;
  /** The capture of this reservation. */
  findCapture(reservationId: string): Promise<LedgerRecord | undefined>;
  /** A user's rows newest first (highest id first), those below `beforeId` when given. */
  page(userId: string, options: { beforeId?: string; limit: number }): Promise<LedgerRecord[]>;
  /** The purchase this PaymentIntent paid for (the first, should there be two). */
  findPurchase(paymentIntent: string): Promise<PurchaseRecord | undefined>;
  /** The refund, dispute and win rows of a purchase. */
  reversalsOf(purchaseId: string): Promise<ReversalRecord[]>;
  /**
   * Serialises, until the transaction ends, everything done about one PaymentIntent: crediting its
   * purchase and applying its refunds and disputes. Taken before the user's row is locked.
   */
  lockPaymentIntent(paymentIntent: string): Promise<void>;
}

export const RESERVATION_STATUSES = ['held', 'captured', 'released', 'expired'] as const;
export type ReservationStatus = (typeof RESERVATION_STATUSES)[number];

export interface ReservationRecord {
  /** A UUID. */
  id: string;
  userId: string;
  userUuid: string;
  amount: string;
  /** As it is now: a held reservation whose expire_time has passed reads as expired. */
  status: ReservationStatus;
  /** The status stored in the row (an expired one may still be stored as held). */
  storedStatus: ReservationStatus;
  idempotencyKey: string;
  description: string | null;
  metadata: Metadata;
  expireTime: Date;
  createdAt: Date;
  settledAt: Date | null;
  capturedAmount: string | null;
}

export interface NewReservation {
  userId: string;
  amount: number;
  idempotencyKey: string;
  ttlSeconds: number;
  description?: string;
  metadata?: Metadata;
}

export interface ReservationRepository {
  /** Credits held by the user's live reservations: status held and expire_time after now. */
  heldFor(userId: string): Promise<bigint>;
  /** Undefined, and nothing written, when the idempotency key is taken already. */
  create(reservation: NewReservation): Promise<ReservationRecord | undefined>;
  findByIdempotencyKey(key: string): Promise<ReservationRecord | undefined>;
  find(id: string): Promise<ReservationRecord | undefined>;
  /** Reads the reservation and locks its row until the transaction ends. */
  lock(id: string): Promise<ReservationRecord | undefined>;
  /** Ends a held reservation: captured (with the credits taken), released, or expired (at its expire_time). */
  settle(id: string, status: Exclude<ReservationStatus, 'held'>, capturedAmount?: number): Promise<ReservationRecord>;
  /** Stores the user's held reservations whose expire_time has passed as expired. */
  expireDue(userId: string): Promise<number>;
}

/**
 * The Stripe API, as far as reversals need it: a dispute may name only its charge, whose
 * PaymentIntent finds the purchase. Implemented on src/stripe-api (app wiring); absent without
 * STRIPE_SECRET_KEY.
 */
export interface ChargeLookup {
  /** The charge's PaymentIntent, '' when it has none. Throws ChargeLookupFailed when Stripe cannot say. */
  paymentIntentOf(chargeId: string): Promise<string>;
}

/** The repositories of one unit of work (one database transaction). */
export interface UnitOfWork {
  users: UserRepository;
  events: StripeEventRepository;
  ledger: Ledger;
  reservations: ReservationRepository;
}

export interface CreditsStore {
  /** Runs work in one transaction: all of it commits, or none. */
  transaction<T>(work: (uow: UnitOfWork) => Promise<T>): Promise<T>;
  /** Reads outside a transaction (each statement on its own). */
  users: Pick<UserRepository, 'find' | 'findBalance'>;
  /** Ledger pages outside a transaction: one statement, one snapshot. */
  ledger: Pick<Ledger, 'page'>;
}
