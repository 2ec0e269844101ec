import Stripe from 'stripe';
import { WebhookError } from './errors';
import { stripeEventEnvelope, type StripeEventEnvelope } from './webhook-schemas';

export interface VerifyOptions {
  /** Every secret currently valid; during a rotation Stripe signs with old and new. */
  secrets: readonly string[];
  toleranceSeconds: number;
  /** E2E_TEST_MODE: an event without a Stripe-Signature header is accepted unverified. */
  acceptUnsigned: boolean;
}

export interface VerifiedEvent {
  event: StripeEventEnvelope;
  /** The body exactly as received: stored by CreditsService for audit and replay. */
  rawJson: string;
  signed: boolean;
}

const signature = Stripe.webhooks.signature;

function verifySignature(rawBody: Buffer, header: string, options: VerifyOptions): void {
  if (!signature) throw new Error('the stripe package has no webhook signature helper on this platform');
  let stale = false;
  for (const secret of options.secrets) {
    try {
      signature.verifyHeader(rawBody, header, secret, options.toleranceSeconds);
      return;
    } catch (error) {
      if (!(error instanceof Stripe.errors.StripeSignatureVerificationError)) throw error;
      // Stripe checks the timestamp only after a signature matched: this secret signed it, but long ago.
      if (/tolerance/i.test(error.message)) stale = true;
    }
  }
  if (stale) {
    throw new WebhookError('SIGNATURE_EXPIRED', `signature timestamp is older than ${options.toleranceSeconds} s`);
  }
  throw new WebhookError('SIGNATURE_INVALID', 'no Stripe-Signature value matches the body with a configured secret');
}

/** Says which part of the envelope is missing; the messages are shown to the caller. */
function notAnEventMessage(path: readonly PropertyKey[]): string {
  if (path.length === 0) return 'body is not a JSON object';
  if (path[0] === 'data') return 'body is not a Stripe event: data.object required';
  return 'body is not a Stripe event: string id and type required';
}

function parseEvent(rawJson: string): VerifiedEvent['event'] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(rawJson);
  } catch {
    throw new WebhookError('BODY_NOT_JSON', 'body is not JSON');
  }
  const envelope = stripeEventEnvelope.safeParse(parsed);
  if (!envelope.success) throw new WebhookError('BODY_NOT_EVENT', notAnEventMessage(envelope.error.issues[0]?.path ?? []));
  return envelope.data;
}

/** Checks the Stripe-Signature of the raw bytes, then that they hold an event; every failure is a 400. */
export function verifyStripeEvent(rawBody: Buffer, header: string | undefined, options: VerifyOptions): VerifiedEvent {
  // In E2E mode a signed event is still verified when a secret is configured; otherwise nothing can check it.
  const signed = Boolean(header) && options.secrets.length > 0;
  if (signed) verifySignature(rawBody, header as string, options);
  else if (!options.acceptUnsigned) throw new WebhookError('SIGNATURE_MISSING', 'Stripe-Signature header missing');
  const rawJson = rawBody.toString('utf8');
  return { event: parseEvent(rawJson), rawJson, signed };
}
