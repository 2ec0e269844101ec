import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { applyCheckoutRequest } from '../../src/contract/apply-checkout.js';
import type { ApplyCheckoutRequest } from '../../src/contract/generated/credits/v1/ApplyCheckoutRequest.js';
import { decodeStripeEvent, type LineItem } from '../../src/contract/stripe-event.js';

// Stripe's own example objects (see test/fixtures/stripe/README.md); each test sets the values it needs.
const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/stripe/${name}.json`, import.meta.url), 'utf8'));
const SESSION = fixture('checkout.session') as Record<string, unknown>;
const EVENT = fixture('event') as Record<string, unknown>;
const ITEM = fixture('item') as Record<string, unknown>;
const CHARGE = fixture('charge') as Record<string, unknown>;
const DISPUTE = fixture('dispute') as Record<string, unknown>;

export const stripeId = (prefix: string) => `${prefix}_test_${randomBytes(12).toString('hex')}`;

export interface SessionOverrides {
  id?: string;
  payment_status?: 'paid' | 'unpaid' | 'no_payment_required';
  status?: 'open' | 'complete' | 'expired';
  mode?: 'payment' | 'subscription' | 'setup';
  client_reference_id?: string | null;
  customer?: string | null;
  customer_email?: string | null;
  email?: string | null;
  metadata?: Record<string, string>;
  amount_total?: number | null;
}

/** A full checkout.session object as Stripe sends it, completed and paid unless told otherwise. */
export function checkoutSession(overrides: SessionOverrides = {}): Record<string, unknown> {
  const { email, ...fields } = overrides;
  const session = structuredClone(SESSION);
  Object.assign(session, {
    id: stripeId('cs'),
    status: 'complete',
    payment_status: 'paid',
    mode: 'payment',
    amount_total: 2000,
    amount_subtotal: 2000,
    currency: 'usd',
    payment_intent: stripeId('pi'),
    metadata: {},
    ...fields,
  });
  session.url = null;
  (session.customer_details as Record<string, unknown>).email = email === undefined ? 'buyer@example.com' : email;
  return session;
}

export type StripeEventType =
  | 'checkout.session.completed'
  | 'checkout.session.async_payment_succeeded'
  | 'checkout.session.async_payment_failed'
  | 'charge.refunded'
  | 'charge.dispute.created'
  | 'charge.dispute.closed'
  | (string & {});

export interface ChargeOverrides {
  id?: string;
  payment_intent?: string | Record<string, unknown> | null;
  amount?: number;
  /** Cumulative: everything refunded of the charge so far. */
  amount_refunded?: number;
  refunded?: boolean;
}

/** A full charge object as Stripe sends it (captured and paid), refunded in part or in full when told. */
export function charge(overrides: ChargeOverrides = {}): Record<string, unknown> {
  const amount = overrides.amount ?? 2000;
  const amountRefunded = overrides.amount_refunded ?? 0;
  return {
    ...structuredClone(CHARGE),
    id: stripeId('ch'),
    amount,
    amount_captured: amount,
    captured: true,
    payment_intent: null,
    ...overrides,
    amount_refunded: amountRefunded,
    refunded: overrides.refunded ?? amountRefunded >= amount,
  };
}

export interface DisputeOverrides {
  id?: string;
  /** The charge id, or the expanded charge. */
  charge?: string | Record<string, unknown>;
  payment_intent?: string | null;
  amount?: number;
  status?: 'warning_needs_response' | 'warning_under_review' | 'warning_closed' | 'needs_response' | 'under_review' | 'won' | 'lost';
}

/** A full dispute object as Stripe sends it, open (needs_response) unless told otherwise. */
export function dispute(overrides: DisputeOverrides = {}): Record<string, unknown> {
  return { ...structuredClone(DISPUTE), id: stripeId('dp'), charge: stripeId('ch'), amount: 2000, status: 'needs_response', ...overrides };
}

/** A full Stripe event wrapping `object`. */
export function stripeEvent(type: StripeEventType, object: Record<string, unknown>, id = stripeId('evt')): Record<string, unknown> {
  const event = structuredClone(EVENT);
  return {
    ...event,
    id,
    type,
    api_version: '2025-10-29.clover',
    created: Math.floor(Date.now() / 1000),
    pending_webhooks: 1,
    data: { object },
  };
}

/** A Checkout line item as the list-line-items API returns it. */
export function lineItem(priceId: string, quantity: number): Record<string, unknown> {
  const item = structuredClone(ITEM);
  return { ...item, id: stripeId('li'), quantity, price: { ...(item.price as object), id: priceId } };
}

/** The ApplyCheckout request the edge sends for `event`: its JSON exactly as given, decoded as the edge decodes it. */
export function applyCheckoutRequestFor(event: object | string, lineItems: LineItem[] = []): ApplyCheckoutRequest {
  return applyCheckoutRequest(decodeStripeEvent(typeof event === 'string' ? event : JSON.stringify(event), lineItems));
}
