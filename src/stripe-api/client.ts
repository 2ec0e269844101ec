import { setTimeout as sleep } from 'node:timers/promises';
import Stripe from 'stripe';
import type { Config } from '../config.js';
import { toStripeApiError, type StripeApiOperation } from './errors.js';
import { rateLimitRetryDelayMs } from './retry.js';

/**
 * The one place the project calls the Stripe API. Every method either answers or throws a
 * StripeApiError (StripeApiUnavailable: try again later; StripeApiRejected: asking again will not help).
 */
export interface StripeApi {
  /** The priced lines of a Checkout Session, and whether they are all there. */
  listLineItems(sessionId: string): Promise<ListedLineItems>;
  /** Events of the given types created at or after `createdGte`, newest first, every page followed. */
  listEvents(query: ListEventsQuery): AsyncIterable<ListedStripeEvent>;
  /** One charge, as Stripe has it now (for refunds and disputes). */
  retrieveCharge(chargeId: string): Promise<Stripe.Charge>;
}

export interface StripeApiOptions {
  /** STRIPE_SECRET_KEY: a secret (sk_) or restricted (rk_) key. Never logged, never in an error. */
  secretKey: string;
  /** STRIPE_API_BASE, e.g. http://127.0.0.1:12111 for a fake Stripe in tests; unset means api.stripe.com. */
  apiBase?: string;
  /** Per try: how long a request may wait for Stripe (idle socket) before it counts as failed. */
  timeoutMs: number;
  /** Retries after the first try, for network errors, timeouts, 409, 429 and 5xx. */
  maxRetries: number;
}

export interface CheckoutLineItem {
  priceId: string;
  quantity: number;
}

export interface ListedLineItems {
  /** The lines that have a price and a quantity of at least 1. */
  items: CheckoutLineItem[];
  /**
   * False when Stripe has more lines than one page (has_more) or a line lacks its price or
   * quantity: a partial list must not be used to grant credits.
   */
  complete: boolean;
}

/** The fields of a Stripe event the project reads; the rest is in `rawJson`. */
export interface StripeApiEvent {
  id: string;
  type: string;
  /** Unix seconds. */
  created: number;
  livemode: boolean;
  data: { object: Record<string, unknown> };
}

export interface ListedStripeEvent {
  event: StripeApiEvent;
  /** JSON.stringify of the event object as the Stripe client returned it (parsed, then re-serialised). */
  rawJson: string;
}

export interface ListEventsQuery {
  /** 1 to 20 event types (Stripe's limit for `types[]`). */
  types: readonly string[];
  /** Unix seconds; Stripe keeps events for 30 days. */
  createdGte: number;
  /** false: only events not yet delivered to every webhook endpoint (pending or failed). */
  deliverySuccess?: false;
  /** Called once per page fetched, with the number of events on it. */
  onPage?: (count: number) => void;
}

// The most Stripe lists per page; Checkout allows at most 100 line items, so one page holds them all.
const PAGE_LIMIT = 100;
const MAX_EVENT_TYPES = 20;

/** The Stripe client's `host`/`port`/`protocol` for an API base URL; {} means api.stripe.com. */
export function stripeApiAddress(apiBase: string | undefined): { host?: string; port?: string; protocol?: 'http' | 'https' } {
  if (!apiBase) return {};
  const url = new URL(apiBase);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError('the Stripe API base must be an http(s) URL');
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  return { host: url.hostname, port: url.port || (protocol === 'http' ? '80' : '443'), protocol };
}

function requireId(what: string, id: string): void {
  if (typeof id !== 'string' || id.trim() === '') throw new TypeError(`${what} must be a non-empty string`);
}

export function createStripeApi(options: StripeApiOptions): StripeApi {
  const stripe = new Stripe(options.secretKey, {
    ...stripeApiAddress(options.apiBase),
    timeout: options.timeoutMs,
    maxNetworkRetries: options.maxRetries,
    telemetry: false,
  });

  /** One API call: the Stripe client's retries, plus ours for 429; every failure becomes a StripeApiError. */
  async function call<T>(operation: StripeApiOperation, request: () => Promise<T>): Promise<T> {
    for (let retries = 0; ; retries += 1) {
      try {
        return await request();
      } catch (error) {
        const delayMs = rateLimitRetryDelayMs(error, retries, options.maxRetries);
        if (delayMs === undefined) throw toStripeApiError(operation, error, options.secretKey);
        await sleep(delayMs);
      }
    }
  }

  return {
    async listLineItems(sessionId) {
      requireId('sessionId', sessionId);
      const page = await call('listLineItems', () => stripe.checkout.sessions.listLineItems(sessionId, { limit: PAGE_LIMIT }));
      const items: CheckoutLineItem[] = [];
      let complete = !page.has_more;
      for (const line of page.data) {
        const priceId = line.price?.id;
        const quantity = line.quantity;
        if (priceId && typeof quantity === 'number' && Number.isInteger(quantity) && quantity >= 1) {
          items.push({ priceId, quantity });
        } else {
          complete = false;
        }
      }
      return { items, complete };
    },

    async *listEvents({ types, createdGte, deliverySuccess, onPage }) {
      if (types.length < 1 || types.length > MAX_EVENT_TYPES) throw new RangeError(`types: 1 to ${MAX_EVENT_TYPES} event types, got ${types.length}`);
      if (!Number.isInteger(createdGte) || createdGte < 0) throw new RangeError('createdGte must be a unix time in whole seconds');
      let startingAfter: string | undefined;
      for (;;) {
        const params: Stripe.EventListParams = {
          limit: PAGE_LIMIT,
          types: [...types],
          created: { gte: createdGte },
          ...(deliverySuccess === false ? { delivery_success: false } : {}),
          ...(startingAfter === undefined ? {} : { starting_after: startingAfter }),
        };
        const page = await call('listEvents', () => stripe.events.list(params));
        onPage?.(page.data.length);
        for (const event of page.data) {
          yield { event: event as unknown as StripeApiEvent, rawJson: JSON.stringify(event) };
        }
        const last = page.data.at(-1);
        if (!page.has_more || !last) return;
        startingAfter = last.id;
      }
    },

    async retrieveCharge(chargeId) {
      requireId('chargeId', chargeId);
      return call('retrieveCharge', () => stripe.charges.retrieve(chargeId));
    },
  };
}

/** What a purchase may be credited from: every line, or none when Stripe's list is partial (then metadata decides). */
export function creditableLineItems(listed: ListedLineItems): CheckoutLineItem[] {
  return listed.complete ? listed.items : [];
}

/** The Stripe API as configured (STRIPE_SECRET_KEY, STRIPE_API_BASE, …); undefined without a key. */
export function stripeApiFromConfig(stripe: Config['stripe']): StripeApi | undefined {
  const { secretKey } = stripe;
  return secretKey ? createStripeApi({ secretKey, apiBase: stripe.apiBase, timeoutMs: stripe.apiTimeoutMs, maxRetries: stripe.apiMaxRetries }) : undefined;
}
