// Original file: proto/credits/v1/credits.proto

import type { Long } from '@grpc/proto-loader';

export interface SpendCreditsRequest {
  'identifier'?: (string);
  'amount'?: (number | string | Long);
  'idempotency_key'?: (string);
  'description'?: (string);
  'metadata'?: ({[key: string]: string});
}

export interface SpendCreditsRequest__Output {
  'identifier': (string);
  'amount': (string);
  'idempotency_key': (string);
  'description': (string);
  'metadata': ({[key: string]: string});
}
