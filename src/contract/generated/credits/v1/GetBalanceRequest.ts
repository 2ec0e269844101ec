// Original file: proto/credits/v1/credits.proto


export interface GetBalanceRequest {
  'identifier'?: (string);
}

export interface GetBalanceRequest__Output {
  'identifier': (string);
}
