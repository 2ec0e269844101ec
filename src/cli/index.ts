import { EXIT, type CliCommand } from './command.js';
import { grantCommand } from './commands/grant.js';
import { migrateCommand } from './commands/migrate.js';
import { reconcileCommand } from './commands/reconcile.js';
import { replayCommand } from './commands/replay.js';
import { revokeCommand } from './commands/revoke.js';
import { statsCommand } from './commands/stats.js';
import { verifyCommand } from './commands/verify.js';
import { print, processIo, type CliIo } from './io.js';
import { finish, runCommand } from './run.js';

const COMMANDS: readonly CliCommand[] = [verifyCommand, statsCommand, replayCommand, reconcileCommand, grantCommand, revokeCommand, migrateCommand];

function overview(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length));
  return `Usage: npm run cli -- <command> [options]

Operations on the credits database. Connects like the service does: DATABASE_URL, or the embedded
PostgreSQL under DATA_DIR when it is unset. Logs go to stderr (LOG_LEVEL), results to stdout.

Commands:
${COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`).join('\n')}

Run \`npm run cli -- <command> --help\` for a command's options and examples.
Exit codes: 0 ok, 1 problem found or operation refused, 2 usage error, 78 invalid configuration.`;
}

async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? COMMANDS.find((command) => command.name === rest[0]) : undefined;
    print(name === undefined ? io.stderr : io.stdout, topic ? topic.help : overview());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (!command) {
    print(io.stderr, `error: unknown command ${JSON.stringify(name)}\n\n${overview()}`);
    return EXIT.usage;
  }
  return runCommand(command, rest, io, `Run \`npm run cli -- ${command.name} --help\` for usage.`);
}

finish(await main(process.argv.slice(2), processIo));
