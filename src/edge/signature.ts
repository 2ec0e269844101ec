import { decodeStripeEvent, StripeEventInvalid, type StripeEvent } from '../contract/stripe-event.js';
import { checkStripeSignature } from '../contract/stripe-signature.js';
import { WebhookError } from './errors.js';

export interface VerifyOptions {
  /** Every secret currently valid; during a rotation Stripe signs with old and new. */
  secrets: readonly string[];
  toleranceSeconds: number;
  /** E2E_TEST_MODE: an event without a Stripe-Signature header is accepted unverified. */
  acceptUnsigned: boolean;
}

export interface VerifiedEvent {
  event: StripeEvent;
  signed: boolean;
}

function verifySignature(rawBody: Buffer, header: string, options: VerifyOptions): void {
  const check = checkStripeSignature(rawBody, header, options.secrets, options.toleranceSeconds);
  if (check === 'valid') return;
  if (check === 'stale') {
    throw new WebhookError('SIGNATURE_EXPIRED', `signature timestamp is older than ${options.toleranceSeconds} s`);
  }
  throw new WebhookError('SIGNATURE_INVALID', 'no Stripe-Signature value matches the body with a configured secret');
}

/** Checks the Stripe-Signature of the raw bytes, then decodes them as the one Stripe event shape; every failure is a 400. */
export function verifyStripeEvent(rawBody: Buffer, header: string | undefined, options: VerifyOptions): VerifiedEvent {
  // In E2E mode a signed event is still verified when a secret is configured; otherwise nothing can check it.
  const signed = Boolean(header) && options.secrets.length > 0;
  if (signed) verifySignature(rawBody, header as string, options);
  else if (!options.acceptUnsigned) throw new WebhookError('SIGNATURE_MISSING', 'Stripe-Signature header missing');
  const json = rawBody.toString('utf8');
  try {
    return { event: decodeStripeEvent(json), signed };
  } catch (error) {
    if (!(error instanceof StripeEventInvalid)) throw error;
    if (error.kind === 'not_json') throw new WebhookError('BODY_NOT_JSON', 'body is not JSON');
    if (error.kind === 'not_an_event') throw new WebhookError('BODY_NOT_EVENT', error.message);
    // The same code CreditsService gives such an event: it could never be stored.
    throw new WebhookError('REQUEST_INVALID', error.message);
  }
}
