import type { LineItem } from '../contract/stripe-event.js';
import { CheckoutRejected } from './errors.js';

export interface CreditRules {
  priceCredits: Readonly<Record<string, number>>;
  maxPerPurchase: number;
  /** No purchase takes a balance above this (MAX_CREDITS_BALANCE). */
  maxBalance: number;
  /** Which Stripe mode this deployment credits (STRIPE_LIVEMODE); events of the other are ignored. */
  livemode: boolean;
}

type PriceRules = Pick<CreditRules, 'priceCredits' | 'maxPerPurchase'>;

const METADATA_KEYS = ['credits', 'credit_amount', 'credits_to_add'] as const;
const POSITIVE_INTEGER = /^[1-9][0-9]*$/;

function creditsFromLineItems(items: readonly LineItem[], rules: PriceRules): number | undefined {
  if (items.length === 0) return undefined;
  let total = 0;
  for (const item of items) {
    const perUnit = rules.priceCredits[item.priceId];
    // A price we do not sell as credits: let the session's metadata decide, or reject.
    if (perUnit === undefined) return undefined;
    if (!Number.isSafeInteger(item.quantity) || item.quantity < 1) {
      throw new CheckoutRejected('credits_invalid', `line item quantity ${item.quantity} for ${item.priceId}`);
    }
    total += perUnit * item.quantity;
  }
  return total;
}

function creditsFromMetadata(metadata: Readonly<Record<string, string>>): number | undefined {
  const key = METADATA_KEYS.find((name) => metadata[name] !== undefined && metadata[name].trim() !== '');
  if (key === undefined) return undefined;
  const text = (metadata[key] ?? '').trim();
  if (!POSITIVE_INTEGER.test(text) || text.length > 16) {
    throw new CheckoutRejected('credits_invalid', `metadata.${key} must be a positive integer`);
  }
  return Number(text);
}

/** How many credits a purchase buys: priced line items first, then the session's metadata. */
export function purchaseCredits(
  lineItems: readonly LineItem[],
  metadata: Readonly<Record<string, string>>,
  rules: PriceRules,
): number {
  const credits = creditsFromLineItems(lineItems, rules) ?? creditsFromMetadata(metadata);
  if (credits === undefined) {
    throw new CheckoutRejected('credits_unknown', 'no priced line item and no credits in metadata');
  }
  if (credits > rules.maxPerPurchase) {
    throw new CheckoutRejected('credits_invalid', `${credits} credits exceeds MAX_CREDITS_PER_PURCHASE`);
  }
  return credits;
}
