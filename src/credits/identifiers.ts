import { CreditsError } from './errors.js';

export type Identifier =
  | { kind: 'uuid'; value: string }
  | { kind: 'legacy_id'; value: string }
  /** `value` as typed (trimmed, NFC), kept as the user's email; `key` what identity compares (normalizeEmail). */
  | { kind: 'email'; value: string; key: string };

const PLACEHOLDERS = new Set(['', 'null', 'none', 'undefined', 'nil']);
const TEMPLATE = /^(<.*>|\{\{.*\}\})$/s;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DECIMAL = /^[0-9]+$/;
const MAX_LEGACY_ID = 2n ** 63n - 1n;
// No control or invisible format characters (zero-width, bidi overrides): a NUL would reach
// PostgreSQL as a protocol error, and an invisible character only serves to spoof an address.
const EMAIL = /^[^\s@\p{Cc}\p{Cf}]+@[^\s@\p{Cc}\p{Cf}]+\.[^\s@\p{Cc}\p{Cf}]+$/u;
const MAX_EMAIL_LENGTH = 254;

export function isPlaceholder(raw: string): boolean {
  const value = raw.trim();
  return PLACEHOLDERS.has(value.toLowerCase()) || TEMPLATE.test(value);
}

/**
 * The one email identity, computed here and never by the database's collation (docs/grpc-api.md):
 * Unicode NFKC (full-width letters, the Kelvin sign and other compatibility forms are the
 * characters they stand for), surrounding Unicode whitespace trimmed, the locale-independent
 * Unicode lower case (so `İ` becomes `i̇`, never `i`), and one trailing dot of the domain dropped.
 * Look-alikes from other scripts (a Cyrillic `а`) stay distinct addresses: folding them would merge
 * mailboxes that really differ.
 */
export function normalizeEmail(email: string): string {
  return email.normalize('NFKC').trim().toLowerCase().replace(/\.$/, '');
}

/** Reads an email, a UUID or an integer id, in that order of precedence: UUID, integer, email. */
export function parseIdentifier(raw: string): Identifier {
  const value = raw.normalize('NFC').trim();
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
  const key = normalizeEmail(value);
  if (value.length <= MAX_EMAIL_LENGTH && EMAIL.test(value) && EMAIL.test(key)) return { kind: 'email', value, key };
  throw new CreditsError('IDENTIFIER_INVALID', 'identifier must be an email, a UUID or a positive integer id');
}
