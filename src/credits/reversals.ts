import type { EventOutcome } from '../contract/outcomes.js';
import type { StripeEvent } from '../contract/stripe-event.js';
import type { Logger } from '../logger.js';
import { ChargeLookupFailed, ReversalRejected, StripeEventRejected } from './errors.js';
import type { ChargeLookup, EventStatus, PurchaseRecord, ReversalKind, ReversalRecord, UnitOfWork, UserRecord } from './ports.js';

/*
 * Refunds and disputes take back the credits they paid for (docs/grpc-api.md, refunds and disputes).
 *
 * The reversal events of a purchase make claims: a refund, that floor(credits × amount_refunded /
 * charge amount) be reversed (amount_refunded is cumulative: the largest one seen counts); a
 * dispute, that floor(credits × dispute amount / amount paid) be reversed until it is won. What
 * should be reversed (the target) is their sum, never more than the purchase credited. Each event
 * writes one ledger row that moves what was reversed to the new target, so the result does not
 * depend on the order the events arrive in, and an event that adds no claim moves nothing.
 *
 * A reversal takes only what the user has available (balance − held by live reservations); what
 * it cannot take is its shortfall, recorded on its row and still counted as reversed. A won
 * dispute gives back what the reversal took, never credits that were not taken.
 */

// ---- the arithmetic (pure)

/** floor(credits × part / whole) within 0..credits: the credits a part of a payment paid for. */
export function creditsShare(credits: number, part: number, whole: number): number {
  if (whole <= 0 || part <= 0 || credits <= 0) return 0;
  if (part >= whole) return credits;
  return Number((BigInt(credits) * BigInt(part)) / BigInt(whole));
}

/** Closed in the merchant's favour: the dispute's credits are given back. `lost` (or anything else) keeps them reversed. */
const RELEASED_DISPUTE_STATUSES = new Set(['won', 'warning_closed']);

export interface ReversalClaims {
  /** Credits the charge's largest cumulative amount_refunded stands for. */
  refund: number;
  /** Per dispute id: its share of the purchase, and whether it closed in the merchant's favour. */
  disputes: Map<string, { share: number; released: boolean }>;
}

type PurchaseTerms = Pick<PurchaseRecord, 'credits' | 'amountPaid'>;

/** What the reversal events of one purchase claim, whatever order they came in. */
export function reversalClaims(events: readonly StripeEvent[], purchase: PurchaseTerms): ReversalClaims {
  const claims: ReversalClaims = { refund: 0, disputes: new Map() };
  for (const event of events) {
    if (event.type === 'charge.refunded' && event.charge) {
      const { amount, amountRefunded } = event.charge;
      if (amount !== null && amountRefunded !== null) claims.refund = Math.max(claims.refund, creditsShare(purchase.credits, amountRefunded, amount));
    } else if ((event.type === 'charge.dispute.created' || event.type === 'charge.dispute.closed') && event.dispute) {
      const { id, amount, status } = event.dispute;
      const known = claims.disputes.get(id);
      const share = amount !== null && purchase.amountPaid !== null ? creditsShare(purchase.credits, amount, purchase.amountPaid) : 0;
      const released = event.type === 'charge.dispute.closed' && RELEASED_DISPUTE_STATUSES.has(status);
      claims.disputes.set(id, { share: Math.max(known?.share ?? 0, share), released: (known?.released ?? false) || released });
    }
  }
  return claims;
}

/** What should be reversed of a purchase: its refunds plus its disputes not won, never more than it credited. */
export function targetReversal(credits: number, claims: ReversalClaims): number {
  let total = claims.refund;
  for (const dispute of claims.disputes.values()) if (!dispute.released) total += dispute.share;
  return Math.min(credits, total);
}

export interface ReversedSoFar {
  /** What the purchase's reversal rows stand for: taken back or owed by refunds and disputes, less what wins cancelled. */
  net: number;
  /** Credits reversed but never taken (spent or held at the time), not cancelled by a win since. */
  outstanding: number;
}

export function reversedSoFar(rows: readonly ReversalRecord[]): ReversedSoFar {
  let net = 0;
  let outstanding = 0;
  for (const row of rows) {
    if (row.kind === 'dispute_won') {
      net -= row.amount + row.shortfall;
      outstanding -= row.shortfall;
    } else {
      net += -row.amount + row.shortfall;
      outstanding += row.shortfall;
    }
  }
  return { net, outstanding };
}

export type ReversalMove =
  | { direction: 'take'; due: number; taken: number; shortfall: number }
  | { direction: 'give_back'; cancelled: number; restored: number; notTaken: number }
  | { direction: 'none' };

/**
 * The move from what was reversed to the target. Taking: only what is available, the rest is the
 * shortfall. Giving back: what was never taken is cancelled first, only the rest is credited again.
 */
export function reversalMove(target: number, reversed: ReversedSoFar, available: bigint): ReversalMove {
  if (target > reversed.net) {
    const due = target - reversed.net;
    const taken = available <= 0n ? 0 : available < BigInt(due) ? Number(available) : due;
    return { direction: 'take', due, taken, shortfall: due - taken };
  }
  if (target < reversed.net) {
    const cancelled = reversed.net - target;
    const notTaken = Math.min(cancelled, Math.max(0, reversed.outstanding));
    return { direction: 'give_back', cancelled, restored: cancelled - notTaken, notTaken };
  }
  return { direction: 'none' };
}

// ---- applying one event

/** What one refund or dispute event did to the books. */
export interface ReversalEffect {
  eventId: string;
  eventType: string;
  outcome: EventOutcome;
  reason: string;
  /** The ledger row written, if any. */
  kind?: ReversalKind;
  /** Credits taken back. */
  creditsReversed: number;
  /** Credits given back (a won dispute). */
  creditsRestored: number;
  /** Credits due that could not be taken. */
  shortfall: number;
  /** The user's balance after the event, when its purchase was found. */
  user?: UserRecord;
}

export interface ReversalDecision extends ReversalEffect {
  status: EventStatus;
  /** The PaymentIntent the event concerns, kept with the event (found by a charge look-up, perhaps). */
  paymentIntent?: string;
}

/** The dispute names only its charge: its PaymentIntent must be looked up, outside the transaction. */
export class ChargeLookupNeeded extends Error {
  override name = 'ChargeLookupNeeded';

  constructor(readonly chargeId: string) {
    super(`the PaymentIntent of charge ${chargeId} must be looked up`);
  }
}

function decision(event: StripeEvent, status: EventStatus, outcome: EventOutcome, reason: string, fields: Partial<ReversalDecision> = {}): ReversalDecision {
  return { eventId: event.id, eventType: event.type, status, outcome, reason, creditsReversed: 0, creditsRestored: 0, shortfall: 0, ...fields };
}

/** Amounts the arithmetic needs, checked before anything is written. */
function assertAmounts(event: StripeEvent, purchase?: PurchaseTerms): void {
  if (event.charge) {
    if (!event.charge.amount) throw new ReversalRejected('charge_amount_unknown', `charge ${event.charge.id} has no positive integer amount`);
    if (event.charge.amountRefunded === null) throw new ReversalRejected('refund_amount_unknown', `charge ${event.charge.id} has no integer amount_refunded`);
  }
  if (event.dispute) {
    if (event.dispute.amount === null) throw new ReversalRejected('dispute_amount_unknown', `dispute ${event.dispute.id} has no integer amount`);
    if (purchase && !purchase.amountPaid) {
      throw new ReversalRejected('purchase_amount_unknown', `the disputed purchase's session has no amount_total to take a share of`);
    }
  }
}

/** Why nothing moved, by event type. */
function nothingToDo(event: StripeEvent, claims: ReversalClaims, others: ReversalClaims, net: number, credits: number): Pick<ReversalDecision, 'outcome' | 'reason'> {
  const dispute = event.dispute && claims.disputes.get(event.dispute.id);
  if (event.type === 'charge.dispute.closed' && dispute) {
    if (!dispute.released) return { outcome: 'ignored', reason: `dispute_${event.dispute!.status || 'closed'}` };
    // Won before it was reversed, or the reversal it would give back is now a refund's.
    return others.disputes.get(event.dispute!.id)?.released
      ? { outcome: 'duplicate', reason: 'dispute_already_won' }
      : { outcome: 'ignored', reason: 'nothing_to_give_back' };
  }
  if (dispute?.released) return { outcome: 'duplicate', reason: 'dispute_already_closed' };
  if (net >= credits) return { outcome: 'duplicate', reason: 'purchase_fully_reversed' };
  return { outcome: 'duplicate', reason: event.type === 'charge.refunded' ? 'refund_already_reversed' : 'dispute_already_reversed' };
}

/**
 * Applies a refund or dispute event to its purchase, inside the caller's transaction, which holds
 * the PaymentIntent's lock: the user's row is locked, the claims of the purchase's applied events
 * plus this one set the target, and one ledger row moves what was reversed to it.
 */
export async function reverseForPurchase(uow: UnitOfWork, event: StripeEvent, purchase: PurchaseRecord, logger: Logger, createdBy?: string): Promise<ReversalDecision> {
  assertAmounts(event, purchase);
  const balance = await uow.users.lockBalance(purchase.userId);
  const held = await uow.reservations.heldFor(purchase.userId);
  const applied = (await uow.events.appliedReversals(purchase.paymentIntent)).filter((other) => other.id !== event.id);
  const others = reversalClaims(applied, purchase);
  const claims = reversalClaims([...applied, event], purchase);
  const target = targetReversal(purchase.credits, claims);
  const reversed = reversedSoFar(await uow.ledger.reversalsOf(purchase.id));
  const move = reversalMove(target, reversed, balance - held);
  const base = { userId: purchase.userId, purchaseId: purchase.id, stripeEventId: event.id, createdBy };
  const completed = (fields: Partial<ReversalDecision> & Pick<ReversalDecision, 'outcome' | 'reason'>) =>
    decision(event, 'completed', fields.outcome, fields.reason, { paymentIntent: purchase.paymentIntent, ...fields });

  if (move.direction === 'take') {
    const kind: ReversalKind = event.charge ? 'refund' : 'dispute';
    const posted = await uow.ledger.post({
      ...base,
      kind,
      amount: -move.taken,
      shortfall: move.shortfall,
      stripeChargeId: event.charge?.id ?? event.dispute?.charge,
      stripeDisputeId: event.dispute?.id,
      refundedAmount: event.charge?.amountRefunded ?? undefined,
    });
    if (!posted) return completed({ outcome: 'duplicate', reason: 'reversal_already_recorded', user: await currentUser(uow, purchase) });
    if (move.shortfall > 0) {
      // The user id only (never the email): an operator decides what to do about credits already spent.
      logger.warn(
        { userId: purchase.userId, purchaseId: purchase.id, kind, due: move.due, taken: move.taken, shortfall: move.shortfall },
        'reversal shortfall: the user had spent or reserved credits it takes back',
      );
    }
    return completed({ outcome: 'applied', reason: '', kind, creditsReversed: move.taken, shortfall: move.shortfall, user: posted.user });
  }
  if (move.direction === 'give_back' && event.type === 'charge.dispute.closed' && event.dispute) {
    const posted = await uow.ledger.post({
      ...base,
      kind: 'dispute_won',
      amount: move.restored,
      shortfall: move.notTaken,
      stripeChargeId: event.dispute.charge,
      stripeDisputeId: event.dispute.id,
    });
    if (!posted) return completed({ outcome: 'duplicate', reason: 'dispute_already_won', user: await currentUser(uow, purchase) });
    return completed({ outcome: 'applied', reason: '', kind: 'dispute_won', creditsRestored: move.restored, user: posted.user });
  }
  if (move.direction !== 'none') {
    // Only a won dispute lowers the target; anything else means the stored rows and events disagree.
    logger.warn({ purchaseId: purchase.id, eventType: event.type, target, reversed: reversed.net }, 'reversal rows and events disagree; nothing moved (run verify)');
  }
  return completed({ ...nothingToDo(event, claims, others, reversed.net, purchase.credits), user: await currentUser(uow, purchase) });
}

async function currentUser(uow: UnitOfWork, purchase: PurchaseRecord): Promise<UserRecord | undefined> {
  return uow.users.find({ kind: 'legacy_id', value: purchase.userId });
}

/**
 * Decides a refund or dispute event inside the transaction that claimed it. Its purchase is found
 * by PaymentIntent: the charge's or the dispute's, one stored with the event, or `lookedUp` (the
 * charge's, asked of Stripe). Not credited yet: stored as pending, and applied when it is.
 */
export async function applyReversal(
  uow: UnitOfWork,
  event: StripeEvent,
  stored: { paymentIntent: string | null },
  lookedUp: string | undefined,
  logger: Logger,
  createdBy?: string,
): Promise<ReversalDecision> {
  const paymentIntent = event.charge?.paymentIntent || event.dispute?.paymentIntent || stored.paymentIntent || lookedUp;
  if (!paymentIntent) {
    if (event.dispute?.charge && lookedUp === undefined) throw new ChargeLookupNeeded(event.dispute.charge);
    // A charge without a PaymentIntent was not made by Checkout: no purchase of ours to reverse.
    return decision(event, 'ignored', 'ignored', 'charge_not_from_checkout');
  }
  assertAmounts(event);
  await uow.ledger.lockPaymentIntent(paymentIntent);
  const purchase = await uow.ledger.findPurchase(paymentIntent);
  if (!purchase) return decision(event, 'pending', 'purchase_pending', 'purchase_not_credited_yet', { paymentIntent });
  return reverseForPurchase(uow, event, purchase, logger, createdBy);
}

/**
 * Applies, right after a purchase is credited and in the same transaction, the refunds and
 * disputes that came before it (oldest Stripe `created` first). One that cannot be applied as sent
 * is stored as failed with its reason, without undoing the purchase.
 */
export async function applyWaitingReversals(uow: UnitOfWork, purchase: PurchaseRecord, logger: Logger, createdBy?: string): Promise<ReversalEffect[]> {
  const effects: ReversalEffect[] = [];
  for (const event of await uow.events.takePendingReversals(purchase.paymentIntent)) {
    const eventLogger = logger.child({ appliedWithPurchase: event.id });
    let result: ReversalDecision;
    try {
      result = await reverseForPurchase(uow, event, purchase, eventLogger, createdBy);
    } catch (error) {
      if (!(error instanceof StripeEventRejected)) throw error;
      result = decision(event, 'failed', 'rejected', error.message);
    }
    await uow.events.finish(event.id, { status: result.status, outcome: result.outcome, reason: result.reason, userId: purchase.userId });
    const { status: _status, paymentIntent: _paymentIntent, ...effect } = result;
    effects.push(effect);
  }
  return effects;
}

/** The PaymentIntent of a disputed charge, asked of Stripe; '' when the charge has none. */
export async function lookUpPaymentIntent(charges: ChargeLookup | undefined, chargeId: string): Promise<string> {
  if (!charges) {
    throw new ReversalRejected('charge_lookup_unavailable', `the dispute names only charge ${chargeId} and STRIPE_SECRET_KEY is unset: set it, then replay the event`);
  }
  try {
    return await charges.paymentIntentOf(chargeId);
  } catch (error) {
    if (error instanceof ChargeLookupFailed) throw new ReversalRejected('charge_lookup_failed', `charge ${chargeId}: ${error.message}; replay the event later`);
    throw error;
  }
}
