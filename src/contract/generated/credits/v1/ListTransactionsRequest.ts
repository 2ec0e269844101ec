// Original file: proto/credits/v1/credits.proto


export interface ListTransactionsRequest {
  'identifier'?: (string);
  'page_size'?: (number);
  'page_token'?: (string);
}

export interface ListTransactionsRequest__Output {
  'identifier': (string);
  'page_size': (number);
  'page_token': (string);
}
