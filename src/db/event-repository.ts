import { decodeStripeEvent, REVERSAL_EVENT_TYPES, StripeEventInvalid, type LineItem, type StripeEvent } from '../contract/stripe-event.js';
import type { EventStatus, StripeEventRepository } from '../credits/ports.js';
import type { EntityManager } from './orm.js';
import { sql } from './sql.js';

const storedLineItems = (items: readonly LineItem[]): string | null => (items.length > 0 ? JSON.stringify(items) : null);

/** The PaymentIntent an event names itself: its session's, its charge's or its dispute's. */
const paymentIntentOf = (event: StripeEvent): string | null =>
  event.session?.paymentIntent || event.charge?.paymentIntent || event.dispute?.paymentIntent || null;

const REVERSAL_TYPES = REVERSAL_EVENT_TYPES.map(() => '?').join(', ');

/** Stored events decode as they did when they were stored; one that no longer would is left out. */
function decodeStored(rows: { payload: unknown }[]): StripeEvent[] {
  return rows.flatMap((row) => {
    try {
      return [decodeStripeEvent(JSON.stringify(row.payload))];
    } catch (error) {
      if (error instanceof StripeEventInvalid) return [];
      throw error;
    }
  });
}

/** One row per Stripe event; its unique event id makes concurrent deliveries queue on the claim. */
export function eventRepository(em: EntityManager): StripeEventRepository {
  return {
    async claim(event, source) {
      // The source is only inserted: a later claim of the row never changes where the event first came from.
      const [row] = await sql<{ status: EventStatus; user_id: string | null; line_items: LineItem[] | null; payment_intent: string | null }[]>(
        em,
        `INSERT INTO stripe_events (event_id, event_type, status, checkout_session_id, payload, line_items, source, payment_intent)
         VALUES (?, ?, 'processing', ?, ?::jsonb, ?::jsonb, ?, ?)
         ON CONFLICT (event_id) DO UPDATE SET attempts = stripe_events.attempts + 1,
           line_items = coalesce(stripe_events.line_items, EXCLUDED.line_items),
           payment_intent = coalesce(stripe_events.payment_intent, EXCLUDED.payment_intent)
         RETURNING status, user_id, line_items, payment_intent`,
        [event.id, event.type, event.session?.id ?? null, event.json, storedLineItems(event.lineItems), source, paymentIntentOf(event)],
      );
      return {
        status: row!.status,
        userId: row!.user_id === null ? null : String(row!.user_id),
        lineItems: row!.line_items,
        paymentIntent: row!.payment_intent,
      };
    },
    async finish(eventId, decision) {
      await sql(
        em,
        `UPDATE stripe_events SET status = ?, outcome = ?, error_message = ?, user_id = ?, processed_at = now(),
           payment_intent = coalesce(payment_intent, ?) WHERE event_id = ?`,
        [decision.status, decision.outcome, decision.reason || null, decision.userId, decision.paymentIntent || null, eventId],
      );
    },
    async recordRejection(event, message, source) {
      await sql(
        em,
        `INSERT INTO stripe_events (event_id, event_type, status, outcome, error_message, checkout_session_id, payload, line_items, processed_at, source, payment_intent)
         VALUES (?, ?, 'failed', 'rejected', ?, ?, ?::jsonb, ?::jsonb, now(), ?, ?)
         ON CONFLICT (event_id) DO UPDATE SET status = 'failed', outcome = 'rejected', error_message = EXCLUDED.error_message,
           attempts = stripe_events.attempts + 1, processed_at = now(), line_items = coalesce(stripe_events.line_items, EXCLUDED.line_items)
         WHERE stripe_events.status NOT IN ('completed', 'ignored')`,
        [event.id, event.type, message, event.session?.id ?? null, event.json, storedLineItems(event.lineItems), source, paymentIntentOf(event)],
      );
    },
    async appliedReversals(paymentIntent) {
      const rows = await sql<{ payload: unknown }[]>(
        em,
        `SELECT payload FROM stripe_events WHERE payment_intent = ? AND status = 'completed' AND event_type IN (${REVERSAL_TYPES}) ORDER BY id`,
        [paymentIntent, ...REVERSAL_EVENT_TYPES],
      );
      return decodeStored(rows);
    },
    async takePendingReversals(paymentIntent) {
      const rows = await sql<{ payload: unknown }[]>(
        em,
        `SELECT payload FROM stripe_events WHERE payment_intent = ? AND status = 'pending' AND event_type IN (${REVERSAL_TYPES})
         ORDER BY CASE WHEN jsonb_typeof(payload->'created') = 'number' THEN (payload->>'created')::numeric END NULLS LAST, id
         FOR UPDATE SKIP LOCKED`,
        [paymentIntent, ...REVERSAL_EVENT_TYPES],
      );
      return decodeStored(rows);
    },
  };
}
