import type { CliIo } from './io.js';

export interface CliCommand {
  name: string;
  summary: string;
  /** The full `--help` text. */
  help: string;
  /** Returns the exit code: 0 ok, 1 problem found or operation refused. Usage errors throw UsageError. */
  run(argv: readonly string[], io: CliIo): Promise<number>;
}

export const EXIT = { ok: 0, problem: 1, usage: 2, config: 78 } as const;
