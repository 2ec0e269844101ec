// Original file: proto/credits/v1/credits.proto


export interface ReleaseReservationRequest {
  'reservation_id'?: (string);
}

export interface ReleaseReservationRequest__Output {
  'reservation_id': (string);
}
