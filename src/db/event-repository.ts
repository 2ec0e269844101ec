import type { LineItem } from '../contract/stripe-event.js';
import type { EventStatus, StripeEventRepository } from '../credits/ports.js';
import type { EntityManager } from './orm.js';
import { sql } from './sql.js';

const storedLineItems = (items: readonly LineItem[]): string | null => (items.length > 0 ? JSON.stringify(items) : null);

/** One row per Stripe event; its unique event id makes concurrent deliveries queue on the claim. */
export function eventRepository(em: EntityManager): StripeEventRepository {
  return {
    async claim(event, source) {
      // The source is only inserted: a later claim of the row never changes where the event first came from.
      const [row] = await sql<{ status: EventStatus; user_id: string | null; line_items: LineItem[] | null }[]>(
        em,
        `INSERT INTO stripe_events (event_id, event_type, status, checkout_session_id, payload, line_items, source)
         VALUES (?, ?, 'processing', ?, ?::jsonb, ?::jsonb, ?)
         ON CONFLICT (event_id) DO UPDATE SET attempts = stripe_events.attempts + 1,
           line_items = coalesce(stripe_events.line_items, EXCLUDED.line_items)
         RETURNING status, user_id, line_items`,
        [event.id, event.type, event.session?.id ?? null, event.json, storedLineItems(event.lineItems), source],
      );
      return { status: row!.status, userId: row!.user_id === null ? null : String(row!.user_id), lineItems: row!.line_items };
    },
    async finish(eventId, decision) {
      await sql(
        em,
        `UPDATE stripe_events SET status = ?, outcome = ?, error_message = ?, user_id = ?, processed_at = now() WHERE event_id = ?`,
        [decision.status, decision.outcome, decision.reason || null, decision.userId, eventId],
      );
    },
    async recordRejection(event, message, source) {
      await sql(
        em,
        `INSERT INTO stripe_events (event_id, event_type, status, outcome, error_message, checkout_session_id, payload, line_items, processed_at, source)
         VALUES (?, ?, 'failed', 'rejected', ?, ?, ?::jsonb, ?::jsonb, now(), ?)
         ON CONFLICT (event_id) DO UPDATE SET status = 'failed', outcome = 'rejected', error_message = EXCLUDED.error_message,
           attempts = stripe_events.attempts + 1, processed_at = now(), line_items = coalesce(stripe_events.line_items, EXCLUDED.line_items)
         WHERE stripe_events.status NOT IN ('completed', 'ignored')`,
        [event.id, event.type, message, event.session?.id ?? null, event.json, storedLineItems(event.lineItems), source],
      );
    },
  };
}
