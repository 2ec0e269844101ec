/**
 * Failures the edge decides by itself, before or around the CreditsService call. The codes
 * appear in error bodies (`{ error: { code, message } }`) and are listed in docs/webhook.md.
 */
export type WebhookErrorCode =
  | 'SIGNATURE_MISSING'
  | 'SIGNATURE_INVALID'
  | 'SIGNATURE_EXPIRED'
  | 'BODY_NOT_JSON'
  | 'BODY_NOT_EVENT'
  | 'REQUEST_INVALID'
  | 'BODY_TOO_LARGE'
  | 'BODY_UNREADABLE'
  | 'NOT_FOUND'
  | 'STRIPE_API_UNAVAILABLE';

/** Its message is shown to the caller for 4xx answers, so it never carries personal data. */
export class WebhookError extends Error {
  override name = 'WebhookError';

  constructor(
    readonly code: WebhookErrorCode,
    message: string,
  ) {
    super(message);
  }
}
