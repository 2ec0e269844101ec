// Original file: proto/credits/v1/credits.proto

import type { LineItem as _credits_v1_LineItem, LineItem__Output as _credits_v1_LineItem__Output } from '../../credits/v1/LineItem';

export interface ApplyStripeEventRequest {
  'event_json'?: (string);
  'stripe_signature'?: (string);
  'line_items'?: (_credits_v1_LineItem)[];
}

export interface ApplyStripeEventRequest__Output {
  'event_json': (string);
  'stripe_signature': (string);
  'line_items': (_credits_v1_LineItem__Output)[];
}
