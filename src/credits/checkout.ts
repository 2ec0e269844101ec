import type { EventOutcome } from '../contract/outcomes.js';
import { isCheckoutEventType, isCreditablePaymentStatus, isReversalEventType, type CheckoutSession, type StripeEvent } from '../contract/stripe-event.js';
import type { Logger } from '../logger.js';
import { resolveCheckoutUser } from './checkout-user.js';
import { purchaseCredits, type CreditRules } from './credit-rules.js';
import { CheckoutRejected, CreditsError, StripeEventRejected } from './errors.js';
import type { ChargeLookup, CreditsStore, CustomerLink, EventSource, EventStatus, UnitOfWork, UserRecord } from './ports.js';
import { applyReversal, applyWaitingReversals, ChargeLookupNeeded, lookUpPaymentIntent, type ReversalEffect } from './reversals.js';

/** What applying one Stripe event did, after it was committed. */
export interface StripeEventResult {
  outcome: EventOutcome;
  user?: UserRecord;
  /** Credits a purchase added. */
  creditsGranted: number;
  /** Credits a refund or dispute took back. */
  creditsReversed: number;
  /** Credits a won dispute gave back. */
  creditsRestored: number;
  /** Credits a refund or dispute was due to take but could not (spent, or held by reservations). */
  shortfall: number;
  reason: string;
  /** What linking the session's Stripe customer did, when the buyer's email resolved the user. */
  customerLink?: CustomerLink;
  /** Refunds and disputes that waited for this purchase and were applied with it. */
  reversals: ReversalEffect[];
}

interface Decision extends StripeEventResult {
  status: EventStatus;
  /** Kept with the event: the PaymentIntent a charge look-up found. */
  paymentIntent?: string;
}

/** What every event that moves nothing of its own answers. */
const nothing = (): Pick<StripeEventResult, 'creditsGranted' | 'creditsReversed' | 'creditsRestored' | 'shortfall' | 'reversals'> => ({
  creditsGranted: 0,
  creditsReversed: 0,
  creditsRestored: 0,
  shortfall: 0,
  reversals: [],
});

/** Where an event came from, and who asked for it to be applied. */
export interface Origin {
  source: EventSource;
  /** The caller's name (its token's, or its certificate's); the source when unset. */
  appliedBy?: string;
}

const writer = (origin: Origin): string => origin.appliedBy ?? origin.source;

/** Optional collaborators of applyStripeEvent. */
export interface StripeEventDeps {
  /** Looks up a disputed charge's PaymentIntent (STRIPE_SECRET_KEY set); without it such a dispute is rejected, replayable. */
  charges?: ChargeLookup;
}

const CONFLICT_RETRIES = 3;

/**
 * One credit per Checkout Session: the ledger's unique key decides, even between concurrent events.
 * The refunds and disputes that arrived before the purchase are applied right after it, in the same
 * transaction, under the PaymentIntent's lock (taken first, so that a reversal arriving now either
 * sees the purchase or is seen waiting).
 */
async function grantPurchaseCredits(
  uow: UnitOfWork,
  event: StripeEvent,
  session: CheckoutSession,
  rules: CreditRules,
  logger: Logger,
  origin: Origin,
): Promise<Decision> {
  const credits = purchaseCredits(event.lineItems, session.metadata, rules);
  if (session.paymentIntent) await uow.ledger.lockPaymentIntent(session.paymentIntent);
  const { user, customerLink } = await resolveCheckoutUser(uow.users, session, logger);
  const balance = await uow.users.lockBalance(user.id);
  if (balance + BigInt(credits) > BigInt(rules.maxBalance)) {
    throw new CheckoutRejected('balance_limit', `the balance would pass MAX_CREDITS_BALANCE (${rules.maxBalance})`);
  }
  const posted = await uow.ledger.post({
    userId: user.id,
    kind: 'purchase',
    amount: credits,
    checkoutSessionId: session.id,
    stripeEventId: event.id,
    paymentIntent: session.paymentIntent,
    createdBy: writer(origin),
  });
  if (!posted) return { ...nothing(), status: 'completed', outcome: 'duplicate', user, reason: 'checkout_session_already_credited', customerLink };
  const purchase = { id: posted.entryId, userId: user.id, credits, paymentIntent: session.paymentIntent, amountPaid: session.amountTotal };
  const reversals = session.paymentIntent ? await applyWaitingReversals(uow, purchase, logger, writer(origin)) : [];
  const after = reversals.findLast((reversal) => reversal.user)?.user ?? posted.user;
  return { ...nothing(), status: 'completed', outcome: 'applied', user: after, creditsGranted: credits, reason: '', customerLink, reversals };
}

/** Test-mode events never credit a live deployment, nor live events a test one. */
function livemodeMatches(event: StripeEvent, rules: CreditRules): boolean {
  return rules.livemode ? event.livemode === true : event.livemode !== true;
}

type Decided = Pick<Decision, 'status' | 'outcome' | 'reason'>;

/** What an event means for the books, decided from the event alone before anything is written. */
function decide(event: StripeEvent, rules: CreditRules): Decided | 'credit' | 'reverse' {
  if (!livemodeMatches(event, rules)) return { status: 'ignored', outcome: 'ignored', reason: 'livemode_mismatch' };
  if (isReversalEventType(event.type)) return 'reverse';
  const session = event.session;
  if (!isCheckoutEventType(event.type) || !session) return { status: 'ignored', outcome: 'ignored', reason: 'event_type_not_handled' };
  if (session.mode !== 'payment') return { status: 'ignored', outcome: 'ignored', reason: `mode_${session.mode || 'missing'}` };
  if (event.type === 'checkout.session.async_payment_failed') {
    return { status: 'completed', outcome: 'payment_failed', reason: 'async_payment_failed' };
  }
  if (session.paymentStatus === 'unpaid') return { status: 'pending', outcome: 'payment_pending', reason: 'awaiting_async_payment' };
  if (!isCreditablePaymentStatus(session.paymentStatus)) {
    return { status: 'ignored', outcome: 'ignored', reason: `payment_status_${session.paymentStatus || 'missing'}` };
  }
  return 'credit';
}

async function decideAndWrite(
  uow: UnitOfWork,
  event: StripeEvent,
  stored: { paymentIntent: string | null },
  rules: CreditRules,
  logger: Logger,
  origin: Origin,
  lookedUp: string | undefined,
): Promise<Decision> {
  const decided = decide(event, rules);
  if (decided === 'credit') return grantPurchaseCredits(uow, event, event.session!, rules, logger, origin);
  if (decided === 'reverse') {
    const { eventId: _id, eventType: _type, kind: _kind, ...reversal } = await applyReversal(uow, event, stored, lookedUp, logger, writer(origin));
    return { ...nothing(), ...reversal };
  }
  return { ...nothing(), ...decided };
}

async function applyInTransaction(
  uow: UnitOfWork,
  event: StripeEvent,
  rules: CreditRules,
  logger: Logger,
  origin: Origin,
  lookedUp: string | undefined,
): Promise<StripeEventResult> {
  const claimed = await uow.events.claim(event, origin.source);
  if (claimed.status === 'completed' || claimed.status === 'ignored') {
    const user = claimed.userId ? await uow.users.find({ kind: 'legacy_id', value: claimed.userId }) : undefined;
    return { ...nothing(), outcome: 'duplicate', user, reason: 'event_already_processed' };
  }
  // 'pending' and 'failed' events are decided afresh: a redelivery or a replay may now succeed,
  // from the same inputs: the line items stored with the event's first delivery that had any.
  const inputs = { ...event, lineItems: claimed.lineItems ?? event.lineItems };
  const decision = await decideAndWrite(uow, inputs, claimed, rules, logger, origin, lookedUp);
  await uow.events.finish(event.id, {
    status: decision.status,
    outcome: decision.outcome,
    reason: decision.reason,
    userId: decision.user?.id ?? null,
    paymentIntent: decision.paymentIntent,
  });
  const { status: _status, paymentIntent: _paymentIntent, ...result } = decision;
  return result;
}

/**
 * Applies one Stripe event exactly once: the event row, the ledger rows and the balance are
 * committed together or not at all. A lost race is retried; an outage surfaces as UNAVAILABLE.
 * The webhook (over gRPC), replay and reconcile all come through here. `origin.source` is recorded
 * when the event is stored for the first time ('webhook' unless reconcile found it); replay
 * re-applies stored events, whose source never changes. `origin.appliedBy` (the gRPC caller) is
 * stored on the ledger rows written. A dispute that names only its charge has the charge's
 * PaymentIntent looked up (deps.charges) between two attempts, never inside a transaction.
 */
export async function applyStripeEvent(
  store: CreditsStore,
  event: StripeEvent,
  rules: CreditRules,
  logger: Logger,
  origin: Origin = { source: 'webhook' },
  deps: StripeEventDeps = {},
): Promise<StripeEventResult> {
  const { source } = origin;
  let lookedUp: string | undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      return await store.transaction((uow) => applyInTransaction(uow, event, rules, logger, origin, lookedUp));
    } catch (caught) {
      let error = caught;
      if (error instanceof ChargeLookupNeeded && lookedUp === undefined) {
        try {
          lookedUp = await lookUpPaymentIntent(deps.charges, error.chargeId);
          attempt--;
          continue;
        } catch (lookupError) {
          error = lookupError;
        }
      }
      if (error instanceof StripeEventRejected) {
        // A rejection survives the rolled-back transaction: it is stored as failed, in a transaction of its own.
        await store.transaction((uow) => uow.events.recordRejection(event, error.message, source));
        logger.info({ reason: error.reason, eventType: event.type }, 'stripe event rejected');
        return { ...nothing(), outcome: 'rejected', reason: error.reason };
      }
      if (error instanceof CreditsError && error.code === 'TRANSACTION_CONFLICT' && attempt < CONFLICT_RETRIES) continue;
      throw error;
    }
  }
}
