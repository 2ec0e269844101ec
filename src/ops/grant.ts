import type { EntityManager } from '../db/orm';
import { correctBalance, type CorrectionRequest, type CorrectionResult } from './manual-correction';

/** Adds credits by hand (a goodwill gesture, a purchase Stripe never reported): a `grant` ledger row. */
export function grantCredits(em: EntityManager, request: CorrectionRequest): Promise<CorrectionResult> {
  return correctBalance(em, 'grant', request);
}
