import { CreditsError } from './errors.js';
import type { CreditsStore } from './ports.js';
import { resolveUser } from './users.js';

export interface CorrectionRequest {
  /** An email, a UUID or an integer id, as ResolveUser takes it. */
  user: string;
  credits: number;
  reason: string;
  /** Who made the correction; stored on the ledger row. */
  operator: string;
}

export interface CorrectionResult {
  kind: 'grant' | 'revoke';
  user: { id: string; uuid: string };
  credits: number;
  balanceBefore: string;
  balanceAfter: string;
  ledgerEntryId: string;
  reason: string;
  operator: string;
}

export const MAX_REASON_LENGTH = 500;
export const MAX_OPERATOR_LENGTH = 100;

function assertValid({ credits, reason, operator }: CorrectionRequest): void {
  if (!Number.isSafeInteger(credits) || credits < 1) throw new RangeError('credits must be a positive integer');
  if (reason.trim() === '' || reason.length > MAX_REASON_LENGTH) throw new RangeError(`reason must be 1..${MAX_REASON_LENGTH} characters`);
  if (operator.trim() === '' || operator.length > MAX_OPERATOR_LENGTH) throw new RangeError(`operator must be 1..${MAX_OPERATOR_LENGTH} characters`);
}

/**
 * A support correction (grant adds, revoke takes) is a ledger row plus the balance, in one
 * transaction with the user's row locked, so two corrections queue and a revoke never takes more
 * than the available credits (the balance less what reservations hold).
 */
export async function correctBalance(store: CreditsStore, kind: 'grant' | 'revoke', request: CorrectionRequest): Promise<CorrectionResult> {
  assertValid(request);
  const amount = kind === 'grant' ? request.credits : -request.credits;
  const reason = request.reason.trim();
  const operator = request.operator.trim();
  return store.transaction(async (uow) => {
    const { user } = await resolveUser(uow.users, request.user);
    const before = await uow.users.lockBalance(user.id);
    // A revoke takes only available credits: credits held by a reservation are promised to its capture.
    const held = kind === 'revoke' ? await uow.reservations.heldFor(user.id) : 0n;
    if (before - held + BigInt(amount) < 0n) {
      const has = held > 0n ? `${before - held} credits available (${before} owned, ${held} held by reservations)` : `${before} credits`;
      throw new CreditsError('INSUFFICIENT_CREDITS', `revoke refused: user ${user.id} (${user.uuid}) has ${has}, fewer than ${request.credits}; nothing was written`);
    }
    const posted = await uow.ledger.post({ userId: user.id, kind, amount, reason, createdBy: operator });
    if (!posted) throw new Error('a correction has no unique reference, so it cannot be a duplicate');
    return {
      kind,
      user: { id: user.id, uuid: user.uuid },
      credits: request.credits,
      balanceBefore: before.toString(),
      balanceAfter: posted.user.creditsBalance,
      ledgerEntryId: posted.entryId,
      reason,
      operator,
    };
  });
}
