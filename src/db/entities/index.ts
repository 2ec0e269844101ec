import { CreditReservation } from './credit-reservation.js';
import { CreditTransaction } from './credit-transaction.js';
import { StripeEvent } from './stripe-event.js';
import { User } from './user.js';

export { CreditReservation, CreditTransaction, StripeEvent, User };

export const entities = [User, StripeEvent, CreditTransaction, CreditReservation];
