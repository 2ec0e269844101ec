import { applyCheckoutRequest } from '../contract/apply-checkout.js';
import type { ApplyCheckoutRequest__Output } from '../contract/generated/credits/v1/ApplyCheckoutRequest.js';
import type { ApplyStripeEventRequest__Output } from '../contract/generated/credits/v1/ApplyStripeEventRequest.js';
import { decodeStripeEvent, StripeEventInvalid, type LineItem, type StripeEvent } from '../contract/stripe-event.js';
import { checkStripeSignature } from '../contract/stripe-signature.js';
import { CreditsError } from '../credits/errors.js';

const QUANTITY = /^[1-9][0-9]{0,8}$/;

function lineItemsOf(request: Pick<ApplyCheckoutRequest__Output, 'line_items'>): LineItem[] {
  return request.line_items.map((item, index) => {
    if (!QUANTITY.test(item.quantity)) throw new CreditsError('REQUEST_INVALID', `line_items.${index}.quantity: must be 1..999999999`);
    return { priceId: item.price_id, quantity: Number(item.quantity) };
  });
}

/** The request's fields as they would be sent for `event`, with the loader's defaults filled in. */
function normalised(request: Pick<ApplyCheckoutRequest__Output, 'event_id' | 'event_type' | 'session'>) {
  const session = request.session;
  return {
    event_id: request.event_id,
    event_type: request.event_type,
    session: session && {
      ...session,
      customer_details: { email: session.customer_details?.email ?? '' },
      metadata: Object.fromEntries(Object.entries(session.metadata ?? {}).sort(([a], [b]) => a.localeCompare(b))),
      amount_total: String(session.amount_total ?? '0'),
    },
  };
}

function firstDifference(sent: unknown, stored: unknown, path: string): string | undefined {
  if (typeof sent === 'object' && sent !== null && typeof stored === 'object' && stored !== null) {
    const keys = new Set([...Object.keys(sent), ...Object.keys(stored)]);
    for (const key of keys) {
      const found = firstDifference((sent as Record<string, unknown>)[key], (stored as Record<string, unknown>)[key], path ? `${path}.${key}` : key);
      if (found) return found;
    }
    return undefined;
  }
  return sent === stored ? undefined : path;
}

/** How CreditsService checks the Stripe-Signature the edge forwards (STRIPE_WEBHOOK_SECRET set). */
export interface ForwardedSignatureCheck {
  secrets: readonly string[];
  toleranceSeconds: number;
  /** E2E_TEST_MODE (never in production): an event forwarded without a signature passes. */
  acceptUnsigned: boolean;
}

/** Refuses an event Stripe did not sign with one of our secrets: a token alone must not mint credits. */
export function assertSignedByStripe(eventJson: string, signature: string, check: ForwardedSignatureCheck | undefined): void {
  if (!check || check.secrets.length === 0) return;
  if (signature === '') {
    if (check.acceptUnsigned) return;
    throw new CreditsError('STRIPE_SIGNATURE_INVALID', 'stripe_signature: required (the Stripe-Signature header the event was delivered with)');
  }
  const result = checkStripeSignature(eventJson, signature, check.secrets, check.toleranceSeconds);
  if (result === 'stale') throw new CreditsError('STRIPE_SIGNATURE_INVALID', `stripe_signature: older than ${check.toleranceSeconds} s`);
  if (result === 'invalid') throw new CreditsError('STRIPE_SIGNATURE_INVALID', 'stripe_signature: does not match event_json with any configured secret');
}

/**
 * What CreditsService applies is decoded from `event_json`, the text it stores; the fields sent
 * beside it are only a convenience and must say the same, or the call is refused. With a
 * signature check, `event_json` must also carry Stripe's signature.
 */
export function stripeEventFromRequest(request: ApplyCheckoutRequest__Output, signatureCheck?: ForwardedSignatureCheck): StripeEvent {
  assertSignedByStripe(request.event_json, request.stripe_signature, signatureCheck);
  const event = decodeRequestEvent(request);
  const expected = normalised(applyCheckoutRequest(event) as ApplyCheckoutRequest__Output);
  const differs = firstDifference(normalised(request), { ...expected, session: expected.session ?? null }, '');
  if (differs) throw new CreditsError('REQUEST_INVALID', `${differs}: differs from event_json`);
  return event;
}

/** The event in `event_json`, with the request's line items; an event that cannot be stored is REQUEST_INVALID. */
function decodeRequestEvent(request: Pick<ApplyCheckoutRequest__Output, 'event_json' | 'line_items'>): StripeEvent {
  try {
    return decodeStripeEvent(request.event_json, lineItemsOf(request));
  } catch (error) {
    if (error instanceof StripeEventInvalid) throw new CreditsError('REQUEST_INVALID', error.kind === 'not_an_event' ? `event_json: ${error.message}` : error.message);
    throw error;
  }
}

/**
 * ApplyStripeEvent carries only the raw event (and its line items): there is nothing beside it to
 * disagree. With a signature check, the event must carry Stripe's signature, as for ApplyCheckout.
 */
export function stripeEventFromApplyRequest(request: ApplyStripeEventRequest__Output, signatureCheck?: ForwardedSignatureCheck): StripeEvent {
  assertSignedByStripe(request.event_json, request.stripe_signature, signatureCheck);
  return decodeRequestEvent(request);
}
