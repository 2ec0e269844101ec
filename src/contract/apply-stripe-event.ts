import type { ApplyStripeEventOutcome } from './generated/credits/v1/ApplyStripeEventOutcome.js';
import type { ApplyStripeEventRequest } from './generated/credits/v1/ApplyStripeEventRequest.js';
import { isEventOutcome, type EventOutcome } from './outcomes.js';
import type { StripeEvent } from './stripe-event.js';

/**
 * The ApplyStripeEvent request for a decoded Stripe event: its raw JSON (what CreditsService
 * decodes, stores and applies), the Stripe-Signature it came with, and its line items if any.
 */
export function applyStripeEventRequest(event: StripeEvent, stripeSignature: string): ApplyStripeEventRequest {
  return {
    event_json: event.json,
    stripe_signature: stripeSignature,
    line_items: event.lineItems.map((item) => ({ price_id: item.priceId, quantity: String(item.quantity) })),
  };
}

const OUTCOME_PREFIX = 'APPLY_STRIPE_EVENT_OUTCOME_';

export function stripeEventOutcomeToProto(outcome: EventOutcome): ApplyStripeEventOutcome {
  return `${OUTCOME_PREFIX}${outcome.toUpperCase()}` as ApplyStripeEventOutcome;
}

/** undefined for an outcome this build does not know (a newer server): never confirmed as done. */
export function stripeEventOutcomeFromProto(outcome: string): EventOutcome | undefined {
  if (!outcome.startsWith(OUTCOME_PREFIX)) return undefined;
  const name = outcome.slice(OUTCOME_PREFIX.length).toLowerCase();
  return isEventOutcome(name) ? name : undefined;
}
