import { status as grpcStatus } from '@grpc/grpc-js';
import { outcomeFromProto } from '../contract/apply-checkout.js';
import { stripeEventOutcomeFromProto } from '../contract/apply-stripe-event.js';
import type { ApplyCheckoutResponse__Output } from '../contract/generated/credits/v1/ApplyCheckoutResponse.js';
import type { ApplyStripeEventResponse__Output } from '../contract/generated/credits/v1/ApplyStripeEventResponse.js';
import { CreditsCallError } from './credits-gateway.js';
import { WebhookError, type WebhookErrorCode } from './errors.js';
import type { ErrorBody, WebhookReceivedBody } from './webhook-schemas.js';

/**
 * The one mapping from what happened to what Stripe is answered (DESIGN.md, status mapping).
 * 2xx only for an outcome CreditsService committed; every transient fault is a 503 so Stripe retries.
 */
export interface HttpAnswer {
  status: number;
  body: WebhookReceivedBody | ErrorBody;
  /** For the request's log line and metrics: the outcome, or the precise reason of a failure. */
  outcome: string;
}

export const WEBHOOK_ERROR_STATUS: Record<WebhookErrorCode, number> = {
  SIGNATURE_MISSING: 400,
  SIGNATURE_INVALID: 400,
  SIGNATURE_EXPIRED: 400,
  BODY_NOT_JSON: 400,
  BODY_NOT_EVENT: 400,
  REQUEST_INVALID: 400,
  BODY_TOO_LARGE: 413,
  BODY_UNREADABLE: 400,
  NOT_FOUND: 404,
  STRIPE_API_UNAVAILABLE: 503,
};

/** gRPC codes with a status of their own; every other code (UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED, INTERNAL, ...) is a 503. */
const CREDITS_ERROR_STATUS: Partial<Record<grpcStatus, number>> = {
  [grpcStatus.INVALID_ARGUMENT]: 400,
  // The edge's token or configuration is wrong: an operator must act, Stripe keeps retrying meanwhile.
  [grpcStatus.UNAUTHENTICATED]: 500,
  // The edge's token lacks stripe:apply: the same operator mistake.
  [grpcStatus.PERMISSION_DENIED]: 500,
};

const GENERIC_MESSAGE: Record<number, string> = {
  500: 'internal error; the event will be retried',
  503: 'temporarily unavailable; the event will be retried',
};

function errorAnswer(status: number, code: string, message: string, outcome: string): HttpAnswer {
  if (status >= 500) {
    // Details stay in the logs; the caller learns only that it should retry.
    return { status, body: { error: { code: status === 503 ? 'UNAVAILABLE' : 'INTERNAL', message: GENERIC_MESSAGE[status] ?? 'internal error' } }, outcome };
  }
  return { status, body: { error: { code, message } }, outcome };
}

export function answerForResponse(response: ApplyCheckoutResponse__Output): HttpAnswer {
  const outcome = outcomeFromProto(response.outcome);
  if (!outcome) {
    // An outcome this edge does not know cannot be confirmed to Stripe; a redelivery will ask again.
    return errorAnswer(503, 'UNAVAILABLE', '', `unknown_outcome_${response.outcome.toLowerCase()}`);
  }
  const body: WebhookReceivedBody = { received: true, outcome, creditsGranted: Number(response.credits_granted) };
  if (response.reason) body.reason = response.reason;
  return { status: 200, body, outcome };
}

/** A refund's or dispute's answer: the same, with the credits it took back, gave back, or could not take. */
export function answerForStripeEventResponse(response: ApplyStripeEventResponse__Output): HttpAnswer {
  const outcome = stripeEventOutcomeFromProto(response.outcome);
  if (!outcome) return errorAnswer(503, 'UNAVAILABLE', '', `unknown_outcome_${response.outcome.toLowerCase()}`);
  const body: WebhookReceivedBody = {
    received: true,
    outcome,
    creditsGranted: Number(response.credits_granted),
    creditsReversed: Number(response.credits_reversed),
    creditsRestored: Number(response.credits_restored),
    shortfall: Number(response.shortfall),
  };
  if (response.reason) body.reason = response.reason;
  return { status: 200, body, outcome };
}

interface BodyParserError {
  type: string;
  status: number;
}

function isBodyParserError(error: unknown): error is BodyParserError {
  const candidate = error as Partial<BodyParserError> | null;
  return typeof candidate?.type === 'string' && typeof candidate.status === 'number';
}

export function answerForError(error: unknown): HttpAnswer {
  if (error instanceof WebhookError) {
    return errorAnswer(WEBHOOK_ERROR_STATUS[error.code], error.code, error.message, error.code.toLowerCase());
  }
  if (error instanceof CreditsCallError) {
    const status = CREDITS_ERROR_STATUS[error.grpcCode] ?? 503;
    const code = error.creditsCode ?? grpcStatus[error.grpcCode] ?? 'UNKNOWN';
    return errorAnswer(status, code, error.message, `credits_${String(grpcStatus[error.grpcCode] ?? error.grpcCode).toLowerCase()}`);
  }
  if (isBodyParserError(error)) {
    if (error.type === 'entity.too.large') return answerForError(new WebhookError('BODY_TOO_LARGE', 'body exceeds 1 MiB'));
    if (error.status >= 400 && error.status < 500) {
      return errorAnswer(error.status, 'BODY_UNREADABLE', 'the request body could not be read', 'body_unreadable');
    }
  }
  return errorAnswer(500, 'INTERNAL', '', 'internal_error');
}
