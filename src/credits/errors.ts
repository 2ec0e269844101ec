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

/** Reasons a refund or dispute cannot be applied as sent; stored with the failed event and replayable. */
export type ReversalRejectionReason =
  | 'charge_lookup_unavailable'
  | 'charge_lookup_failed'
  | 'charge_amount_unknown'
  | 'refund_amount_unknown'
  | 'dispute_amount_unknown'
  | 'purchase_amount_unknown';

/** An event that cannot be applied as sent: stored as failed with its reason, in a transaction of its own. */
export class StripeEventRejected extends Error {
  override name = 'StripeEventRejected';

  constructor(
    readonly reason: RejectionReason | ReversalRejectionReason,
    readonly detail: string,
  ) {
    super(`${reason}: ${detail}`);
  }
}

export class CheckoutRejected extends StripeEventRejected {
  override name = 'CheckoutRejected';

  constructor(
    override readonly reason: RejectionReason,
    detail: string,
  ) {
    super(reason, detail);
  }
}

export class ReversalRejected extends StripeEventRejected {
  override name = 'ReversalRejected';

  constructor(
    override readonly reason: ReversalRejectionReason,
    detail: string,
  ) {
    super(reason, detail);
  }
}

/** The Stripe API could not say what a charge is (ChargeLookup); its message is safe to store. */
export class ChargeLookupFailed extends Error {
  override name = 'ChargeLookupFailed';
}
