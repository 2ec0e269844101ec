// Original file: proto/credits/v1/credits.proto

export const MatchKind = {
  MATCH_KIND_UNSPECIFIED: 'MATCH_KIND_UNSPECIFIED',
  MATCH_KIND_UUID: 'MATCH_KIND_UUID',
  MATCH_KIND_LEGACY_ID: 'MATCH_KIND_LEGACY_ID',
  MATCH_KIND_EMAIL: 'MATCH_KIND_EMAIL',
} as const;

export type MatchKind =
  | 'MATCH_KIND_UNSPECIFIED'
  | 0
  | 'MATCH_KIND_UUID'
  | 1
  | 'MATCH_KIND_LEGACY_ID'
  | 2
  | 'MATCH_KIND_EMAIL'
  | 3

export type MatchKind__Output = typeof MatchKind[keyof typeof MatchKind]
