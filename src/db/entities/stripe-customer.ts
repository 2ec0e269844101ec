import { defineEntity, type InferEntity } from '@mikro-orm/core';

/** A Stripe customer belongs to one user (linked by the buyer's own email); a user may have several. */
export const StripeCustomer = defineEntity({
  name: 'StripeCustomer',
  tableName: 'stripe_customers',
  properties: (p) => ({
    customerId: p.text().primary(),
    userId: p.bigint('string'),
    createdAt: p.datetime().defaultRaw('now()'),
  }),
});

export type StripeCustomer = InferEntity<typeof StripeCustomer>;
