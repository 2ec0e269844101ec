import { CreditsError } from './errors.js';
import { parseIdentifier, type Identifier } from './identifiers.js';
import type { UserRecord, UserRepository } from './ports.js';

/** ResolveUser, GetBalance and the CLI: a well-formed identifier that names nobody is NOT_FOUND. */
export async function resolveUser(
  users: Pick<UserRepository, 'find'>,
  raw: string,
): Promise<{ user: UserRecord; matchedBy: Identifier['kind'] }> {
  const identifier = parseIdentifier(raw);
  const user = await users.find(identifier);
  if (!user) throw new CreditsError('USER_NOT_FOUND', `no user matches that ${identifier.kind.replace('_', ' ')}`);
  return { user, matchedBy: identifier.kind };
}

/** The same, locking the user's row until the transaction ends (spends and reservations): one statement, the latest balance. */
export async function resolveUserForUpdate(users: Pick<UserRepository, 'findForUpdate'>, raw: string): Promise<UserRecord> {
  const identifier = parseIdentifier(raw);
  const user = await users.findForUpdate(identifier);
  if (!user) throw new CreditsError('USER_NOT_FOUND', `no user matches that ${identifier.kind.replace('_', ' ')}`);
  return user;
}
