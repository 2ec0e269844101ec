import { correctionCommand } from './correction.js';

export const grantCommand = correctionCommand('grant', 'add credits to a user by hand, as a ledger entry with a reason');
