// Original file: proto/credits/v1/credits.proto

import type { Reservation as _credits_v1_Reservation, Reservation__Output as _credits_v1_Reservation__Output } from '../../credits/v1/Reservation';
import type { Long } from '@grpc/proto-loader';

export interface ReleaseReservationResponse {
  'reservation'?: (_credits_v1_Reservation | null);
  'available_after'?: (number | string | Long);
  'replayed'?: (boolean);
}

export interface ReleaseReservationResponse__Output {
  'reservation': (_credits_v1_Reservation__Output | null);
  'available_after': (string);
  'replayed': (boolean);
}
