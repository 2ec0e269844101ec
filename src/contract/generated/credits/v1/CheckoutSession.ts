// Original file: proto/credits/v1/credits.proto

import type { CustomerDetails as _credits_v1_CustomerDetails, CustomerDetails__Output as _credits_v1_CustomerDetails__Output } from '../../credits/v1/CustomerDetails';
import type { Long } from '@grpc/proto-loader';

export interface CheckoutSession {
  'id'?: (string);
  'status'?: (string);
  'payment_status'?: (string);
  'mode'?: (string);
  'client_reference_id'?: (string);
  'customer'?: (string);
  'customer_details'?: (_credits_v1_CustomerDetails | null);
  'customer_email'?: (string);
  'metadata'?: ({[key: string]: string});
  'amount_total'?: (number | string | Long);
  'currency'?: (string);
  'payment_intent'?: (string);
}

export interface CheckoutSession__Output {
  'id': (string);
  'status': (string);
  'payment_status': (string);
  'mode': (string);
  'client_reference_id': (string);
  'customer': (string);
  'customer_details': (_credits_v1_CustomerDetails__Output | null);
  'customer_email': (string);
  'metadata': ({[key: string]: string});
  'amount_total': (string);
  'currency': (string);
  'payment_intent': (string);
}
