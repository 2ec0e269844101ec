import Stripe from 'stripe';

/**
 * The Stripe client (stripe-node v23) retries network errors, timeouts, 409 and 5xx itself, with
 * exponential backoff, up to `maxNetworkRetries` times; it does not retry 429 (unless Stripe adds
 * `Stripe-Should-Retry: true`) and never reads `Retry-After`. This module adds that: a 429 is
 * retried up to the same number of times, after the wait Stripe asks for.
 */

/** Longer waits are not waited for: the call fails as unavailable and the caller tries later. */
export const MAX_RETRY_AFTER_MS = 5_000;
// The Stripe client's own backoff: 0.5 s doubling, at most 5 s, with jitter.
const INITIAL_DELAY_MS = 500;
const MAX_DELAY_MS = 5_000;

/** The wait `Retry-After` asks for (delta-seconds or an HTTP date); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function header(error: Stripe.errors.StripeError, name: string): string | undefined {
  const value = (error.headers as Record<string, string | string[] | undefined> | undefined)?.[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * How long to wait before retrying after `error`, which came on try `retriesSoFar + 1`;
 * undefined means do not retry (not a 429, retries used up, Stripe said not to, or the wait is too long).
 */
export function rateLimitRetryDelayMs(error: unknown, retriesSoFar: number, maxRetries: number): number | undefined {
  if (!(error instanceof Stripe.errors.StripeError) || error.statusCode !== 429) return undefined;
  if (retriesSoFar >= maxRetries || header(error, 'stripe-should-retry') === 'false') return undefined;
  const asked = parseRetryAfter(header(error, 'retry-after'));
  if (asked !== undefined) return asked <= MAX_RETRY_AFTER_MS ? asked : undefined;
  const backoff = Math.min(INITIAL_DELAY_MS * 2 ** retriesSoFar, MAX_DELAY_MS);
  return Math.max(INITIAL_DELAY_MS, backoff * 0.5 * (1 + Math.random()));
}
