import { CreditsError } from './errors.js';
import { parseIdentifier } from './identifiers.js';
import type { UserRecord, UserRepository } from './ports.js';

export interface Balance {
  user: UserRecord;
  /** Credits owned: the sum of the user's ledger rows. */
  balance: string;
  /** Credits held by live reservations. */
  held: string;
  /** balance − held: what can be spent or reserved now; never below zero. */
  available: string;
}

/** GetBalance: the balance and the holds of one moment (one statement). */
export async function getBalance(users: Pick<UserRepository, 'findBalance'>, raw: string): Promise<Balance> {
  const identifier = parseIdentifier(raw);
  const found = await users.findBalance(identifier);
  if (!found) throw new CreditsError('USER_NOT_FOUND', `no user matches that ${identifier.kind.replace('_', ' ')}`);
  const balance = BigInt(found.user.creditsBalance);
  const held = BigInt(found.held);
  const available = balance > held ? balance - held : 0n;
  return { user: found.user, balance: balance.toString(), held: held.toString(), available: available.toString() };
}
