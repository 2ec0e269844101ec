import { migrateCommand } from './commands/migrate.js';
import { processIo } from './io.js';
import { finish, runCommand } from './run.js';

// `npm run migrate`: the deploy step that runs before new code serves traffic.
finish(await runCommand(migrateCommand, process.argv.slice(2), processIo, 'Run `npm run migrate -- --help` for usage.'));
