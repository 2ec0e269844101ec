import type { Migration } from '@mikro-orm/migrations';
import { migrationsList } from '../../migrations/index.js';
import type { MikroORM } from './orm.js';

export interface MigrationStatus {
  executed: { name: string; executedAt: Date }[];
  pending: string[];
}

export async function migrateUp(orm: MikroORM): Promise<string[]> {
  const done = await orm.getMigrator().up();
  return done.map((migration) => migration.name);
}

/** Rolls back the most recent migration only. */
export async function migrateDown(orm: MikroORM): Promise<string[]> {
  const done = await orm.getMigrator().down();
  return done.map((migration) => migration.name);
}

export async function migrationStatus(orm: MikroORM): Promise<MigrationStatus> {
  const migrator = orm.getMigrator();
  const executed = await migrator.getExecutedMigrations();
  const pending = await migrator.getPendingMigrations();
  return {
    executed: executed.map((row) => ({ name: row.name, executedAt: row.executed_at })),
    pending: pending.map((migration) => migration.name),
  };
}

/** The SQL `up` (every pending migration) or `down` (the last one) would run, without running it. */
export async function plannedSql(orm: MikroORM, direction: 'up' | 'down'): Promise<{ name: string; sql: string[] }[]> {
  const status = await migrationStatus(orm);
  const names = direction === 'up' ? status.pending : status.executed.slice(-1).map((row) => row.name);
  const plans = [];
  for (const name of names) {
    const listed = migrationsList.find((migration) => migration.name === name);
    if (!listed) throw new Error(`migration ${name} is recorded in the database but not listed in migrations/index.ts`);
    const migration = new listed.class(orm.em.getDriver(), orm.config) as Migration;
    await (direction === 'up' ? migration.up() : migration.down());
    plans.push({ name, sql: migration.getQueries().map((query) => query.toString()) });
  }
  return plans;
}
