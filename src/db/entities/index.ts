export { User } from './user';
export { StripeEvent, EVENT_STATUSES, type EventStatus } from './stripe-event';
export { CreditTransaction, LEDGER_KINDS, type LedgerKind } from './credit-transaction';

import { CreditTransaction } from './credit-transaction';
import { StripeEvent } from './stripe-event';
import { User } from './user';

export const entities = [User, StripeEvent, CreditTransaction];
