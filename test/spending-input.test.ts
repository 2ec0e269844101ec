// The domain's rules for spending input and page tokens: pure functions, no database.
import { describe, expect, it } from 'vitest';
import { CreditsError } from '../src/credits/errors';
import type { LedgerRecord } from '../src/credits/ports';
import {
  parseAmount,
  parseCaptureAmount,
  parseIdempotencyKey,
  parseMetadata,
  parsePageSize,
  parseReservationId,
  parseTtlSeconds,
} from '../src/credits/spending-input';
import { decodePageToken, encodePageToken, referenceOf } from '../src/credits/transactions';

const refusal = (run: () => unknown) => {
  try {
    run();
    return 'accepted';
  } catch (error) {
    return error instanceof CreditsError ? `${error.code}: ${error.message}` : String(error);
  }
};

describe('spending input', () => {
  it('reads amounts as the wire sends them (int64 strings), from 1 to 2^53-1', () => {
    expect([parseAmount('1'), parseAmount(' 42 '), parseAmount(7n), parseAmount(9_007_199_254_740_991)]).toEqual([1, 42, 7, 9_007_199_254_740_991]);
    for (const raw of ['0', '-1', '1.5', '', 'ten', '9007199254740992']) expect(refusal(() => parseAmount(raw))).toMatch(/^REQUEST_INVALID: amount /);
    expect([parseCaptureAmount('0'), parseCaptureAmount('5')]).toEqual([0, 5]);
    expect(refusal(() => parseCaptureAmount('-1'))).toMatch(/^REQUEST_INVALID: amount must be 0/);
  });

  it('takes idempotency keys of 1 to 255 printable ASCII characters, exactly as sent', () => {
    expect(parseIdempotencyKey(' job 7 ')).toBe(' job 7 ');
    expect(parseIdempotencyKey('k'.repeat(255))).toHaveLength(255);
    for (const raw of ['', '  ', 'k'.repeat(256), 'clé', 'tab\there']) expect(refusal(() => parseIdempotencyKey(raw))).toMatch(/^REQUEST_INVALID: idempotency_key /);
  });

  it('bounds metadata, ttl, page size and reservation ids', () => {
    expect(parseMetadata({ a: 'b', empty: '' })).toEqual({ a: 'b', empty: '' });
    expect(refusal(() => parseMetadata({ '': 'v' }))).toMatch(/metadata keys/);
    expect([parseTtlSeconds(0), parseTtlSeconds(1), parseTtlSeconds(86_400)]).toEqual([900, 1, 86_400]);
    expect(refusal(() => parseTtlSeconds(86_401))).toMatch(/ttl_seconds/);
    expect([parsePageSize(0), parsePageSize(7), parsePageSize(501)]).toEqual([50, 7, 500]);
    expect(refusal(() => parsePageSize(-1))).toMatch(/page_size/);
    expect(parseReservationId(' 6F9619FF-8B86-D011-B42D-00CF4FC964FF ')).toBe('6f9619ff-8b86-d011-b42d-00cf4fc964ff');
    expect(refusal(() => parseReservationId('6f9619ff'))).toMatch(/reservation_id must be a UUID/);
  });
});

describe('page tokens', () => {
  it('round-trip for their user only, and only as issued', () => {
    const token = encodePageToken('42', '1001');
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodePageToken(token, '42')).toBe('1001');
    expect(refusal(() => decodePageToken(token, '43'))).toMatch(/page_token was returned for another identifier/);
    for (const bad of ['', '!!!', `${token}=`, Buffer.from('v2:42:1001').toString('base64url'), Buffer.from('v1:42:01').toString('base64url')]) {
      expect(refusal(() => decodePageToken(bad, '42'))).toMatch(/page_token is not a token ListTransactions returned/);
    }
  });

  it('name what each kind of row refers to', () => {
    const row = { checkoutSessionId: 'cs_1', idempotencyKey: 'key-1', reservationId: 'r-1', reason: 'ticket 9' } as LedgerRecord;
    expect((['purchase', 'spend', 'capture', 'grant', 'revoke'] as const).map((kind) => referenceOf({ ...row, kind }))).toEqual([
      'cs_1',
      'key-1',
      'r-1',
      'ticket 9',
      'ticket 9',
    ]);
  });
});
