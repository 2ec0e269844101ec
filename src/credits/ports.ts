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
}

export interface EventDecision {
  status: EventStatus;
  outcome: string;
  reason: string;
  userId: string | null;
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
}

export const LEDGER_KINDS = ['purchase', 'grant', 'revoke'] as const;
export type LedgerKind = (typeof LEDGER_KINDS)[number];

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
}

export interface LedgerPosting {
  entryId: string;
  user: UserRecord;
}

export interface Ledger {
  /**
   * The one way a balance changes: the ledger row and the balance move together. Returns
   * undefined, and moves nothing, when the entry's unique reference is already in the ledger.
   * A balance that would fall below zero is refused as INSUFFICIENT_CREDITS.
   */
  post(entry: LedgerEntry): Promise<LedgerPosting | undefined>;
}

/** The repositories of one unit of work (one database transaction). */
export interface UnitOfWork {
  users: UserRepository;
  events: StripeEventRepository;
  ledger: Ledger;
}

export interface CreditsStore {
  /** Runs work in one transaction: all of it commits, or none. */
  transaction<T>(work: (uow: UnitOfWork) => Promise<T>): Promise<T>;
  /** Reads outside a transaction (each statement on its own). */
  users: Pick<UserRepository, 'find'>;
}
