// Original file: proto/credits/v1/credits.proto

import type { Long } from '@grpc/proto-loader';

export interface User {
  'id'?: (string);
  'legacy_id'?: (number | string | Long);
  'email'?: (string);
  'credits_balance'?: (number | string | Long);
}

export interface User__Output {
  'id': (string);
  'legacy_id': (string);
  'email': (string);
  'credits_balance': (string);
}
