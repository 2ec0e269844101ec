// Original file: proto/credits/v1/credits.proto

import type { TransactionKind as _credits_v1_TransactionKind, TransactionKind__Output as _credits_v1_TransactionKind__Output } from '../../credits/v1/TransactionKind';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';
import type { Long } from '@grpc/proto-loader';

export interface Transaction {
  'id'?: (string);
  'user_id'?: (string);
  'kind'?: (_credits_v1_TransactionKind);
  'amount'?: (number | string | Long);
  'balance_after'?: (number | string | Long);
  'create_time'?: (_google_protobuf_Timestamp | null);
  'description'?: (string);
  'reference'?: (string);
  'metadata'?: ({[key: string]: string});
  'created_by'?: (string);
  'shortfall'?: (number | string | Long);
}

export interface Transaction__Output {
  'id': (string);
  'user_id': (string);
  'kind': (_credits_v1_TransactionKind__Output);
  'amount': (string);
  'balance_after': (string);
  'create_time': (_google_protobuf_Timestamp__Output | null);
  'description': (string);
  'reference': (string);
  'metadata': ({[key: string]: string});
  'created_by': (string);
  'shortfall': (string);
}
