import { CreditsError } from './errors.js';

export type Identifier =
  | { kind: 'uuid'; value: string }
  | { kind: 'legacy_id'; value: string }
  | { kind: 'email'; value: string };

const PLACEHOLDERS = new Set(['', 'null', 'none', 'undefined', 'nil']);
const TEMPLATE = /^(<.*>|\{\{.*\}\})$/s;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DECIMAL = /^[0-9]+$/;
const MAX_LEGACY_ID = 2n ** 63n - 1n;
// No control characters: a NUL would reach PostgreSQL as a protocol error, not as "no such user".
const EMAIL = /^[^\s@\p{Cc}]+@[^\s@\p{Cc}]+\.[^\s@\p{Cc}]+$/u;
const MAX_EMAIL_LENGTH = 254;

export function isPlaceholder(raw: string): boolean {
  const value = raw.trim();
  return PLACEHOLDERS.has(value.toLowerCase()) || TEMPLATE.test(value);
}

/** Reads an email, a UUID or an integer id, in that order of precedence: UUID, integer, email. */
export function parseIdentifier(raw: string): Identifier {
  const value = raw.trim();
  if (isPlaceholder(value)) {
    throw new CreditsError('IDENTIFIER_PLACEHOLDER', 'identifier is a placeholder, not a value');
  }
  if (UUID.test(value)) return { kind: 'uuid', value: value.toLowerCase() };
  if (DECIMAL.test(value)) {
    const id = BigInt(value);
    if (id < 1n || id > MAX_LEGACY_ID) {
      throw new CreditsError('IDENTIFIER_INVALID', 'integer id must be between 1 and 2^63-1');
    }
    return { kind: 'legacy_id', value: id.toString() };
  }
  if (value.length <= MAX_EMAIL_LENGTH && EMAIL.test(value)) return { kind: 'email', value };
  throw new CreditsError('IDENTIFIER_INVALID', 'identifier must be an email, a UUID or a positive integer id');
}
