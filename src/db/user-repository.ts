import type { Identifier } from '../credits/identifiers.js';
import type { UserRecord, UserRepository } from '../credits/ports.js';
import type { EntityManager } from './orm.js';
import { sql } from './sql.js';

export interface UserRow {
  id: string;
  uuid: string;
  email: string | null;
  credits_balance: string;
}

const COLUMN_NAMES = ['id', 'uuid', 'email', 'credits_balance'];
const COLUMNS = COLUMN_NAMES.join(', ');
/** The same columns, for statements that join users with another relation. */
export const QUALIFIED_USER_COLUMNS = COLUMN_NAMES.map((column) => `users.${column}`).join(', ');

// Emails are compared by the application's normalization (credits/identifiers.ts), on a unique index.
const WHERE_BY_KIND: Record<Identifier['kind'], string> = {
  uuid: 'uuid = ?',
  legacy_id: 'id = ?',
  email: 'email_normalized = ?',
};

const lookupValue = (identifier: Identifier): string => (identifier.kind === 'email' ? identifier.key : identifier.value);

export function toUserRecord(row: UserRow): UserRecord {
  return { id: String(row.id), uuid: row.uuid, email: row.email, creditsBalance: String(row.credits_balance) };
}

/** Users on PostgreSQL, inside `em`'s unit of work when it has one open. */
export function userRepository(em: EntityManager): UserRepository {
  const selectOne = async (where: string, value: string): Promise<UserRecord | undefined> => {
    const rows = await sql<UserRow[]>(em, `SELECT ${COLUMNS} FROM users WHERE ${where} LIMIT 1`, [value]);
    return rows[0] && toUserRecord(rows[0]);
  };
  return {
    find: (identifier) => selectOne(WHERE_BY_KIND[identifier.kind], lookupValue(identifier)),
    findByStripeCustomer: (customerId) =>
      selectOne('id = (SELECT user_id FROM stripe_customers WHERE customer_id = ?)', customerId),
    async findOrCreateByEmail(email) {
      const existing = await selectOne(WHERE_BY_KIND.email, email.key);
      if (existing) return existing;
      // The loser of a race waits on the unique index, then reads the winner's row.
      const inserted = await sql<UserRow[]>(
        em,
        `INSERT INTO users (email, email_normalized) VALUES (?, ?) ON CONFLICT (email_normalized) DO NOTHING RETURNING ${COLUMNS}`,
        [email.value, email.key],
      );
      if (inserted[0]) return toUserRecord(inserted[0]);
      const winner = await selectOne(WHERE_BY_KIND.email, email.key);
      if (!winner) throw new Error('user vanished between conflict and read');
      return winner;
    },
    async linkStripeCustomer(userId, customerId) {
      // The primary key decides between racing links: the first one stays, the others see it.
      const [row] = await sql<{ user_id: string; inserted: boolean }[]>(
        em,
        `WITH link AS (
           INSERT INTO stripe_customers (customer_id, user_id) VALUES (?, ?) ON CONFLICT (customer_id) DO NOTHING RETURNING user_id
         )
         SELECT user_id, true AS inserted FROM link
         UNION ALL SELECT user_id, false FROM stripe_customers WHERE customer_id = ? AND NOT EXISTS (SELECT 1 FROM link)`,
        [customerId, userId, customerId],
      );
      if (row?.inserted) return 'linked';
      return String(row?.user_id) === userId ? 'already_linked' : 'linked_to_another_user';
    },
    async findBalance(identifier) {
      // One statement, one snapshot: the balance and the holds are read at the same moment.
      const [row] = await sql<(UserRow & { held: string })[]>(
        em,
        `SELECT ${COLUMNS}, (SELECT coalesce(sum(r.amount), 0) FROM credit_reservations r
           WHERE r.user_id = users.id AND r.status = 'held' AND r.expire_time > statement_timestamp()) AS held
         FROM users WHERE ${WHERE_BY_KIND[identifier.kind]} LIMIT 1`,
        [lookupValue(identifier)],
      );
      return row && { user: toUserRecord(row), held: String(row.held) };
    },
    async findForUpdate(identifier) {
      const rows = await sql<UserRow[]>(em, `SELECT ${COLUMNS} FROM users WHERE ${WHERE_BY_KIND[identifier.kind]} LIMIT 1 FOR UPDATE`, [lookupValue(identifier)]);
      return rows[0] && toUserRecord(rows[0]);
    },
    async lockBalance(userId) {
      const [row] = await sql<{ credits_balance: string }[]>(em, 'SELECT credits_balance FROM users WHERE id = ? FOR UPDATE', [userId]);
      if (!row) throw new Error(`user ${userId} vanished while it was locked`);
      return BigInt(row.credits_balance);
    },
  };
}
