import { CreditsError } from './errors.js';
import type { Metadata } from './ports.js';

/**
 * The rules for what callers send to SpendCredits, ReserveCredits, CaptureReservation,
 * ReleaseReservation and ListTransactions. Each failure is REQUEST_INVALID with a message that
 * names the field as the API spells it, and never quotes the value (it may hold personal data).
 */
export const SPENDING_LIMITS = {
  maxAmount: Number.MAX_SAFE_INTEGER,
  maxIdempotencyKeyLength: 255,
  maxDescriptionLength: 500,
  maxMetadataEntries: 20,
  maxMetadataKeyLength: 40,
  maxMetadataValueLength: 500,
  defaultTtlSeconds: 900,
  maxTtlSeconds: 86_400,
  defaultPageSize: 50,
  maxPageSize: 500,
} as const;

const invalid = (message: string) => new CreditsError('REQUEST_INVALID', message);

const INTEGER = /^-?[0-9]+$/;
const PRINTABLE_ASCII = /^[ -~]+$/;
// Text PostgreSQL cannot store (NUL) and control characters other than tab and line breaks.
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An int64 as the wire carries it (a decimal string), or a number or bigint from code. */
export type WireInteger = string | number | bigint;

function integer(field: string, raw: WireInteger): bigint {
  if (typeof raw === 'bigint') return raw;
  if (typeof raw === 'number') {
    if (!Number.isInteger(raw)) throw invalid(`${field} must be a whole number`);
    return BigInt(raw);
  }
  if (!INTEGER.test(raw.trim())) throw invalid(`${field} must be a whole number`);
  return BigInt(raw.trim());
}

/** A number of credits taken or held: 1 up to 2^53-1. */
export function parseAmount(raw: WireInteger, field = 'amount'): number {
  const value = integer(field, raw);
  if (value < 1n) throw invalid(`${field} must be a positive number of credits (at least 1)`);
  if (value > BigInt(SPENDING_LIMITS.maxAmount)) throw invalid(`${field} must be at most ${SPENDING_LIMITS.maxAmount}`);
  return Number(value);
}

/** A capture's amount: 0 (all of the reservation) or 1 up to 2^53-1. */
export function parseCaptureAmount(raw: WireInteger): number {
  const value = integer('amount', raw);
  if (value === 0n) return 0;
  if (value < 0n) throw invalid('amount must be 0 (capture all) or a positive number of credits');
  return parseAmount(value);
}

export function parseIdempotencyKey(raw: string): string {
  if (raw.trim() === '') throw invalid('idempotency_key is required: one key per operation, reused for its retries');
  if (raw.length > SPENDING_LIMITS.maxIdempotencyKeyLength || !PRINTABLE_ASCII.test(raw)) {
    throw invalid(`idempotency_key must be 1 to ${SPENDING_LIMITS.maxIdempotencyKeyLength} printable ASCII characters`);
  }
  return raw;
}

/** Empty means none. */
export function parseDescription(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (raw.length > SPENDING_LIMITS.maxDescriptionLength) throw invalid(`description must be at most ${SPENDING_LIMITS.maxDescriptionLength} characters`);
  if (CONTROL.test(raw)) throw invalid('description must not contain control characters (other than tab and line breaks)');
  return raw;
}

export function parseMetadata(raw: Readonly<Record<string, string>> | undefined): Metadata {
  const entries = Object.entries(raw ?? {});
  const { maxMetadataEntries, maxMetadataKeyLength, maxMetadataValueLength } = SPENDING_LIMITS;
  if (entries.length > maxMetadataEntries) throw invalid(`metadata must have at most ${maxMetadataEntries} entries (got ${entries.length})`);
  for (const [key, value] of entries) {
    if (key.length < 1 || key.length > maxMetadataKeyLength || !PRINTABLE_ASCII.test(key)) {
      throw invalid(`metadata keys must be 1 to ${maxMetadataKeyLength} printable ASCII characters`);
    }
    if (typeof value !== 'string' || value.length > maxMetadataValueLength) {
      throw invalid(`metadata values must be strings of at most ${maxMetadataValueLength} characters`);
    }
    if (CONTROL.test(value)) throw invalid('metadata values must not contain control characters (other than tab and line breaks)');
  }
  return Object.fromEntries(entries);
}

/** 0 means the default of 900 seconds. */
export function parseTtlSeconds(raw: number): number {
  if (!Number.isInteger(raw) || raw < 0 || raw > SPENDING_LIMITS.maxTtlSeconds) {
    throw invalid(`ttl_seconds must be between 1 and ${SPENDING_LIMITS.maxTtlSeconds} (0 means ${SPENDING_LIMITS.defaultTtlSeconds})`);
  }
  return raw === 0 ? SPENDING_LIMITS.defaultTtlSeconds : raw;
}

/** 0 means the default of 50; above the maximum of 500 means 500 (AIP-158). */
export function parsePageSize(raw: number): number {
  if (!Number.isInteger(raw) || raw < 0) throw invalid(`page_size must not be negative (0 means ${SPENDING_LIMITS.defaultPageSize})`);
  return raw === 0 ? SPENDING_LIMITS.defaultPageSize : Math.min(raw, SPENDING_LIMITS.maxPageSize);
}

export function parseReservationId(raw: string): string {
  const value = raw.trim();
  if (value === '') throw invalid('reservation_id is required');
  if (!UUID.test(value)) throw invalid('reservation_id must be a UUID, as ReserveCredits returned it');
  return value.toLowerCase();
}
