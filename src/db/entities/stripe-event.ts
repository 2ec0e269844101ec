import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { EVENT_SOURCES, EVENT_STATUSES } from '../../credits/ports.js';

export const StripeEvent = defineEntity({
  name: 'StripeEvent',
  tableName: 'stripe_events',
  properties: (p) => ({
    id: p.bigint('string').primary().autoincrement(),
    eventId: p.text().unique(),
    eventType: p.text(),
    status: p.enum([...EVENT_STATUSES]),
    outcome: p.text().nullable(),
    errorMessage: p.text().nullable(),
    attempts: p.integer().default(1),
    checkoutSessionId: p.text().nullable(),
    userId: p.bigint('string').nullable(),
    payload: p.json<Record<string, unknown>>(),
    /** The line items the purchase was credited from, when they were fetched. */
    lineItems: p.json<{ priceId: string; quantity: number }[]>().nullable(),
    receivedAt: p.datetime().defaultRaw('now()'),
    processedAt: p.datetime().nullable(),
    /** How the event reached us, set by the claim that inserted it (migration 20261202000200). */
    source: p.enum([...EVENT_SOURCES]).default('webhook'),
    /** The PaymentIntent the event concerns (migration 20261202000400): finds the reversals waiting for a purchase. */
    paymentIntent: p.text().nullable(),
  }),
});

export type StripeEvent = InferEntity<typeof StripeEvent>;
