import { formatMigrateResult, runMigrations } from '../../ops/migrate.js';
import { parseOptions, UsageError } from '../args.js';
import { EXIT, type CliCommand } from '../command.js';
import { withDatabase } from '../context.js';
import { print } from '../io.js';

const HELP = `Usage: npm run migrate [-- --down | --status] [--dry-run] [--json]

Brings the database schema up to date (DATABASE_URL; the embedded PostgreSQL under DATA_DIR when
unset). Every migration runs in one transaction: it applies whole or not at all. An existing
legacy users(id, email) table is adopted: its rows are kept and get a UUID and a balance of 0.

Options:
  (none)       apply every pending migration
  --down       roll back the most recent migration only (a legacy users(id, email) table and its
               rows are kept; the credits tables and the columns this service added are dropped)
  --status     list executed and pending migrations
  --dry-run    with up (default) or --down: print the SQL that would run, apply nothing
  --json       print the result as JSON (stdout)
  -h, --help   show this help

Exit codes: 0 done; 1 a migration failed (nothing of it was applied) or database unreachable;
2 usage error.

Examples:
  npm run migrate
  npm run migrate -- --status
  npm run migrate -- --dry-run
  npm run migrate -- --down --dry-run && npm run migrate -- --down`;

export const migrateCommand: CliCommand = {
  name: 'migrate',
  summary: 'apply pending migrations (--down rolls back the last, --status, --dry-run)',
  help: HELP,
  async run(argv, io) {
    const options = parseOptions(argv, {
      down: { type: 'boolean' },
      status: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      json: { type: 'boolean' },
    });
    if (options.help) {
      print(io.stdout, HELP);
      return EXIT.ok;
    }
    if (options.down && options.status) throw new UsageError('use either --down or --status');
    if (options.status && options['dry-run']) throw new UsageError('--dry-run goes with up or --down, not --status');
    const action = options.status ? 'status' : options.down ? 'down' : 'up';
    const result = await withDatabase(io, ({ orm }) => runMigrations(orm, action, options['dry-run'] ?? false));
    print(io.stdout, options.json ? JSON.stringify(result, null, 2) : formatMigrateResult(result));
    return EXIT.ok;
  },
};
