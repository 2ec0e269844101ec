// Original file: proto/credits/v1/credits.proto

import type { Long } from '@grpc/proto-loader';

export interface CaptureReservationRequest {
  'reservation_id'?: (string);
  'amount'?: (number | string | Long);
}

export interface CaptureReservationRequest__Output {
  'reservation_id': (string);
  'amount': (string);
}
