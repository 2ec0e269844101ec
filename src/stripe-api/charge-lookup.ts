import { ChargeLookupFailed } from '../credits/errors.js';
import type { ChargeLookup } from '../credits/ports.js';
import type { StripeApi } from './client.js';
import { StripeApiError } from './errors.js';

/**
 * The domain's ChargeLookup on the Stripe API: a disputed charge's PaymentIntent. Every failure of
 * the Stripe API (unreachable, rate limited, no such charge, a wrong key) becomes ChargeLookupFailed,
 * whose message (never the key) is stored with the failed event.
 */
export function stripeChargeLookup(stripe: Pick<StripeApi, 'retrieveCharge'>): ChargeLookup {
  return {
    async paymentIntentOf(chargeId) {
      try {
        const charge = await stripe.retrieveCharge(chargeId);
        const paymentIntent = charge.payment_intent;
        return typeof paymentIntent === 'string' ? paymentIntent : (paymentIntent?.id ?? '');
      } catch (error) {
        if (error instanceof StripeApiError) throw new ChargeLookupFailed(error.message);
        throw error;
      }
    },
  };
}
