import { API_SCOPES, isApiScope, type ApiScope } from '../contract/scopes.js';

export { API_SCOPES, isApiScope, type ApiScope };

/**
 * Who may call what. A token carries scopes; every CreditsService method needs exactly one, named
 * here by its full gRPC path (the form a server interceptor sees). A CreditsService method missing
 * from METHOD_SCOPES is refused to every token, and the server refuses to start with one
 * (`assertEveryMethodHasScope`), so a new RPC cannot ship open by accident.
 */

export const CREDITS_SERVICE_PATH = '/credits.v1.CreditsService/';

const credits = (method: string) => `${CREDITS_SERVICE_PATH}${method}`;

export const METHOD_SCOPES: Readonly<Record<string, ApiScope>> = {
  // Reading balances and users.
  [credits('GetBalance')]: 'credits:read',
  [credits('ResolveUser')]: 'credits:read',
  [credits('ListTransactions')]: 'credits:read',
  // Spending credits.
  [credits('SpendCredits')]: 'credits:spend',
  [credits('ReserveCredits')]: 'credits:spend',
  [credits('CaptureReservation')]: 'credits:spend',
  [credits('ReleaseReservation')]: 'credits:spend',
  // Adding credits from Stripe: only the edge should hold this.
  [credits('ApplyCheckout')]: 'stripe:apply',
  [credits('ApplyStripeEvent')]: 'stripe:apply',
};

/** Load balancers probe health without a token. */
export const OPEN_METHODS: ReadonlySet<string> = new Set(['/grpc.health.v1.Health/Check', '/grpc.health.v1.Health/Watch']);

/** Reflection describes the API: any valid token, whatever its scopes. */
export const ANY_SCOPE_SERVICES: ReadonlySet<string> = new Set([
  '/grpc.reflection.v1.ServerReflection/',
  '/grpc.reflection.v1alpha.ServerReflection/',
]);

/** What a method needs: nothing, a valid token, or a valid token with one scope. */
export type MethodAccess = { kind: 'open' } | { kind: 'any-scope' } | { kind: 'scope'; scope: ApiScope } | { kind: 'unlisted' };

export function accessFor(path: string): MethodAccess {
  if (OPEN_METHODS.has(path)) return { kind: 'open' };
  const scope = METHOD_SCOPES[path];
  if (scope) return { kind: 'scope', scope };
  if ([...ANY_SCOPE_SERVICES].some((prefix) => path.startsWith(prefix))) return { kind: 'any-scope' };
  return { kind: 'unlisted' };
}

/** Methods whose request may be large: a Stripe event (≤ 1 MiB of JSON plus its parsed fields). */
const LARGE_REQUEST_METHODS: ReadonlySet<string> = new Set([credits('ApplyCheckout'), credits('ApplyStripeEvent')]);
export const MAX_LARGE_REQUEST_BYTES = 2 * 1024 * 1024;
export const MAX_SMALL_REQUEST_BYTES = 64 * 1024;

/** The most bytes one request message of `path` may have. */
export function maxRequestBytes(path: string): number {
  return LARGE_REQUEST_METHODS.has(path) ? MAX_LARGE_REQUEST_BYTES : MAX_SMALL_REQUEST_BYTES;
}

/** Throws if a method of CreditsService has no scope: called when the server starts. */
export function assertEveryMethodHasScope(definition: Record<string, { path: string }>): void {
  const missing = Object.values(definition)
    .map((method) => method.path)
    .filter((path) => accessFor(path).kind !== 'scope');
  if (missing.length > 0) throw new Error(`no scope for ${missing.join(', ')}: add it to METHOD_SCOPES in src/grpc/scopes.ts`);
}
