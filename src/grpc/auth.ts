import { createHash, timingSafeEqual } from 'node:crypto';
import type { Metadata } from '@grpc/grpc-js';
import type { PeerCertificate } from 'node:tls';
import type { ApiTokenConfig } from '../config.js';
import { CreditsError } from '../credits/errors.js';
import { API_SCOPES, type ApiScope, type MethodAccess } from './scopes.js';

/** Who is calling, as the auth interceptor established it; handlers read it with `callerOf`. */
export interface Caller {
  /**
   * The name to record with what the call did: the token's name; without tokens configured, the
   * client certificate's subject CN under mutual TLS; else `anonymous` (development).
   */
  name: string;
  /** How the name was established. */
  via: 'token' | 'certificate' | 'none';
  scopes: ReadonlySet<ApiScope>;
  /** The verified client certificate's subject CN, under mutual TLS (whether or not a token named the caller). */
  certificateName?: string;
}

const ALL_SCOPES: ReadonlySet<ApiScope> = new Set(API_SCOPES);
const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

interface TokenEntry {
  name: string;
  digest: Buffer;
  scopes: ReadonlySet<ApiScope>;
}

/** The tokens CreditsService accepts, kept only as SHA-256 digests. */
export class TokenTable {
  private readonly entries: readonly TokenEntry[];

  constructor(tokens: readonly Pick<ApiTokenConfig, 'name' | 'token' | 'scopes'>[]) {
    this.entries = tokens.map(({ name, token, scopes }) => ({ name, digest: digest(token), scopes: new Set(scopes) }));
  }

  /** No tokens: development, every call passes. */
  get isEmpty(): boolean {
    return this.entries.length === 0;
  }

  /** Names and scopes, for the start-up log line (never a value). */
  describe(): { name: string; scopes: ApiScope[] }[] {
    return this.entries.map((entry) => ({ name: entry.name, scopes: [...entry.scopes] }));
  }

  /**
   * The entry whose token is `presented`. Every entry is compared, equal-length digests in constant
   * time, and the loop never stops early: how long this takes says nothing about which entry (if
   * any) matched or how much of a token was right.
   */
  match(presented: string): { name: string; scopes: ReadonlySet<ApiScope> } | undefined {
    const presentedDigest = digest(presented);
    let found: TokenEntry | undefined;
    for (const entry of this.entries) {
      const equal = timingSafeEqual(presentedDigest, entry.digest);
      found = equal && !found ? entry : found;
    }
    return found;
  }
}

const AUTHORIZATION = 'authorization';
const BEARER = /^Bearer +([^\s]+)$/i;
// A name safe to log and store: a certificate's CN is chosen by whoever asked the CA for it.
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._:@ -]{0,63}$/;

/** The subject CN of a verified client certificate, or a fingerprint-based name if the CN is odd or absent. */
export function certificateName(certificate: PeerCertificate | undefined): string | undefined {
  if (!certificate?.raw) return undefined;
  const cn: unknown = certificate.subject?.CN;
  const first = Array.isArray(cn) ? cn[0] : cn;
  if (typeof first === 'string' && SAFE_NAME.test(first)) return first;
  return `certificate-sha256:${createHash('sha256').update(certificate.raw).digest('hex').slice(0, 16)}`;
}

export type Authorization = { ok: true; caller: Caller } | { ok: false; error: CreditsError };

/**
 * Decides one call from its metadata and its connection alone, before any message is read:
 * the token (if tokens are configured), then the scope `access` asks for.
 */
export function authorize(
  tokens: TokenTable,
  metadata: Metadata,
  peerCertificate: PeerCertificate | undefined,
  access: MethodAccess,
): Authorization {
  if (access.kind === 'open') return { ok: true, caller: anonymous(peerCertificate) };
  const certName = certificateName(peerCertificate);
  let caller: Caller;
  if (tokens.isEmpty) {
    caller = anonymous(peerCertificate);
  } else {
    const header = metadata.get(AUTHORIZATION)[0];
    if (typeof header !== 'string' || header.trim() === '' || /^Bearer\s*$/i.test(header.trim())) {
      return { ok: false, error: new CreditsError('AUTH_TOKEN_MISSING', 'missing authorization: Bearer <token> metadata') };
    }
    const presented = BEARER.exec(header.trim())?.[1];
    const entry = presented === undefined ? undefined : tokens.match(presented);
    if (!entry) return { ok: false, error: new CreditsError('AUTH_TOKEN_INVALID', 'invalid bearer token') };
    caller = { name: entry.name, via: 'token', scopes: entry.scopes, ...(certName ? { certificateName: certName } : {}) };
  }
  if (access.kind === 'unlisted') {
    return { ok: false, error: new CreditsError('SCOPE_MISSING', 'no scope grants this method') };
  }
  if (access.kind === 'scope' && !caller.scopes.has(access.scope)) {
    return { ok: false, error: new CreditsError('SCOPE_MISSING', `the token "${caller.name}" lacks the scope ${access.scope}`) };
  }
  return { ok: true, caller };
}

function anonymous(peerCertificate: PeerCertificate | undefined): Caller {
  const certName = certificateName(peerCertificate);
  return certName
    ? { name: certName, via: 'certificate', scopes: ALL_SCOPES, certificateName: certName }
    : { name: 'anonymous', via: 'none', scopes: ALL_SCOPES };
}

/**
 * The caller of each call, keyed by the call's request Metadata object: the interceptor registers
 * it on the very object grpc-js then hands the handler as `call.metadata`. A client cannot forge an
 * entry (unlike a metadata key it could send), and it goes away with the call.
 */
const callers = new WeakMap<Metadata, Caller>();

export function registerCaller(metadata: Metadata, caller: Caller): void {
  callers.set(metadata, caller);
}

/** The caller the auth interceptor established for this call's metadata; undefined if it did not run. */
export function callerOf(metadata: Metadata): Caller | undefined {
  return callers.get(metadata);
}
