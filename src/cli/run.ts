import { ConfigError } from '../config.js';
import { CreditsError } from '../credits/errors.js';
import { classifyDatabaseError } from '../db/errors.js';
import { OperationRefused } from '../ops/errors.js';
import { UsageError } from './args.js';
import { EXIT, type CliCommand } from './command.js';
import { print, type CliIo } from './io.js';

/** Wrong credentials (SQLSTATE class 28) or a database that does not exist (3D000): fix DATABASE_URL. */
function isConnectionRefusal(error: unknown): boolean {
  const state = (error as { sqlState?: unknown; code?: unknown } | null)?.sqlState ?? (error as { code?: unknown } | null)?.code;
  return error instanceof Error && typeof state === 'string' && (state.startsWith('28') || state === '3D000');
}

/** The one place CLI failures become exit codes; expected failures print their message, not a stack. */
export function exitCodeFor(error: unknown, io: CliIo, usageHint: string): number {
  if (error instanceof UsageError) {
    print(io.stderr, `error: ${error.message}\n${usageHint}`);
    return EXIT.usage;
  }
  if (error instanceof ConfigError) {
    print(io.stderr, error.message);
    return EXIT.config;
  }
  const known = error instanceof OperationRefused || error instanceof CreditsError ? error : classifyDatabaseError(error);
  if (known) {
    // A connection failure's own text (ECONNREFUSED host:port, auth failed) says what to fix; it holds no data.
    const cause = known instanceof CreditsError && known.code === 'DATABASE_UNAVAILABLE' && error !== known && error instanceof Error ? ` (${error.message})` : '';
    print(io.stderr, `error: ${known.message}${cause}`);
    return EXIT.problem;
  }
  if (isConnectionRefusal(error)) {
    print(io.stderr, `error: cannot connect to the database: ${(error as Error).message}`);
    return EXIT.problem;
  }
  print(io.stderr, `unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return EXIT.problem;
}

export async function runCommand(command: CliCommand, argv: readonly string[], io: CliIo, usageHint: string): Promise<number> {
  try {
    return await command.run(argv, io);
  } catch (error) {
    return exitCodeFor(error, io, usageHint);
  }
}

/** Sets the exit code and lets the event loop drain, so buffered output is never cut off. */
export function finish(code: number): void {
  process.exitCode = code;
  // A handle some library forgot to close must not keep an operator's shell waiting.
  setTimeout(() => process.exit(code), 5_000).unref();
}
