/** What applying one Stripe event did; every one of them is committed before it is answered. */
export const CHECKOUT_OUTCOMES = ['applied', 'duplicate', 'payment_pending', 'payment_failed', 'ignored', 'rejected'] as const;

export type CheckoutOutcome = (typeof CHECKOUT_OUTCOMES)[number];

export function isCheckoutOutcome(value: string): value is CheckoutOutcome {
  return (CHECKOUT_OUTCOMES as readonly string[]).includes(value);
}
