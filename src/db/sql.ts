import type { Knex } from '@mikro-orm/knex';
import type { EntityManager } from './orm.js';

/**
 * Runs one statement inside the entity manager's unit of work (its transaction, when one is open).
 * Values travel as bind parameters: `em.execute` quotes them into the SQL text, which for an 8 KB
 * event costs more than the statement itself (bench/FINDINGS.md). With DB_ECHO the statement is
 * logged without its values, which may hold emails.
 */
export async function sql<T extends object[] = Record<string, unknown>[]>(
  em: EntityManager,
  text: string,
  params: readonly unknown[] = [],
): Promise<T> {
  const knex = em.getTransactionContext<Knex.Transaction>() ?? em.getKnex();
  const started = Date.now();
  let result: { rows: T };
  try {
    result = (await knex.raw(text, params as Knex.RawBinding[])) as { rows: T };
  } catch (error) {
    // The same exception classes em.execute throws (DeadlockException, ConnectionException, ...).
    throw error instanceof Error ? em.getDriver().convertException(error) : error;
  }
  if (em.config.get('debug')) em.config.getLogger().logQuery({ query: text, took: Date.now() - started });
  return result.rows;
}
