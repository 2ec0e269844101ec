import type { RequestHandler } from 'express';
import { applyCheckoutRequest } from '../contract/apply-checkout.js';
import { applyStripeEventRequest } from '../contract/apply-stripe-event.js';
import { isReversalEventType, sessionAboutToBeCredited } from '../contract/stripe-event.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { CreditsCallError, type CreditsGateway } from './credits-gateway.js';
import { WebhookError } from './errors.js';
import { answerForError, answerForResponse, answerForStripeEventResponse, type HttpAnswer } from './http-answers.js';
import type { LineItemFetcher } from './line-items.js';
import type { EdgeMetrics } from './metrics.js';
import { verifyStripeEvent } from './signature.js';

export interface WebhookDeps {
  config: Config;
  /** Every secret a signature may match (rotation); empty only in E2E_TEST_MODE. */
  webhookSecrets: readonly string[];
  logger: Logger;
  credits: CreditsGateway;
  lineItems?: LineItemFetcher;
  metrics: EdgeMetrics;
}

/** Label for requests whose event type is not known (not verified, or not an event). */
export const UNKNOWN_EVENT_TYPE = 'unknown';

export function logLevelFor(status: number): 'info' | 'warn' | 'error' {
  return status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
}

/**
 * Verifies, decodes and hands the event to CreditsService; every event type goes there, so
 * the ones nobody handles are still recorded (as ignored): refunds and disputes through
 * ApplyStripeEvent, everything else through ApplyCheckout. Ends with exactly one log line.
 */
export function stripeWebhookHandler(deps: WebhookDeps): RequestHandler {
  const verifyOptions = {
    secrets: deps.webhookSecrets,
    toleranceSeconds: deps.config.stripe.toleranceSeconds,
    acceptUnsigned: deps.config.e2eTestMode,
  };
  return async (req, res) => {
    const started = process.hrtime.bigint();
    let logger = deps.logger;
    let eventType = UNKNOWN_EVENT_TYPE;
    let answer: HttpAnswer;
    let failure: Record<string, unknown> | undefined;
    try {
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const signature = req.get('stripe-signature');
      const { event } = verifyStripeEvent(body, signature, verifyOptions);
      eventType = event.type;
      logger = deps.logger.child({ stripeEventId: event.id });
      const context = { eventId: event.id, logger };
      if (isReversalEventType(event.type)) {
        // The raw body as received, and its signature, which CreditsService may verify again.
        const request = applyStripeEventRequest(event, signature ?? '');
        answer = answerForStripeEventResponse(await deps.credits.applyStripeEvent(request, context));
      } else {
        const sessionId = sessionAboutToBeCredited(event);
        const lineItems = deps.lineItems && sessionId ? await deps.lineItems(sessionId, logger) : [];
        // The signature travels on, so CreditsService can check for itself that Stripe sent this.
        const request = applyCheckoutRequest({ ...event, lineItems }, signature);
        answer = answerForResponse(await deps.credits.applyCheckout(request, context));
      }
    } catch (error) {
      answer = answerForError(error);
      // The edge's own rejections say all in their code; anything else gets its details logged (never the body or headers).
      if (error instanceof CreditsCallError) failure = { credits: { grpcCode: error.grpcCode, errorCode: error.creditsCode, details: error.message } };
      else if (!(error instanceof WebhookError)) failure = { err: error };
    }
    res.status(answer.status).json(answer.body);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    deps.metrics.webhooks.inc({ event_type: eventType, outcome: answer.outcome, status: String(answer.status) });
    logger[logLevelFor(answer.status)](
      {
        eventType,
        outcome: answer.outcome,
        status: answer.status,
        durationMs: Math.round(seconds * 1e4) / 10,
        ...failure,
      },
      'stripe webhook',
    );
  };
}
