import { z } from 'zod';
import { EVENT_OUTCOMES } from '../contract/outcomes.js';
import { stripeEventEnvelope } from '../contract/stripe-event.js';

export { stripeEventEnvelope };

/**
 * The webhook API's shapes: the edge validates and answers with these, and /openapi.json is
 * generated from them, so the published contract cannot drift from what the edge does.
 */

export const webhookOutcome = z
  .enum(EVENT_OUTCOMES)
  .describe('What CreditsService did with the event, after it was committed. purchase_pending: a refund or dispute of a purchase not credited yet, applied when it is.');

export const webhookReceivedBody = z
  .object({
    received: z.literal(true),
    outcome: webhookOutcome,
    creditsGranted: z.number().int().min(0).describe('Credits added by this delivery (0 unless applied).'),
    creditsReversed: z.number().int().min(0).optional().describe('Refunds and disputes: credits taken back by this delivery.'),
    creditsRestored: z.number().int().min(0).optional().describe('Disputes closed won: credits given back by this delivery.'),
    shortfall: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe('Refunds and disputes: credits due that could not be taken back (the user had spent them or reservations held them).'),
    reason: z
      .string()
      .min(1)
      .optional()
      .describe('Why, for duplicate, ignored, rejected and purchase_pending outcomes (e.g. credits_unknown, user_unresolved, purchase_not_credited_yet).'),
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

export type WebhookOutcome = z.infer<typeof webhookOutcome>;
export type WebhookReceivedBody = z.infer<typeof webhookReceivedBody>;
export type ErrorBody = z.infer<typeof errorBody>;
