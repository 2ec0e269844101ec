import type { ApplyCheckoutRequest } from '../grpc/generated/credits/v1/ApplyCheckoutRequest';
import type { CheckoutSession } from '../grpc/generated/credits/v1/CheckoutSession';
import type { LineItem } from '../grpc/generated/credits/v1/LineItem';

/** The parts of a Stripe event this service reads; everything else travels in event_json. */
export interface StripeEventLike {
  id: string;
  type: string;
  data?: { object?: unknown };
}

const text = (value: unknown): string => (typeof value === 'string' ? value : '');

function metadataOf(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null) return {};
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
}

/** Stripe expands some ids into objects when asked to; either way we want the id. */
function idOf(value: unknown): string {
  if (typeof value === 'object' && value !== null) return text((value as { id?: unknown }).id);
  return text(value);
}

function sessionOf(object: unknown): CheckoutSession | null {
  if (typeof object !== 'object' || object === null) return null;
  const s = object as Record<string, unknown>;
  if (s.object !== 'checkout.session') return null;
  const details = s.customer_details as { email?: unknown } | null | undefined;
  const amount = s.amount_total;
  return {
    id: text(s.id),
    status: text(s.status),
    payment_status: text(s.payment_status),
    mode: text(s.mode),
    client_reference_id: text(s.client_reference_id),
    customer: idOf(s.customer),
    customer_details: { email: text(details?.email) },
    customer_email: text(s.customer_email),
    metadata: metadataOf(s.metadata),
    amount_total: typeof amount === 'number' && Number.isSafeInteger(amount) ? String(amount) : '0',
    currency: text(s.currency),
    payment_intent: idOf(s.payment_intent),
  };
}

/**
 * Builds the ApplyCheckout request for a Stripe event. The edge uses it on what Stripe sent, and
 * replay on what was stored, so both ask the service exactly the same question.
 */
export function applyCheckoutRequestFromStripeEvent(
  event: StripeEventLike,
  rawJson: string,
  lineItems: readonly LineItem[] = [],
): ApplyCheckoutRequest {
  const session = sessionOf(event.data?.object);
  return {
    event_id: event.id,
    event_type: event.type,
    ...(session ? { session } : {}),
    line_items: [...lineItems],
    event_json: rawJson,
  };
}
