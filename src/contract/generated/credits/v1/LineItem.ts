// Original file: proto/credits/v1/credits.proto

import type { Long } from '@grpc/proto-loader';

export interface LineItem {
  'price_id'?: (string);
  'quantity'?: (number | string | Long);
}

export interface LineItem__Output {
  'price_id': (string);
  'quantity': (string);
}
