import { migrateDown, migrateUp, migrationStatus, plannedSql, type MigrationStatus } from '../db/migrations.js';
import type { MikroORM } from '../db/orm.js';

export type MigrateAction = 'up' | 'down' | 'status';

export type MigrateResult =
  | { action: 'status'; status: MigrationStatus }
  | { action: 'up' | 'down'; dryRun: false; applied: string[]; status: MigrationStatus }
  | { action: 'up' | 'down'; dryRun: true; plan: { name: string; sql: string[] }[] };

/** `up` applies every pending migration, `down` rolls back the last one; a dry run only plans the SQL. */
export async function runMigrations(orm: MikroORM, action: MigrateAction, dryRun = false): Promise<MigrateResult> {
  if (action === 'status') return { action, status: await migrationStatus(orm) };
  if (dryRun) return { action, dryRun, plan: await plannedSql(orm, action) };
  const applied = action === 'up' ? await migrateUp(orm) : await migrateDown(orm);
  return { action, dryRun, applied, status: await migrationStatus(orm) };
}

function formatStatus(status: MigrationStatus): string[] {
  return [
    `Executed (${status.executed.length}):`,
    ...(status.executed.length ? status.executed.map((row) => `  ${row.name}  ${new Date(row.executedAt).toISOString()}`) : ['  none']),
    `Pending (${status.pending.length}):`,
    ...(status.pending.length ? status.pending.map((name) => `  ${name}`) : ['  none']),
  ];
}

export function formatMigrateResult(result: MigrateResult): string {
  if (result.action === 'status') return formatStatus(result.status).join('\n');
  const verb = result.action === 'up' ? 'apply' : 'roll back';
  if (result.dryRun) {
    if (result.plan.length === 0) return `Dry run: nothing to ${verb}.`;
    const header = `-- Dry run: nothing was applied. Each migration below runs in one transaction.\n\n`;
    return header + result.plan
      .map((step) => [`-- ${result.action}: ${step.name}`, ...step.sql.map((sql) => `${sql.trimEnd().replace(/;?$/, ';')}`)].join('\n'))
      .join('\n\n');
  }
  const done = result.applied.length
    ? `${result.action === 'up' ? 'Applied' : 'Rolled back'}: ${result.applied.join(', ')}`
    : `Nothing to ${verb}.`;
  return [done, ...formatStatus(result.status)].join('\n');
}
