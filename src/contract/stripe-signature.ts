import Stripe from 'stripe';

/** How a Stripe-Signature header compares with a body: one of the secrets signed it recently, long ago, or none did. */
export type SignatureCheck = 'valid' | 'stale' | 'invalid';

const signature = Stripe.webhooks.signature;

/**
 * Checks a Stripe-Signature header against the exact body, with every secret currently valid
 * (rotation). The edge checks what Stripe sent; CreditsService checks what the edge forwards.
 */
export function checkStripeSignature(body: string | Buffer, header: string, secrets: readonly string[], toleranceSeconds: number): SignatureCheck {
  if (!signature) throw new Error('the stripe package has no webhook signature helper on this platform');
  let stale = false;
  for (const secret of secrets) {
    try {
      signature.verifyHeader(body, header, secret, toleranceSeconds);
      return 'valid';
    } catch (error) {
      if (!(error instanceof Stripe.errors.StripeSignatureVerificationError)) throw error;
      // Stripe checks the timestamp only after a signature matched: this secret signed it, but long ago.
      if (/tolerance/i.test(error.message)) stale = true;
    }
  }
  return stale ? 'stale' : 'invalid';
}
