// Original file: proto/credits/v1/credits.proto

import type { CheckoutSession as _credits_v1_CheckoutSession, CheckoutSession__Output as _credits_v1_CheckoutSession__Output } from '../../credits/v1/CheckoutSession';
import type { LineItem as _credits_v1_LineItem, LineItem__Output as _credits_v1_LineItem__Output } from '../../credits/v1/LineItem';

export interface ApplyCheckoutRequest {
  'event_id'?: (string);
  'event_type'?: (string);
  'session'?: (_credits_v1_CheckoutSession | null);
  'line_items'?: (_credits_v1_LineItem)[];
  'event_json'?: (string);
  'stripe_signature'?: (string);
}

export interface ApplyCheckoutRequest__Output {
  'event_id': (string);
  'event_type': (string);
  'session': (_credits_v1_CheckoutSession__Output | null);
  'line_items': (_credits_v1_LineItem__Output)[];
  'event_json': (string);
  'stripe_signature': (string);
}
