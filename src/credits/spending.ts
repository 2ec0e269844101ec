import { CreditsError } from './errors.js';
import type { CreditsStore, LedgerRecord, Metadata, UserRecord } from './ports.js';
import { retryConflicts } from './retry.js';
import { parseAmount, parseDescription, parseIdempotencyKey, parseMetadata, type WireInteger } from './spending-input.js';
import { resolveUserForUpdate } from './users.js';

export interface SpendRequest {
  /** An email, a UUID or an integer id, as GetBalance takes it. */
  identifier: string;
  amount: WireInteger;
  idempotencyKey: string;
  description?: string;
  metadata?: Readonly<Record<string, string>>;
  /** Who asks (the API caller's name), stored on the ledger row. */
  caller?: string;
}

export interface SpendResult {
  /** The spend's ledger row (a negative amount). */
  transaction: LedgerRecord;
  /** The balance right after the spend, as first committed. */
  balanceAfter: string;
  /** True when the key had been spent already: this is the first call's result and nothing more was taken. */
  replayed: boolean;
}

/** What a caller may spend or reserve now: the balance less the credits held by live reservations. */
export function insufficientCredits(balance: bigint, held: bigint, wanted: number): CreditsError {
  const available = balance - held;
  const holds = held > 0n ? ` (balance ${balance}, ${held} held by reservations)` : '';
  return new CreditsError('INSUFFICIENT_CREDITS', `${available} credits available${holds}, fewer than ${wanted}; nothing was written`);
}

export function idempotencyKeyReused(what: string): CreditsError {
  return new CreditsError('IDEMPOTENCY_KEY_REUSED', `idempotency_key was used before for a ${what} of another user or amount; use a new key`);
}

/** The earlier spend under the same key is this one if it took the same amount from the same user. */
function replay(earlier: LedgerRecord, user: UserRecord, amount: number): SpendResult {
  if (earlier.kind !== 'spend' || earlier.userId !== user.id || earlier.amount !== String(-amount)) throw idempotencyKeyReused('spend');
  return { transaction: earlier, balanceAfter: earlier.balanceAfter ?? user.creditsBalance, replayed: true };
}

/**
 * Takes credits at once, exactly once per idempotency key. In one transaction: the user's row is
 * locked, so retries of one key queue and the later ones find the first one's row; a key taken by
 * another user's spend meanwhile is caught by the ledger's unique key. Only available credits
 * (balance − held) can be spent; too few writes nothing.
 */
export async function spendCredits(store: CreditsStore, request: SpendRequest): Promise<SpendResult> {
  const amount = parseAmount(request.amount);
  const idempotencyKey = parseIdempotencyKey(request.idempotencyKey);
  const description = parseDescription(request.description);
  const metadata: Metadata = parseMetadata(request.metadata);
  return retryConflicts(() =>
    store.transaction(async (uow) => {
      const user = await resolveUserForUpdate(uow.users, request.identifier);
      const balance = BigInt(user.creditsBalance);
      const earlier = await uow.ledger.findByIdempotencyKey(idempotencyKey);
      if (earlier) return replay(earlier, user, amount);
      const held = await uow.reservations.heldFor(user.id);
      if (balance - held < BigInt(amount)) throw insufficientCredits(balance, held, amount);
      const posted = await uow.ledger.post({ userId: user.id, kind: 'spend', amount: -amount, idempotencyKey, description, metadata, createdBy: request.caller });
      if (posted) return { transaction: posted.entry, balanceAfter: posted.user.creditsBalance, replayed: false };
      // Another user's spend committed this key between the look-up and the insert.
      const winner = await uow.ledger.findByIdempotencyKey(idempotencyKey);
      if (!winner) throw new CreditsError('TRANSACTION_CONFLICT', 'the idempotency key changed hands while spending; retry');
      return replay(winner, user, amount);
    }),
  );
}
