import { timingSafeEqual, createHash } from 'node:crypto';
import type { Metadata } from '@grpc/grpc-js';
import { CreditsError } from '../credits/errors.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Checks `authorization: Bearer <token>`; with no token configured (development) every call passes. */
export function createTokenCheck(expectedToken: string | undefined): (metadata: Metadata) => void {
  if (!expectedToken) return () => {};
  const expected = digest(expectedToken);
  return (metadata) => {
    const header = metadata.get('authorization')[0];
    if (typeof header !== 'string' || header === '') {
      throw new CreditsError('AUTH_TOKEN_MISSING', 'missing authorization: Bearer <token> metadata');
    }
    const match = /^Bearer (.+)$/i.exec(header.trim());
    // Equal-length digests: the comparison takes the same time whatever was sent.
    if (!match?.[1] || !timingSafeEqual(digest(match[1]), expected)) {
      throw new CreditsError('AUTH_TOKEN_INVALID', 'invalid bearer token');
    }
  };
}
