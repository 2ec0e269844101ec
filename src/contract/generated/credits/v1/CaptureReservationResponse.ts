// Original file: proto/credits/v1/credits.proto

import type { Transaction as _credits_v1_Transaction, Transaction__Output as _credits_v1_Transaction__Output } from '../../credits/v1/Transaction';
import type { Long } from '@grpc/proto-loader';

export interface CaptureReservationResponse {
  'transaction'?: (_credits_v1_Transaction | null);
  'balance_after'?: (number | string | Long);
  'replayed'?: (boolean);
}

export interface CaptureReservationResponse__Output {
  'transaction': (_credits_v1_Transaction__Output | null);
  'balance_after': (string);
  'replayed': (boolean);
}
