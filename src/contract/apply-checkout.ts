import type { ApplyCheckoutOutcome } from './generated/credits/v1/ApplyCheckoutOutcome.js';
import type { ApplyCheckoutRequest } from './generated/credits/v1/ApplyCheckoutRequest.js';
import type { CheckoutSession as CheckoutSessionMessage } from './generated/credits/v1/CheckoutSession.js';
import { isCheckoutOutcome, type CheckoutOutcome, type EventOutcome } from './outcomes.js';
import type { CheckoutSession, StripeEvent } from './stripe-event.js';

function sessionMessage(session: CheckoutSession): CheckoutSessionMessage {
  return {
    id: session.id,
    status: session.status,
    payment_status: session.paymentStatus,
    mode: session.mode,
    client_reference_id: session.clientReferenceId,
    customer: session.customer,
    customer_details: { email: session.customerDetailsEmail },
    customer_email: session.customerEmail,
    metadata: { ...session.metadata },
    amount_total: String(session.amountTotal ?? 0),
    currency: session.currency,
    payment_intent: session.paymentIntent,
  };
}

/**
 * The ApplyCheckout request for a decoded Stripe event. CreditsService decodes `event_json`
 * itself and refuses a request whose other fields disagree with it.
 */
export function applyCheckoutRequest(event: StripeEvent, stripeSignature = ''): ApplyCheckoutRequest {
  return {
    event_id: event.id,
    event_type: event.type,
    ...(event.session ? { session: sessionMessage(event.session) } : {}),
    line_items: event.lineItems.map((item) => ({ price_id: item.priceId, quantity: String(item.quantity) })),
    event_json: event.json,
    stripe_signature: stripeSignature,
  };
}

const OUTCOME_PREFIX = 'APPLY_CHECKOUT_OUTCOME_';

/**
 * ApplyCheckout's enum has no PURCHASE_PENDING (a refund or dispute sent through ApplyCheckout, as
 * edges older than ApplyStripeEvent do): it is answered PAYMENT_PENDING, which they confirm alike.
 */
export function outcomeToProto(outcome: EventOutcome): ApplyCheckoutOutcome {
  const known: CheckoutOutcome = outcome === 'purchase_pending' ? 'payment_pending' : outcome;
  return `${OUTCOME_PREFIX}${known.toUpperCase()}` as ApplyCheckoutOutcome;
}

/** undefined for an outcome this build does not know (a newer server): never confirmed as done. */
export function outcomeFromProto(outcome: string): CheckoutOutcome | undefined {
  const name = outcome.replace(OUTCOME_PREFIX, '').toLowerCase();
  return isCheckoutOutcome(name) ? name : undefined;
}
