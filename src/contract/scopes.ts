/**
 * What a CreditsService token may do. `credits:read` reads balances, users and ledgers;
 * `credits:spend` spends and reserves; `stripe:apply` applies Stripe events (only the edge).
 */
export const API_SCOPES = ['credits:read', 'credits:spend', 'stripe:apply'] as const;
export type ApiScope = (typeof API_SCOPES)[number];

export function isApiScope(value: string): value is ApiScope {
  return (API_SCOPES as readonly string[]).includes(value);
}
