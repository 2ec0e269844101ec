// Original file: proto/credits/v1/credits.proto

import type { Transaction as _credits_v1_Transaction, Transaction__Output as _credits_v1_Transaction__Output } from '../../credits/v1/Transaction';

export interface ListTransactionsResponse {
  'transactions'?: (_credits_v1_Transaction)[];
  'next_page_token'?: (string);
}

export interface ListTransactionsResponse__Output {
  'transactions': (_credits_v1_Transaction__Output)[];
  'next_page_token': (string);
}
