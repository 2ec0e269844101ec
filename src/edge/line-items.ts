import type { LineItem } from '../contract/stripe-event.js';
import type { Logger } from '../logger.js';
import { creditableLineItems, type StripeApi } from '../stripe-api/client.js';
import { StripeApiError } from '../stripe-api/errors.js';
import { WebhookError } from './errors.js';

/** The priced lines of a Checkout Session; [] when they cannot be trusted to be complete. */
export type LineItemFetcher = (sessionId: string, logger: Logger) => Promise<LineItem[]>;

/** Line items through src/stripe-api: bounded time per request, retries with backoff on network errors, 409, 429 and 5xx. */
export function createStripeLineItemFetcher(stripe: StripeApi): LineItemFetcher {
  return async (sessionId, logger) => {
    let listed: Awaited<ReturnType<typeof stripe.listLineItems>>;
    try {
      listed = await stripe.listLineItems(sessionId);
    } catch (error) {
      const { type, status, code } = error instanceof StripeApiError ? error : { type: 'unknown', status: undefined, code: undefined };
      logger.warn({ stripeErrorType: type, stripeStatus: status, stripeCode: code }, 'Stripe API: listing line items failed');
      // Never credit with a guess: Stripe redelivers the event and the next attempt asks again.
      throw new WebhookError('STRIPE_API_UNAVAILABLE', 'the Stripe API did not answer');
    }
    if (!listed.complete) {
      // A partial list would under-credit; without line items the session's metadata decides (or it is rejected, replayable).
      logger.warn({ lines: listed.items.length }, 'Stripe API: line items incomplete, not sent');
      return [];
    }
    return creditableLineItems(listed);
  };
}
