// Original file: proto/credits/v1/credits.proto

import type { Long } from '@grpc/proto-loader';

export interface GetBalanceResponse {
  'user_id'?: (string);
  'balance'?: (number | string | Long);
  'held'?: (number | string | Long);
  'available'?: (number | string | Long);
}

export interface GetBalanceResponse__Output {
  'user_id': (string);
  'balance': (string);
  'held': (string);
  'available': (string);
}
