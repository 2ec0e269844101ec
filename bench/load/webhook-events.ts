import Stripe from 'stripe';
import { checkoutSession, stripeEvent } from '../../test/support/stripe-events';
import { mulberry32 } from '../../test/support/seeded-random';

/** A buyer: the email typed into Checkout and the Stripe customer Checkout created for it. */
export interface Buyer {
  email: string;
  customer: string;
}

/** One distinct event sent to a target, and what the money check expects of it. */
export interface SentEvent {
  eventId: string;
  sessionId: string;
  email: string;
  credits: number;
  body: Buffer;
  deliveries: number;
  /** At least one delivery was answered 2xx: Stripe considers it delivered. */
  answered: boolean;
}

export interface Delivery {
  event: SentEvent;
  signature: string;
}

/** Everything sent to one target during the run, by event id. */
export type WebhookBook = Map<string, SentEvent>;

export const CREDIT_PACKS = [100, 500, 1000, 2500] as const;

/** A small deterministic generator, so two runs send the same mix. */
export const seededRandom = mulberry32;

export function makeBuyers(count: number, runId: string): Buyer[] {
  return Array.from({ length: count }, (_, index) => ({
    email: `bench.buyer.${index}.${runId}@example.com`,
    customer: `cus_bench${runId}${String(index).padStart(5, '0')}`,
  }));
}

export function signDelivery(event: SentEvent, secret: string): Delivery {
  const signature = Stripe.webhooks.generateTestHeaderString({ payload: event.body.toString('utf8'), secret });
  return { event, signature };
}

function newEvent(buyer: Buyer, random: () => number): SentEvent {
  const credits = CREDIT_PACKS[Math.floor(random() * CREDIT_PACKS.length)]!;
  const session = checkoutSession({
    email: buyer.email,
    customer: buyer.customer,
    metadata: { credits: String(credits), pack: `pack_${credits}` },
    amount_total: credits * 2,
  });
  const event = stripeEvent('checkout.session.completed', session);
  return {
    eventId: String(event.id),
    sessionId: String(session.id),
    email: buyer.email,
    credits,
    // Stripe sends its events pretty-printed; the signature covers these exact bytes.
    body: Buffer.from(JSON.stringify(event, null, 2)),
    deliveries: 0,
    answered: false,
  };
}

export interface DeliveryPlan {
  count: number;
  buyers: readonly Buyer[];
  secret: string;
  redeliveryRate: number;
  random: () => number;
}

/**
 * Signed deliveries, made before a timed phase: mostly new events, and a share that repeats an
 * event sent shortly before (sometimes still in flight, as Stripe's retries can be).
 */
export function planDeliveries(book: WebhookBook, plan: DeliveryPlan): Delivery[] {
  const deliveries: Delivery[] = [];
  const fresh: SentEvent[] = [];
  for (let index = 0; index < plan.count; index++) {
    let event: SentEvent;
    if (fresh.length > 0 && plan.random() < plan.redeliveryRate) {
      const back = 1 + Math.floor(plan.random() * Math.min(200, fresh.length));
      event = fresh[fresh.length - back]!;
    } else {
      event = newEvent(plan.buyers[Math.floor(plan.random() * plan.buyers.length)]!, plan.random);
      fresh.push(event);
      book.set(event.eventId, event);
    }
    deliveries.push(signDelivery(event, plan.secret));
  }
  return deliveries;
}

/**
 * After a phase: events planned but never sent leave the book (the phase ended first), and
 * bodies of answered events are dropped (only unanswered ones are sent again).
 */
export function settleBook(book: WebhookBook): void {
  for (const [id, event] of book) {
    if (event.deliveries === 0) book.delete(id);
    else if (event.answered) event.body = EMPTY;
  }
}

const EMPTY = Buffer.alloc(0);

