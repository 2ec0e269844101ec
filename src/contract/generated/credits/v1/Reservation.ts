// Original file: proto/credits/v1/credits.proto

import type { ReservationStatus as _credits_v1_ReservationStatus, ReservationStatus__Output as _credits_v1_ReservationStatus__Output } from '../../credits/v1/ReservationStatus';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';
import type { Long } from '@grpc/proto-loader';

export interface Reservation {
  'id'?: (string);
  'user_id'?: (string);
  'amount'?: (number | string | Long);
  'status'?: (_credits_v1_ReservationStatus);
  'expire_time'?: (_google_protobuf_Timestamp | null);
  'captured_amount'?: (number | string | Long);
  'description'?: (string);
  'metadata'?: ({[key: string]: string});
}

export interface Reservation__Output {
  'id': (string);
  'user_id': (string);
  'amount': (string);
  'status': (_credits_v1_ReservationStatus__Output);
  'expire_time': (_google_protobuf_Timestamp__Output | null);
  'captured_amount': (string);
  'description': (string);
  'metadata': ({[key: string]: string});
}
