import { correctionCommand } from './correction.js';

export const revokeCommand = correctionCommand('revoke', 'take credits from a user by hand; never below zero');
