/**
 * Every failure CreditsService reports, with its stable code and the kind of failure it is. The
 * codes travel to callers in the `credits-error-code` trailing metadata and are listed in
 * docs/grpc-api.md; never rename one.
 */
export const ERROR_CODES = {
  IDENTIFIER_PLACEHOLDER: 'invalid_argument',
  IDENTIFIER_INVALID: 'invalid_argument',
  REQUEST_INVALID: 'invalid_argument',
  USER_NOT_FOUND: 'not_found',
  INSUFFICIENT_CREDITS: 'failed_precondition',
  IDEMPOTENCY_KEY_REUSED: 'already_exists',
  RESERVATION_NOT_FOUND: 'not_found',
  RESERVATION_RELEASED: 'failed_precondition',
  RESERVATION_EXPIRED: 'failed_precondition',
  RESERVATION_CAPTURED: 'failed_precondition',
  AUTH_TOKEN_MISSING: 'unauthenticated',
  AUTH_TOKEN_INVALID: 'unauthenticated',
  SCOPE_MISSING: 'permission_denied',
  STRIPE_SIGNATURE_INVALID: 'permission_denied',
  REQUEST_TOO_LARGE: 'resource_exhausted',
  DATABASE_UNAVAILABLE: 'unavailable',
  SHUTTING_DOWN: 'unavailable',
  TRANSACTION_CONFLICT: 'aborted',
  DEADLINE_EXCEEDED: 'deadline_exceeded',
  INTERNAL: 'internal',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;
export type ErrorKind = (typeof ERROR_CODES)[ErrorCode];

/** Trailing metadata key carrying the stable error code of a failed call. */
export const ERROR_CODE_METADATA_KEY = 'credits-error-code';
/** Request metadata key the edge sets to the Stripe event id, so both sides log the same id. */
export const STRIPE_EVENT_METADATA_KEY = 'stripe-event-id';
