import type { EntityManager } from '../db/orm';
import { CreditsError } from './errors';
import { parseIdentifier, type Identifier } from './identifiers';
import { sql } from '../db/sql';

export interface UserRecord {
  id: string;
  uuid: string;
  email: string | null;
  creditsBalance: string;
  stripeCustomerId: string | null;
}

export interface UserRow {
  id: string;
  uuid: string;
  email: string | null;
  credits_balance: string;
  stripe_customer_id: string | null;
}

const COLUMN_NAMES = ['id', 'uuid', 'email', 'credits_balance', 'stripe_customer_id'];
const COLUMNS = COLUMN_NAMES.join(', ');
/** The same columns, for statements that join users with another relation. */
export const QUALIFIED_USER_COLUMNS = COLUMN_NAMES.map((column) => `users.${column}`).join(', ');

const WHERE_BY_KIND: Record<Identifier['kind'], string> = {
  uuid: 'uuid = ?',
  legacy_id: 'id = ?',
  email: 'lower(email) = lower(?)',
};

export function toUserRecord(row: UserRow): UserRecord {
  return {
    id: String(row.id),
    uuid: row.uuid,
    email: row.email,
    creditsBalance: String(row.credits_balance),
    stripeCustomerId: row.stripe_customer_id,
  };
}

async function selectOne(em: EntityManager, where: string, value: string): Promise<UserRecord | undefined> {
  const rows = await sql<UserRow[]>(em, `SELECT ${COLUMNS} FROM users WHERE ${where} LIMIT 1`, [value]);
  return rows[0] && toUserRecord(rows[0]);
}

export function findUser(em: EntityManager, identifier: Identifier): Promise<UserRecord | undefined> {
  return selectOne(em, WHERE_BY_KIND[identifier.kind], identifier.value);
}

/** ResolveUser and GetBalance: a well-formed identifier that names nobody is NOT_FOUND. */
export async function resolveUser(em: EntityManager, raw: string): Promise<{ user: UserRecord; matchedBy: Identifier['kind'] }> {
  const identifier = parseIdentifier(raw);
  const user = await findUser(em, identifier);
  if (!user) throw new CreditsError('USER_NOT_FOUND', `no user matches that ${identifier.kind.replace('_', ' ')}`);
  return { user, matchedBy: identifier.kind };
}

export function findUserByStripeCustomer(em: EntityManager, customerId: string): Promise<UserRecord | undefined> {
  return selectOne(em, 'stripe_customer_id = ? ORDER BY id', customerId);
}

/** Race-safe: two transactions creating one email end with one user (the loser waits, then reads it). */
export async function findOrCreateUserByEmail(em: EntityManager, email: string): Promise<UserRecord> {
  const existing = await selectOne(em, WHERE_BY_KIND.email, email);
  if (existing) return existing;
  const inserted = await sql<UserRow[]>(em,
    `INSERT INTO users (email) VALUES (?) ON CONFLICT ((lower(email))) DO NOTHING RETURNING ${COLUMNS}`,
    [email],
  );
  if (inserted[0]) return toUserRecord(inserted[0]);
  const winner = await selectOne(em, WHERE_BY_KIND.email, email);
  if (!winner) throw new Error('user vanished between conflict and read');
  return winner;
}

/** Remembers the Stripe customer of a user who has none yet; a user's first customer id sticks. */
export async function linkStripeCustomer(em: EntityManager, userId: string, customerId: string): Promise<void> {
  await sql(em, 'UPDATE users SET stripe_customer_id = ? WHERE id = ? AND stripe_customer_id IS NULL', [customerId, userId]);
}

/** Adds (or, negative, takes) credits; the CHECK constraint refuses a negative balance. */
export async function addToBalance(em: EntityManager, userId: string, amount: number): Promise<UserRecord> {
  const rows = await sql<UserRow[]>(em,
    `UPDATE users SET credits_balance = credits_balance + ?, updated_at = now() WHERE id = ? RETURNING ${COLUMNS}`,
    [amount, userId],
  );
  if (!rows[0]) throw new Error(`user ${userId} vanished while its balance was updated`);
  return toUserRecord(rows[0]);
}
