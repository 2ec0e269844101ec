import { CHECKOUT_EVENT_TYPES, REVERSAL_EVENT_TYPES } from './stripe-event.js';

/**
 * Every Stripe event type this service acts on, in one place. `reconcile` lists exactly these
 * from Stripe's Events API (Stripe accepts at most 20 in one `types[]` query); any other type
 * the webhook receives is stored as ignored.
 */
export const HANDLED_EVENT_TYPES: readonly string[] = [...CHECKOUT_EVENT_TYPES, ...REVERSAL_EVENT_TYPES];
