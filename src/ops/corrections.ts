import type { CorrectionResult } from '../credits/corrections.js';

export function formatCorrection(result: CorrectionResult): string {
  const verb = result.kind === 'grant' ? 'Granted' : 'Revoked';
  return [
    `${verb} ${result.credits} credits ${result.kind === 'grant' ? 'to' : 'from'} user ${result.user.id} (${result.user.uuid})`,
    `  balance: ${result.balanceBefore} -> ${result.balanceAfter}`,
    `  ledger entry: ${result.ledgerEntryId} (${result.kind}) by ${result.operator}, reason: ${result.reason}`,
  ].join('\n');
}
