/**
 * Every failure the service reports, with its stable code. The codes travel to callers in the
 * `credits-error-code` trailing metadata and are listed in the README; never rename one.
 */
export const ERROR_CODES = {
  IDENTIFIER_PLACEHOLDER: 'invalid_argument',
  IDENTIFIER_INVALID: 'invalid_argument',
  REQUEST_INVALID: 'invalid_argument',
  USER_NOT_FOUND: 'not_found',
  AUTH_TOKEN_MISSING: 'unauthenticated',
  AUTH_TOKEN_INVALID: 'unauthenticated',
  SCOPE_MISSING: 'permission_denied',
  REQUEST_TOO_LARGE: 'resource_exhausted',
  DATABASE_UNAVAILABLE: 'unavailable',
  SHUTTING_DOWN: 'unavailable',
  TRANSACTION_CONFLICT: 'aborted',
  DEADLINE_EXCEEDED: 'deadline_exceeded',
  INTERNAL: 'internal',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;
export type ErrorKind = (typeof ERROR_CODES)[ErrorCode];

/** A failure with a code a caller can act on; its message is safe to show (no personal data). */
export class CreditsError extends Error {
  override name = 'CreditsError';
  readonly kind: ErrorKind;

  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.kind = ERROR_CODES[code];
  }
}

/** Reasons a purchase cannot be credited as sent; stored with the failed event and replayable. */
export type RejectionReason = 'user_unresolved' | 'credits_unknown' | 'credits_invalid' | 'session_missing';

export class CheckoutRejected extends Error {
  override name = 'CheckoutRejected';

  constructor(
    readonly reason: RejectionReason,
    readonly detail: string,
  ) {
    super(`${reason}: ${detail}`);
  }
}
