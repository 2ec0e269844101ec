// Original file: proto/credits/v1/credits.proto

import type { ApplyCheckoutOutcome as _credits_v1_ApplyCheckoutOutcome, ApplyCheckoutOutcome__Output as _credits_v1_ApplyCheckoutOutcome__Output } from '../../credits/v1/ApplyCheckoutOutcome';
import type { User as _credits_v1_User, User__Output as _credits_v1_User__Output } from '../../credits/v1/User';
import type { Long } from '@grpc/proto-loader';

export interface ApplyCheckoutResponse {
  'outcome'?: (_credits_v1_ApplyCheckoutOutcome);
  'user'?: (_credits_v1_User | null);
  'credits_granted'?: (number | string | Long);
  'balance_after'?: (number | string | Long);
  'reason'?: (string);
}

export interface ApplyCheckoutResponse__Output {
  'outcome': (_credits_v1_ApplyCheckoutOutcome__Output);
  'user': (_credits_v1_User__Output | null);
  'credits_granted': (string);
  'balance_after': (string);
  'reason': (string);
}
