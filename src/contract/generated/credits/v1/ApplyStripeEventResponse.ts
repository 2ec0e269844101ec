// Original file: proto/credits/v1/credits.proto

import type { ApplyStripeEventOutcome as _credits_v1_ApplyStripeEventOutcome, ApplyStripeEventOutcome__Output as _credits_v1_ApplyStripeEventOutcome__Output } from '../../credits/v1/ApplyStripeEventOutcome';
import type { User as _credits_v1_User, User__Output as _credits_v1_User__Output } from '../../credits/v1/User';
import type { Long } from '@grpc/proto-loader';

export interface ApplyStripeEventResponse {
  'outcome'?: (_credits_v1_ApplyStripeEventOutcome);
  'user'?: (_credits_v1_User | null);
  'credits_granted'?: (number | string | Long);
  'credits_reversed'?: (number | string | Long);
  'credits_restored'?: (number | string | Long);
  'balance_after'?: (number | string | Long);
  'shortfall'?: (number | string | Long);
  'reason'?: (string);
}

export interface ApplyStripeEventResponse__Output {
  'outcome': (_credits_v1_ApplyStripeEventOutcome__Output);
  'user': (_credits_v1_User__Output | null);
  'credits_granted': (string);
  'credits_reversed': (string);
  'credits_restored': (string);
  'balance_after': (string);
  'shortfall': (string);
  'reason': (string);
}
