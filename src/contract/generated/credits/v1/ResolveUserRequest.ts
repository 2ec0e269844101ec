// Original file: proto/credits/v1/credits.proto


export interface ResolveUserRequest {
  'identifier'?: (string);
}

export interface ResolveUserRequest__Output {
  'identifier': (string);
}
