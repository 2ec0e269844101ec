import { revokeCredits } from '../../ops/revoke';
import { correctionCommand } from './correction';

export const revokeCommand = correctionCommand('revoke', 'take credits from a user by hand; never below zero', revokeCredits);
