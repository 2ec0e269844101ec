import { describe, expect, it } from 'vitest';
import { CreditsError } from '../src/credits/errors';
import { parseIdentifier } from '../src/credits/identifiers';

const codeOf = (raw: string) => {
  try {
    parseIdentifier(raw);
    return 'parsed';
  } catch (error) {
    return error instanceof CreditsError ? error.code : 'other';
  }
};

describe('parseIdentifier', () => {
  it.each([
    ['6F9619FF-8B86-D011-B42D-00CF4FC964FF', { kind: 'uuid', value: '6f9619ff-8b86-d011-b42d-00cf4fc964ff' }],
    ['  42 ', { kind: 'legacy_id', value: '42' }],
    ['007', { kind: 'legacy_id', value: '7' }],
    ['9223372036854775807', { kind: 'legacy_id', value: '9223372036854775807' }],
    [' Jane.Doe+credits@Example.co.uk ', { kind: 'email', value: 'Jane.Doe+credits@Example.co.uk', key: 'jane.doe+credits@example.co.uk' }],
    ['josé@exämple.com', { kind: 'email', value: 'josé@exämple.com', key: 'josé@exämple.com' }],
  ])('reads %j', (raw, expected) => {
    expect(parseIdentifier(raw)).toEqual(expected);
  });

  it.each(['', ' ', 'null', 'NULL', 'None', 'undefined', 'nil', '<email>', '{{user.id}}', '{{ }}', '<>'])('refuses the placeholder %j', (raw) => {
    expect(codeOf(raw)).toBe('IDENTIFIER_PLACEHOLDER');
  });

  it.each([
    '0',
    '-3',
    '+3',
    '3.0',
    '9223372036854775808',
    'user@localhost',
    '@example.com',
    'user@',
    'a b@example.com',
    'a@b@example.com',
    `${'x'.repeat(245)}@example.com`,
    '6F9619FF-8B86-D011-B42D-00CF4FC964F',
    "1; DROP TABLE users",
  ])('refuses the malformed %j', (raw) => {
    expect(codeOf(raw)).toBe('IDENTIFIER_INVALID');
  });
});
