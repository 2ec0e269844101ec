/** What applying one Stripe event did; every one of them is committed before it is answered. */
export const CHECKOUT_OUTCOMES = ['applied', 'duplicate', 'payment_pending', 'payment_failed', 'ignored', 'rejected'] as const;

export type CheckoutOutcome = (typeof CHECKOUT_OUTCOMES)[number];

export function isCheckoutOutcome(value: string): value is CheckoutOutcome {
  return (CHECKOUT_OUTCOMES as readonly string[]).includes(value);
}

/**
 * Every outcome of any Stripe event (ApplyStripeEvent): the checkout outcomes, meaning the same,
 * and `purchase_pending`: a refund or dispute of a purchase not credited yet, stored as pending
 * and applied with the purchase.
 */
export const EVENT_OUTCOMES = [...CHECKOUT_OUTCOMES, 'purchase_pending'] as const;

export type EventOutcome = (typeof EVENT_OUTCOMES)[number];

export function isEventOutcome(value: string): value is EventOutcome {
  return (EVENT_OUTCOMES as readonly string[]).includes(value);
}
