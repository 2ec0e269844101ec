import { ERROR_CODES, type ErrorCode, type ErrorKind } from '../contract/error-codes.js';

export type { ErrorCode, ErrorKind };

/** A failure with a code a caller can act on; its message is safe to show (no personal data). */
export class CreditsError extends Error {
  override name = 'CreditsError';
  readonly kind: ErrorKind;

  constructor(
    readonly code: ErrorCode,
    message: string,
    /** What may be logged about the cause (codes and names only, never values). */
    readonly logDetail?: Record<string, unknown>,
  ) {
    super(message);
    this.kind = ERROR_CODES[code];
  }
}

/** Reasons a purchase cannot be credited as sent; stored with the failed event and replayable. */
export type RejectionReason = 'user_unresolved' | 'credits_unknown' | 'credits_invalid' | 'balance_limit' | 'line_items_unknown';

export class CheckoutRejected extends Error {
  override name = 'CheckoutRejected';

  constructor(
    readonly reason: RejectionReason,
    readonly detail: string,
  ) {
    super(`${reason}: ${detail}`);
  }
}
