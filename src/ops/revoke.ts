import type { EntityManager } from '../db/orm';
import { correctBalance, type CorrectionRequest, type CorrectionResult } from './manual-correction';

/** Takes credits back by hand (a refund, a mistaken grant): a `revoke` ledger row; never below zero. */
export function revokeCredits(em: EntityManager, request: CorrectionRequest): Promise<CorrectionResult> {
  return correctBalance(em, 'revoke', request);
}
