import { MikroORM, PostgreSqlDriver, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import type { Logger } from '../logger.js';
import { migrationsList } from '../../migrations/index.js';
import { entities } from './entities/index.js';

export type { EntityManager } from '@mikro-orm/postgresql';
export type { MikroORM };

export interface OrmOptions {
  url: string;
  poolMax: number;
  echo: boolean;
  logger: Logger;
  /** How long a pooled connection may be waited for before the call fails as unavailable. */
  acquireTimeoutMs?: number;
}

/** The only place the ORM is configured; the service, the CLI, the migrator and the tests share it. */
export function ormConfig(options: OrmOptions): Options {
  return {
    driver: PostgreSqlDriver,
    clientUrl: options.url,
    entities,
    extensions: [Migrator],
    pool: { min: 0, max: options.poolMax, acquireTimeoutMillis: options.acquireTimeoutMs ?? 5_000 },
    // Merged into knex's own options: fail fast when the database is gone instead of eating the
    // caller's deadline, and send knex's warnings (dropped connections) to our logger, not the console.
    driverOptions: {
      connection: { connectionTimeoutMillis: 3_000, application_name: 'credits-service' },
      log: {
        warn: (message: unknown) => options.logger.warn({ db: String(message) }, 'database driver warning'),
        error: (message: unknown) => options.logger.error({ db: String(message) }, 'database driver error'),
        deprecate: () => {},
        debug: () => {},
      },
    },
    debug: options.echo,
    logger: (message) => options.logger.debug({ orm: true }, message),
    allowGlobalContext: false,
    ensureDatabase: false,
    migrations: {
      migrationsList,
      emit: 'ts',
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      tableName: 'mikro_orm_migrations',
    },
  };
}

export function initORM(options: OrmOptions): Promise<MikroORM> {
  return MikroORM.init(ormConfig(options));
}

/** For health checks: true when a trivial statement succeeds. */
export async function databaseAnswers(orm: MikroORM): Promise<boolean> {
  try {
    await orm.em.getConnection().execute('SELECT 1');
    return true;
  } catch {
    return false;
  }
}

/** knex's tarn pool, for the pool gauges; undefined once the ORM is closed. */
export function connectionPool(orm: MikroORM): { numUsed(): number; numFree(): number; numPendingAcquires(): number; max: number } | undefined {
  try {
    return (orm.em.getConnection().getKnex().client as { pool?: ReturnType<typeof connectionPool> }).pool ?? undefined;
  } catch {
    return undefined;
  }
}
