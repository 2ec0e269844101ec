// Original file: proto/credits/v1/credits.proto


export interface CustomerDetails {
  'email'?: (string);
}

export interface CustomerDetails__Output {
  'email': (string);
}
