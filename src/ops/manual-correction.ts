import { resolveUser, addToBalance } from '../credits/users';
import { CreditTransaction } from '../db/entities';
import { translateDatabaseErrors } from '../db/errors';
import type { EntityManager } from '../db/orm';
import { OperationRefused } from './errors';
import { sql } from '../db/sql';

export interface CorrectionRequest {
  /** An email, a UUID or an integer id, as ResolveUser takes it. */
  user: string;
  credits: number;
  reason: string;
}

export interface CorrectionResult {
  kind: 'grant' | 'revoke';
  user: { id: string; uuid: string };
  credits: number;
  balanceBefore: string;
  balanceAfter: string;
  ledgerEntryId: string;
  reason: string;
}

export const MAX_REASON_LENGTH = 500;

function assertValid({ credits, reason }: CorrectionRequest): void {
  if (!Number.isSafeInteger(credits) || credits < 1) throw new RangeError('credits must be a positive integer');
  if (reason.trim() === '' || reason.length > MAX_REASON_LENGTH) throw new RangeError(`reason must be 1..${MAX_REASON_LENGTH} characters`);
}

/**
 * A support correction is a ledger row plus the balance update, in one transaction with the
 * user's row locked, so the balance always equals the ledger sum and two corrections queue.
 */
export async function correctBalance(em: EntityManager, kind: 'grant' | 'revoke', request: CorrectionRequest): Promise<CorrectionResult> {
  assertValid(request);
  const amount = kind === 'grant' ? request.credits : -request.credits;
  return translateDatabaseErrors(() =>
    em.fork().transactional(async (tx) => {
      const { user } = await resolveUser(tx, request.user);
      const [locked] = await sql<{ credits_balance: string }[]>(tx, 'SELECT credits_balance FROM users WHERE id = ? FOR UPDATE', [user.id]);
      const before = String(locked?.credits_balance ?? user.creditsBalance);
      if (BigInt(before) + BigInt(amount) < 0n) {
        throw new OperationRefused(
          `revoke refused: user ${user.id} (${user.uuid}) has ${before} credits, fewer than ${request.credits}; nothing was written`,
        );
      }
      const entry = tx.create(CreditTransaction, {
        userId: user.id,
        amount: String(amount),
        kind,
        reason: request.reason.trim(),
        checkoutSessionId: null,
        stripeEventId: null,
      });
      await tx.flush();
      const after = await addToBalance(tx, user.id, amount);
      return {
        kind,
        user: { id: user.id, uuid: user.uuid },
        credits: request.credits,
        balanceBefore: before,
        balanceAfter: after.creditsBalance,
        ledgerEntryId: entry.id,
        reason: request.reason.trim(),
      };
    }),
  );
}

export function formatCorrection(result: CorrectionResult): string {
  const verb = result.kind === 'grant' ? 'Granted' : 'Revoked';
  return [
    `${verb} ${result.credits} credits ${result.kind === 'grant' ? 'to' : 'from'} user ${result.user.id} (${result.user.uuid})`,
    `  balance: ${result.balanceBefore} -> ${result.balanceAfter}`,
    `  ledger entry: ${result.ledgerEntryId} (${result.kind}), reason: ${result.reason}`,
  ].join('\n');
}
