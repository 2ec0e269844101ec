import Stripe from 'stripe';

/** What one Stripe API call was doing when it failed; names the method of StripeApi. */
export type StripeApiOperation = 'listLineItems' | 'listEvents' | 'retrieveCharge';

export interface StripeApiErrorDetails {
  operation: StripeApiOperation;
  /**
   * Stripe's error type from the answer's body (`api_error`, `invalid_request_error`, …), or
   * `api_connection_error` when no answer came, `timeout` when none came in time.
   */
  type: string;
  /** HTTP status of Stripe's answer; undefined when there was none. */
  status?: number;
  /** Stripe's error code (`resource_missing`, `rate_limit`, …) when it gave one. */
  code?: string;
  /** Stripe's `Request-Id`, to quote to Stripe support. */
  requestId?: string;
  /** Stripe's own message, with anything shaped like an API key removed. */
  stripeMessage?: string;
}

/**
 * A Stripe API call that failed. Its message and fields never carry the API key: nothing of the
 * request is kept, the Stripe client's error is not attached as `cause`, and Stripe's own message
 * (which can quote part of a key, e.g. "Invalid API Key provided: sk_test_****1234") is redacted.
 */
export abstract class StripeApiError extends Error {
  readonly operation: StripeApiOperation;
  readonly type: string;
  readonly status: number | undefined;
  readonly code: string | undefined;
  readonly requestId: string | undefined;

  constructor(details: StripeApiErrorDetails, summary: string) {
    const answer = details.status === undefined ? details.type : `${details.status} ${details.type}`;
    const code = details.code ? ` (${details.code})` : '';
    const said = details.stripeMessage ? `: ${details.stripeMessage}` : '';
    super(`Stripe API ${details.operation} ${summary}: ${answer}${code}${said}`);
    this.operation = details.operation;
    this.type = details.type;
    this.status = details.status;
    this.code = details.code;
    this.requestId = details.requestId;
  }
}

/**
 * Stripe did not answer, or kept answering 409, 429 or 5xx, after the retries allowed: the same
 * call can succeed later, so callers retry at their own pace (a webhook answers 503, a
 * reconciliation waits for its next run).
 */
export class StripeApiUnavailable extends StripeApiError {
  override name = 'StripeApiUnavailable';

  constructor(details: StripeApiErrorDetails) {
    super(details, 'unavailable');
  }
}

/**
 * Stripe refused the call (400, 401, 402, 403, 404): asking again the same way gives the same
 * answer. A 401 or 403 means STRIPE_SECRET_KEY is wrong or lacks a permission.
 */
export class StripeApiRejected extends StripeApiError {
  override name = 'StripeApiRejected';

  constructor(details: StripeApiErrorDetails) {
    super(details, 'rejected');
  }
}

// Secret (sk_), restricted (rk_) and publishable (pk_) keys, whole or partly masked by Stripe.
const KEY_SHAPED = /\b[srp]k_(?:test|live)_[A-Za-z0-9_*]*/g;

/** Removes `secretKey` and anything shaped like a Stripe API key from `text`. */
export function redactKeys(text: string, secretKey: string): string {
  const withoutKey = secretKey ? text.split(secretKey).join('[redacted]') : text;
  return withoutKey.replace(KEY_SHAPED, '[redacted]');
}

const RETRYABLE_STATUS = (status: number) => status === 409 || status === 429 || status >= 500;

/** Turns whatever the Stripe client threw into a StripeApiUnavailable or a StripeApiRejected. */
export function toStripeApiError(operation: StripeApiOperation, error: unknown, secretKey: string): StripeApiError {
  if (error instanceof StripeApiError) return error;
  if (!(error instanceof Stripe.errors.StripeError)) {
    // Not from the Stripe client (a bug of ours, or of the client): its message is not shown.
    return new StripeApiUnavailable({ operation, type: 'unexpected_error' });
  }
  const requestId = typeof error.requestId === 'string' ? error.requestId : undefined;
  if (error instanceof Stripe.errors.StripeConnectionError || error.statusCode === undefined) {
    const detail = error.detail as { code?: unknown } | undefined;
    const type = detail?.code === 'ETIMEDOUT' ? 'timeout' : error instanceof Stripe.errors.StripeConnectionError ? 'api_connection_error' : 'api_error';
    return new StripeApiUnavailable({ operation, type, requestId });
  }
  const details: StripeApiErrorDetails = {
    operation,
    type: error.rawType ?? 'api_error',
    status: error.statusCode,
    code: error.code,
    requestId,
    stripeMessage: error.message ? redactKeys(error.message, secretKey) : undefined,
  };
  return RETRYABLE_STATUS(error.statusCode) ? new StripeApiUnavailable(details) : new StripeApiRejected(details);
}
