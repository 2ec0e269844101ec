import { migrateCommand } from './commands/migrate';
import { processIo } from './io';
import { finish, runCommand } from './run';

// `npm run migrate`: the deploy step that runs before new code serves traffic.
finish(await runCommand(migrateCommand, process.argv.slice(2), processIo, 'Run `npm run migrate -- --help` for usage.'));
