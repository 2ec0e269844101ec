import { CreditReservation } from './credit-reservation.js';
import { CreditTransaction } from './credit-transaction.js';
import { StripeCustomer } from './stripe-customer.js';
import { StripeEvent } from './stripe-event.js';
import { User } from './user.js';

export { CreditReservation, CreditTransaction, StripeCustomer, StripeEvent, User };

export const entities = [User, StripeCustomer, StripeEvent, CreditTransaction, CreditReservation];
