import { grantCredits } from '../../ops/grant';
import { correctionCommand } from './correction';

export const grantCommand = correctionCommand('grant', 'add credits to a user by hand, as a ledger entry with a reason', grantCredits);
