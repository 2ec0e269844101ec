import Stripe from 'stripe';
import type { LineItem } from '../contract/stripe-event.js';
import type { Logger } from '../logger.js';
import { WebhookError } from './errors.js';

/** The priced lines of a Checkout Session; [] when they cannot be trusted to be complete. */
export type LineItemFetcher = (sessionId: string, logger: Logger) => Promise<LineItem[]>;

export interface StripeApiOptions {
  secretKey: string;
  /** e.g. http://127.0.0.1:12111 for a fake Stripe in tests; unset means api.stripe.com. */
  apiBase?: string;
  timeoutMs: number;
  maxRetries: number;
}

// Checkout allows at most 100 line items, so one page holds them all.
const PAGE_LIMIT = 100;

function apiAddress(apiBase: string | undefined): { host?: string; port?: string; protocol?: 'http' | 'https' } {
  if (!apiBase) return {};
  const url = new URL(apiBase);
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  return { host: url.hostname, port: url.port || (protocol === 'http' ? '80' : '443'), protocol };
}

/** Stripe's own client: bounded time per request, its retries (with backoff) on network errors, 409, 429 and 5xx. */
export function createStripeLineItemFetcher(options: StripeApiOptions): LineItemFetcher {
  const stripe = new Stripe(options.secretKey, {
    ...apiAddress(options.apiBase),
    timeout: options.timeoutMs,
    maxNetworkRetries: options.maxRetries,
    telemetry: false,
  });

  return async (sessionId, logger) => {
    let page: Stripe.ApiList<Stripe.LineItem>;
    try {
      page = await stripe.checkout.sessions.listLineItems(sessionId, { limit: PAGE_LIMIT });
    } catch (error) {
      const { type, statusCode, code } = error instanceof Stripe.errors.StripeError ? error : { type: 'unknown', statusCode: undefined, code: undefined };
      logger.warn({ stripeErrorType: type, stripeStatus: statusCode, stripeCode: code }, 'Stripe API: listing line items failed');
      // Never credit with a guess: Stripe redelivers the event and the next attempt asks again.
      throw new WebhookError('STRIPE_API_UNAVAILABLE', 'the Stripe API did not answer');
    }
    const items = page.data.map((item) => ({ priceId: item.price?.id ?? '', quantity: item.quantity ?? 0 }));
    if (page.has_more || items.some((item) => item.priceId === '' || item.quantity < 1)) {
      // A partial list would under-credit; without line items the session's metadata decides (or it is rejected, replayable).
      logger.warn({ lines: items.length, hasMore: page.has_more }, 'Stripe API: line items incomplete, not sent');
      return [];
    }
    return items;
  };
}
