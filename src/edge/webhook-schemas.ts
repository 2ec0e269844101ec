import { z } from 'zod';

/**
 * The webhook API's shapes: the edge validates and answers with these, and /openapi.json is
 * generated from them, so the published contract cannot drift from what the edge does.
 */

/** Only what the edge relies on; every other field passes through untouched to CreditsService. */
export const stripeEventEnvelope = z
  .looseObject({
    id: z.string().min(1).describe('The Stripe event id (evt_…): the idempotency key of the delivery.'),
    type: z.string().min(1).describe('The event type, e.g. checkout.session.completed. Every type is accepted; unhandled ones are stored as ignored.'),
    data: z.looseObject({
      object: z
        .looseObject({})
        .describe(
          'The Stripe object the event is about. For checkout.session.* events a Checkout Session: id, status, payment_status, mode, client_reference_id, customer, customer_details.email, customer_email, metadata, amount_total, currency, payment_intent are read.',
        ),
    }),
  })
  .describe('A Stripe event, exactly as Stripe sends it (https://docs.stripe.com/api/events/object). Other fields are kept and stored for audit and replay.');

export const WEBHOOK_OUTCOMES = ['applied', 'duplicate', 'payment_pending', 'payment_failed', 'ignored', 'rejected'] as const;

export const webhookOutcome = z.enum(WEBHOOK_OUTCOMES).describe('What CreditsService did with the event, after it was committed.');

export const webhookReceivedBody = z
  .object({
    received: z.literal(true),
    outcome: webhookOutcome,
    creditsGranted: z.number().int().min(0).describe('Credits added by this delivery (0 unless applied).'),
    reason: z.string().min(1).optional().describe('Why, for duplicate, ignored and rejected outcomes (e.g. credits_unknown, user_unresolved).'),
  })
  .describe('The event was recorded; Stripe need not deliver it again.');

export const errorBody = z
  .object({
    error: z.object({
      code: z.string().min(1).describe('A stable code to act on: one of the edge codes, a CreditsService credits-error-code, UNAVAILABLE, INTERNAL or NOT_READY.'),
      message: z.string().describe('What was wrong (4xx); a generic text for 5xx, whose details are in the logs.'),
    }),
  })
  .describe('Every error answer of the edge.');

export const livenessBody = z.object({ status: z.literal('alive') }).describe('The process runs.');

export const readinessBody = z.object({ status: z.literal('ready') }).describe('CreditsService answers SERVING.');

export type StripeEventEnvelope = z.infer<typeof stripeEventEnvelope>;
export type WebhookOutcome = z.infer<typeof webhookOutcome>;
export type WebhookReceivedBody = z.infer<typeof webhookReceivedBody>;
export type ErrorBody = z.infer<typeof errorBody>;
