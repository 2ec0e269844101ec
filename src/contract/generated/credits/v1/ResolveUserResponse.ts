// Original file: proto/credits/v1/credits.proto

import type { User as _credits_v1_User, User__Output as _credits_v1_User__Output } from '../../credits/v1/User';
import type { MatchKind as _credits_v1_MatchKind, MatchKind__Output as _credits_v1_MatchKind__Output } from '../../credits/v1/MatchKind';

export interface ResolveUserResponse {
  'user'?: (_credits_v1_User | null);
  'matched_by'?: (_credits_v1_MatchKind);
}

export interface ResolveUserResponse__Output {
  'user': (_credits_v1_User__Output | null);
  'matched_by': (_credits_v1_MatchKind__Output);
}
