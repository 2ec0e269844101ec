import type { CheckoutOutcome } from '../contract/outcomes.js';
import { isCheckoutEventType, isCreditablePaymentStatus, type CheckoutSession, type StripeEvent } from '../contract/stripe-event.js';
import type { Logger } from '../logger.js';
import { resolveCheckoutUser } from './checkout-user.js';
import { purchaseCredits, type CreditRules } from './credit-rules.js';
import { CheckoutRejected, CreditsError } from './errors.js';
import type { CreditsStore, CustomerLink, EventSource, EventStatus, UnitOfWork, UserRecord } from './ports.js';

/** Where an event came from, and who asked for it to be applied. */
export interface Origin {
  source: EventSource;
  /** The caller's name (its token's, or its certificate's); the source when unset. */
  appliedBy?: string;
}

export interface CheckoutResult {
  outcome: CheckoutOutcome;
  user?: UserRecord;
  creditsGranted: number;
  reason: string;
  /** What linking the session's Stripe customer did, when the buyer's email resolved the user. */
  customerLink?: CustomerLink;
}

interface Decision extends CheckoutResult {
  status: EventStatus;
}

const CONFLICT_RETRIES = 3;

/** One credit per Checkout Session: the ledger's unique key decides, even between concurrent events. */
async function grantPurchaseCredits(uow: UnitOfWork, event: StripeEvent, session: CheckoutSession, rules: CreditRules, logger: Logger, origin: Origin): Promise<Decision> {
  const credits = purchaseCredits(event.lineItems, session.metadata, rules);
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
    createdBy: origin.appliedBy ?? origin.source,
  });
  if (!posted) return { status: 'completed', outcome: 'duplicate', user, creditsGranted: 0, reason: 'checkout_session_already_credited', customerLink };
  return { status: 'completed', outcome: 'applied', user: posted.user, creditsGranted: credits, reason: '', customerLink };
}

/** Test-mode events never credit a live deployment, nor live events a test one. */
function livemodeMatches(event: StripeEvent, rules: CreditRules): boolean {
  return rules.livemode ? event.livemode === true : event.livemode !== true;
}

/** What an event means for the books, decided from the event alone before anything is written. */
function decide(event: StripeEvent, rules: CreditRules): Omit<Decision, 'creditsGranted'> | 'credit' {
  if (!livemodeMatches(event, rules)) return { status: 'ignored', outcome: 'ignored', reason: 'livemode_mismatch' };
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

async function applyInTransaction(uow: UnitOfWork, event: StripeEvent, rules: CreditRules, logger: Logger, origin: Origin): Promise<CheckoutResult> {
  const claimed = await uow.events.claim(event, origin.source);
  if (claimed.status === 'completed' || claimed.status === 'ignored') {
    const user = claimed.userId ? await uow.users.find({ kind: 'legacy_id', value: claimed.userId }) : undefined;
    return { outcome: 'duplicate', user, creditsGranted: 0, reason: 'event_already_processed' };
  }
  // 'pending' and 'failed' events are decided afresh: a redelivery or a replay may now succeed,
  // from the same inputs: the line items stored with the event's first delivery that had any.
  const inputs = { ...event, lineItems: claimed.lineItems ?? event.lineItems };
  const decided = decide(inputs, rules);
  const decision =
    decided === 'credit' ? await grantPurchaseCredits(uow, inputs, inputs.session!, rules, logger, origin) : { ...decided, creditsGranted: 0 };
  await uow.events.finish(event.id, { status: decision.status, outcome: decision.outcome, reason: decision.reason, userId: decision.user?.id ?? null });
  const { status: _status, ...result } = decision;
  return result;
}

/**
 * Applies one Stripe event exactly once: the event row, the ledger row and the balance are
 * committed together or not at all. A lost race is retried; an outage surfaces as UNAVAILABLE.
 * The webhook (over gRPC), replay and reconcile all come through here. `origin.source` is recorded
 * when the event is stored for the first time ('webhook' unless reconcile found it); replay
 * re-applies stored events, whose source never changes. `origin.appliedBy` (the gRPC caller) is
 * stored on the ledger row it writes.
 */
export async function applyStripeEvent(
  store: CreditsStore,
  event: StripeEvent,
  rules: CreditRules,
  logger: Logger,
  origin: Origin = { source: 'webhook' },
): Promise<CheckoutResult> {
  const { source } = origin;
  for (let attempt = 1; ; attempt++) {
    try {
      return await store.transaction((uow) => applyInTransaction(uow, event, rules, logger, origin));
    } catch (error) {
      if (error instanceof CheckoutRejected) {
        // A rejection survives the rolled-back purchase: it is stored as failed, in a transaction of its own.
        await store.transaction((uow) => uow.events.recordRejection(event, error.message, source));
        logger.info({ reason: error.reason }, 'checkout rejected');
        return { outcome: 'rejected', creditsGranted: 0, reason: error.reason };
      }
      if (error instanceof CreditsError && error.code === 'TRANSACTION_CONFLICT' && attempt < CONFLICT_RETRIES) continue;
      throw error;
    }
  }
}
