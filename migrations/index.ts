import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261126000000_credits_schema } from './Migration20261126000000_credits_schema.js';
import { Migration20261202000100_spending } from './Migration20261202000100_spending.js';
import { Migration20261202000200_event_source } from './Migration20261202000200_event_source.js';
import { Migration20261202000300_identity_and_inputs } from './Migration20261202000300_identity_and_inputs.js';
import { Migration20261202000400_reversals } from './Migration20261202000400_reversals.js';

/**
 * Every migration, in order. Listed here rather than found by a glob so that the migrator gets
 * classes already loaded by whatever runs the code (tsx, vitest or compiled JS).
 */
export const migrationsList: MigrationObject[] = [
  { name: 'Migration20261126000000_credits_schema', class: Migration20261126000000_credits_schema },
  { name: 'Migration20261202000100_spending', class: Migration20261202000100_spending },
  { name: 'Migration20261202000200_event_source', class: Migration20261202000200_event_source },
  { name: 'Migration20261202000300_identity_and_inputs', class: Migration20261202000300_identity_and_inputs },
  { name: 'Migration20261202000400_reversals', class: Migration20261202000400_reversals },
];
