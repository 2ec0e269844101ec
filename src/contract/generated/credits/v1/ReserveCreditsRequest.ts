// Original file: proto/credits/v1/credits.proto

import type { Long } from '@grpc/proto-loader';

export interface ReserveCreditsRequest {
  'identifier'?: (string);
  'amount'?: (number | string | Long);
  'idempotency_key'?: (string);
  'description'?: (string);
  'ttl_seconds'?: (number);
  'metadata'?: ({[key: string]: string});
}

export interface ReserveCreditsRequest__Output {
  'identifier': (string);
  'amount': (string);
  'idempotency_key': (string);
  'description': (string);
  'ttl_seconds': (number);
  'metadata': ({[key: string]: string});
}
