import { z } from 'zod';
import type { ApplyCheckoutRequest__Output } from '../grpc/generated/credits/v1/ApplyCheckoutRequest';
import { CreditsError } from './errors';
import type { LineItem } from './purchase-credits';

export const CHECKOUT_EVENT_TYPES = [
  'checkout.session.completed',
  'checkout.session.async_payment_succeeded',
  'checkout.session.async_payment_failed',
] as const;
export type CheckoutEventType = (typeof CHECKOUT_EVENT_TYPES)[number];

export function isCheckoutEventType(type: string): type is CheckoutEventType {
  return (CHECKOUT_EVENT_TYPES as readonly string[]).includes(type);
}

const CREDITABLE_PAYMENT_STATUSES = new Set(['paid', 'no_payment_required']);

/** A Checkout Session whose payment has cleared (or needed none) may be credited. */
export function isCreditablePaymentStatus(paymentStatus: string): boolean {
  return CREDITABLE_PAYMENT_STATUSES.has(paymentStatus);
}

export const MAX_EVENT_JSON_BYTES = 1024 * 1024;
/** Stripe's events nest about ten levels; deeper JSON only overflows JSON.stringify and jsonb's parser. */
export const MAX_EVENT_JSON_DEPTH = 64;

// PostgreSQL cannot hold a NUL in text (the driver fails with a protocol error) nor \u0000 or an
// unpaired surrogate in jsonb: such input is refused here instead of failing as an outage later.
const UNSTORABLE = /[\u0000\p{Cs}]/u;
const UNSTORABLE_MESSAGE = 'must not contain NUL or unpaired surrogate characters';

const stripeId = z.string().regex(/^[A-Za-z0-9_-]{1,255}$/, 'must be a Stripe id');
const storableText = (max: number) => z.string().max(max).refine((text) => !UNSTORABLE.test(text), UNSTORABLE_MESSAGE);
const optionalText = storableText(1024);

const SessionSchema = z.object({
  id: stripeId,
  status: optionalText,
  payment_status: optionalText,
  mode: optionalText,
  client_reference_id: optionalText,
  customer: optionalText,
  customer_details: z.object({ email: optionalText }).nullable(),
  customer_email: optionalText,
  metadata: z.record(storableText(40), storableText(500)),
  amount_total: z.string(),
  currency: optionalText,
  payment_intent: optionalText,
});

const RequestSchema = z.object({
  event_id: stripeId,
  event_type: z.string().regex(/^[a-z0-9_.]{1,100}$/, 'must be a Stripe event type'),
  session: SessionSchema.nullable(),
  line_items: z
    .array(z.object({ price_id: stripeId, quantity: z.string().regex(/^[1-9][0-9]{0,8}$/, 'must be 1..999999999') }))
    .max(100),
  event_json: z.string().max(MAX_EVENT_JSON_BYTES),
});

export interface CheckoutSession {
  id: string;
  status: string;
  paymentStatus: string;
  mode: string;
  clientReferenceId: string;
  customer: string;
  customerDetailsEmail: string;
  customerEmail: string;
  metadata: Record<string, string>;
}

/** One Stripe event, checked and in the domain's terms. */
export interface CheckoutEvent {
  eventId: string;
  eventType: string;
  session?: CheckoutSession;
  lineItems: LineItem[];
  /** The whole event as received, checked to be a storable JSON object naming eventId. */
  eventJson: string;
}

function assertEventJson(json: string, eventId: string): void {
  let payload: unknown;
  try {
    payload = JSON.parse(json);
  } catch {
    throw new CreditsError('REQUEST_INVALID', 'event_json: not JSON');
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new CreditsError('REQUEST_INVALID', 'event_json: not a JSON object');
  }
  const { id } = payload as { id?: unknown };
  if (id !== eventId) throw new CreditsError('REQUEST_INVALID', 'event_json: id differs from event_id');
  assertStorable(payload);
}

/** Walks the event without recursion (a hostile depth must not overflow the stack here either). */
function assertStorable(root: object): void {
  const pending: [value: unknown, depth: number][] = [[root, 1]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [value, depth] = next;
    if (typeof value === 'string' && UNSTORABLE.test(value)) throw new CreditsError('REQUEST_INVALID', `event_json: strings ${UNSTORABLE_MESSAGE}`);
    if (typeof value !== 'object' || value === null) continue;
    if (depth > MAX_EVENT_JSON_DEPTH) throw new CreditsError('REQUEST_INVALID', `event_json: nested deeper than ${MAX_EVENT_JSON_DEPTH} levels`);
    for (const [key, child] of Object.entries(value)) pending.push([key, depth], [child, depth + 1]);
  }
}

/** Validates an ApplyCheckout request; every problem is INVALID_ARGUMENT naming the field. */
export function checkoutEventFromRequest(request: ApplyCheckoutRequest__Output): CheckoutEvent {
  const parsed = RequestSchema.safeParse(request);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CreditsError('REQUEST_INVALID', `${issue?.path.join('.') || 'request'}: ${issue?.message ?? 'invalid'}`);
  }
  const { event_id, event_type, session, line_items, event_json } = parsed.data;
  assertEventJson(event_json, event_id);
  if (isCheckoutEventType(event_type) && !session) {
    throw new CreditsError('REQUEST_INVALID', `session: required for ${event_type}`);
  }
  return {
    eventId: event_id,
    eventType: event_type,
    session: session
      ? {
          id: session.id,
          status: session.status,
          paymentStatus: session.payment_status,
          mode: session.mode,
          clientReferenceId: session.client_reference_id,
          customer: session.customer,
          customerDetailsEmail: session.customer_details?.email ?? '',
          customerEmail: session.customer_email,
          metadata: session.metadata,
        }
      : undefined,
    lineItems: line_items.map((item) => ({ priceId: item.price_id, quantity: Number(item.quantity) })),
    eventJson: event_json,
  };
}
