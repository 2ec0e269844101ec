import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * Paths that may carry personal data or secrets. Emails are never logged on purpose;
 * these paths are the safety net for objects that reach a log line by accident.
 */
const REDACTED_PATHS = [
  'email',
  '*.email',
  'customer_email',
  '*.customer_email',
  'customer_details',
  '*.customer_details',
  'identifier',
  '*.identifier',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'headers["stripe-signature"]',
  'req.headers.authorization',
  'req.headers["stripe-signature"]',
  'token',
  '*.token',
  'signature',
  '*.signature',
  'body',
  '*.body',
  'rawBody',
  '*.rawBody',
  'event_json',
  '*.event_json',
];

export interface LoggerOptions {
  level: string;
  name?: string;
  /** Where lines go; tests pass a stream to capture them. Defaults to stdout. */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const pretty = !options.destination && process.stdout.isTTY && process.env.NODE_ENV !== 'production';
  return pino(
    {
      level: options.level,
      name: options.name,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
      ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true } } } : {}),
    },
    options.destination,
  );
}
