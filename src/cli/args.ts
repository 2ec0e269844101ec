import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A command line that cannot be understood: the CLI prints the message and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Strict parsing: an unknown option or a stray argument is a usage error, not silently ignored. */
export function parseOptions<const O extends Options>(argv: readonly string[], options: O) {
  try {
    return parseArgs({ args: [...argv], options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

export function positiveInteger(name: string, value: string | undefined): number {
  if (value === undefined) throw new UsageError(`--${name} is required`);
  if (!/^[1-9][0-9]*$/.test(value.trim()) || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`--${name} must be a positive integer (got ${JSON.stringify(value)})`);
  }
  return Number(value);
}

export function requiredText(name: string, value: string | undefined): string {
  if (value === undefined || value.trim() === '') throw new UsageError(`--${name} is required`);
  return value.trim();
}

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--since` takes a duration back from now (`30m`, `24h`, `7d`) or an ISO 8601 date. */
export function parseSince(name: string, value: string, now = new Date()): Date {
  const duration = /^(\d+)\s*([smhd])$/.exec(value.trim());
  if (duration) return new Date(now.getTime() - Number(duration[1]) * UNIT_MS[duration[2]!]!);
  if (/^\d{4}-\d{2}-\d{2}/.test(value.trim())) {
    const date = new Date(value.trim());
    if (!Number.isNaN(date.getTime())) return date;
  }
  throw new UsageError(`--${name} must be an ISO date (2026-11-01 or 2026-11-01T12:00:00Z) or a duration like 30m, 24h, 7d (got ${JSON.stringify(value)})`);
}
