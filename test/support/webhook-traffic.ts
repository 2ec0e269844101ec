import { sign } from './edge-harness';
import { runConcurrently } from './load';
import type { Answer, DeliveryRecord } from './invariants';
import type { LogAudit } from './log-audit';
import type { Random } from './seeded-random';
import { checkoutSession, stripeEvent, type SessionOverrides, type StripeEventType } from './stripe-events';

/** One Stripe event as it will be POSTed: the exact JSON that gets signed. */
export interface Delivery {
  eventId: string;
  sessionId?: string;
  /** A paid completed/async_payment_succeeded event of an intended purchase. */
  creditable: boolean;
  payload: string;
}

/** Stripe-shaped ids drawn from the seeded generator, so a seed replays the same input. */
export const seededId = (random: Random, prefix: string) => `${prefix}_rel_${random.hex(24)}`;

export interface CheckoutEventOptions {
  type?: StripeEventType;
  sessionId: string;
  email: string | null;
  credits?: string;
  paymentStatus?: SessionOverrides['payment_status'];
  customer?: string | null;
  session?: SessionOverrides;
}

/** A full checkout.session.* event for one purchase (new email by default, credits in metadata). */
export function checkoutDelivery(random: Random, options: CheckoutEventOptions): Delivery {
  const type = options.type ?? 'checkout.session.completed';
  const paymentStatus = options.paymentStatus ?? 'paid';
  const session = checkoutSession({
    id: options.sessionId,
    email: options.email,
    payment_status: paymentStatus,
    customer: options.customer ?? null,
    metadata: options.credits === undefined ? {} : { credits: options.credits },
    ...options.session,
  });
  session.payment_intent = seededId(random, 'pi');
  const event = stripeEvent(type, session, seededId(random, 'evt'));
  return {
    eventId: event.id as string,
    sessionId: options.sessionId,
    creditable: type !== 'checkout.session.async_payment_failed' && (paymentStatus === 'paid' || paymentStatus === 'no_payment_required'),
    payload: JSON.stringify(event),
  };
}

export interface DeliverContext {
  edgeUrl: string;
  record: DeliveryRecord;
  audit: LogAudit;
}

/**
 * POSTs one delivery signed afresh (as Stripe does on each attempt) and records the answer.
 * Never throws: a cut connection or a client timeout is recorded as status 0.
 */
export async function deliver(context: DeliverContext, delivery: Delivery): Promise<Answer> {
  const { signature } = sign(delivery.payload);
  context.audit.rememberSignature(signature);
  context.record.sent(delivery.eventId, { sessionId: delivery.sessionId, creditable: delivery.creditable });
  let answer: Answer;
  try {
    const response = await fetch(`${context.edgeUrl}/webhooks/stripe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': signature },
      body: delivery.payload,
      signal: AbortSignal.timeout(30_000),
    });
    const body = (await response.json().catch(() => ({}))) as { outcome?: unknown };
    answer = { status: response.status, ...(typeof body.outcome === 'string' ? { outcome: body.outcome } : {}) };
  } catch {
    answer = { status: 0 };
  }
  context.record.answered(delivery.eventId, answer);
  return answer;
}

export interface TimedAnswer {
  sentAt: number;
  answeredAt: number;
  status: number;
}

export interface BackgroundLoad {
  /** Every answer so far, with when it was sent and answered (performance.now()). */
  answers: TimedAnswer[];
  /** Stops sending and waits for the requests in flight; safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Delivers each event once, then redelivers random ones, `concurrency` at a time, until stopped:
 * the traffic a scenario breaks something in the middle of. Ends by itself after maxMs.
 */
export function startBackgroundLoad(
  context: DeliverContext,
  events: readonly Delivery[],
  random: Random,
  options: { concurrency?: number; maxMs?: number } = {},
): BackgroundLoad {
  const answers: TimedAnswer[] = [];
  const endsAt = performance.now() + (options.maxMs ?? 120_000);
  let running = true;
  let next = 0;
  const worker = async () => {
    while (running && performance.now() < endsAt) {
      const delivery = next < events.length ? events[next++]! : random.pick(events);
      const sentAt = performance.now();
      const { status } = await deliver(context, delivery);
      answers.push({ sentAt, answeredAt: performance.now(), status });
    }
  };
  const done = Promise.all(Array.from({ length: options.concurrency ?? 8 }, worker));
  return {
    answers,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

/** Redelivers, a bounded number of times, the events that have no 2xx yet (as Stripe would, for days). */
export async function retryUnacknowledged(context: DeliverContext, events: readonly Delivery[], concurrency = 8, rounds = 5): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    const pending = new Set(context.record.unacknowledged());
    if (pending.size === 0) return;
    await runConcurrently(events.filter((event) => pending.has(event.eventId)), concurrency, async (delivery) => void (await deliver(context, delivery)));
  }
}
