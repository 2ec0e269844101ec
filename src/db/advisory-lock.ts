import type { Knex } from '@mikro-orm/knex';
import { translateDatabaseErrors } from './errors.js';
import type { MikroORM } from './orm.js';

/**
 * The keys of every PostgreSQL advisory lock the service takes, in one place so that two never
 * collide. A key is a bigint, written as a decimal string (it does not fit a JS number exactly).
 */
export const ADVISORY_LOCK_KEYS = {
  /** One reconcile pass at a time across every replica: the bytes of 'credreco'. */
  reconcile: '7165901439190262639',
} as const;

/**
 * The class (first key) of the two-key transaction locks that serialise what is done about one
 * Stripe PaymentIntent (crediting its purchase, applying its refunds and disputes); the second key
 * is hashtext(payment_intent). Two-key locks never collide with the one-key locks above. The bytes of 'pint'.
 */
export const PAYMENT_INTENT_LOCK_CLASS = 1885957748;

export type ExclusiveRun<T> = { acquired: true; result: T } | { acquired: false };

/** Runs `work` while holding the lock; does not run it (acquired: false) when someone else holds it. */
export type TryExclusive = <T>(work: () => Promise<T>) => Promise<ExclusiveRun<T>>;

/**
 * A lock held by a transaction kept open on a connection of its own for as long as `work`
 * runs: `pg_try_advisory_xact_lock` never waits, and ending that transaction releases it.
 * A transaction-level lock (not a session-level one) is what PgBouncer in transaction pooling
 * mode keeps on one server connection, and it cannot leak: a crash, a killed connection or
 * an idle-in-transaction timeout ends the transaction and so the lock. `work` writes in its own
 * transactions on other pooled connections; the pool needs a connection more than `work` uses.
 */
export function advisoryXactLock(orm: MikroORM, key: string): TryExclusive {
  return async <T>(work: () => Promise<T>): Promise<ExclusiveRun<T>> => {
    const knex = orm.em.getKnex();
    // A plain knex transaction, not em.transactional: MikroORM would make the work's own transactions nest in it.
    const trx: Knex.Transaction = await translateDatabaseErrors(() => knex.transaction());
    try {
      const { rows } = await translateDatabaseErrors(
        () => trx.raw('SELECT pg_try_advisory_xact_lock(?::bigint) AS acquired', [key]) as Promise<{ rows: { acquired: boolean }[] }>,
      );
      if (rows[0]?.acquired !== true) return { acquired: false };
      return { acquired: true, result: await work() };
    } finally {
      // Nothing was written in it: ending it is all that matters. A broken connection ended it already.
      await trx.rollback().catch(() => {});
    }
  };
}
