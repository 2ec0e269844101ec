import type { LineItem } from '../contract/stripe-event.js';
import type { EventStatus, StripeEventRepository } from '../credits/ports.js';
import type { EntityManager } from './orm.js';
import { sql } from './sql.js';

/** One row per Stripe event; its unique event id makes concurrent deliveries queue on the claim. */
export function eventRepository(em: EntityManager): StripeEventRepository {
  return {
    async claim(event) {
      const lineItems = event.lineItems.length > 0 ? JSON.stringify(event.lineItems) : null;
      const [row] = await sql<{ status: EventStatus; user_id: string | null; line_items: LineItem[] | null }[]>(
        em,
        `INSERT INTO stripe_events (event_id, event_type, status, checkout_session_id, payload, line_items)
         VALUES (?, ?, 'processing', ?, ?::jsonb, ?::jsonb)
         ON CONFLICT (event_id) DO UPDATE SET attempts = stripe_events.attempts + 1,
           line_items = coalesce(stripe_events.line_items, EXCLUDED.line_items)
         RETURNING status, user_id, line_items`,
        [event.id, event.type, event.session?.id ?? null, event.json, lineItems],
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
    async recordRejection(event, message) {
      await sql(
        em,
        `INSERT INTO stripe_events (event_id, event_type, status, outcome, error_message, checkout_session_id, payload, line_items, processed_at)
         VALUES (?, ?, 'failed', 'rejected', ?, ?, ?::jsonb, ?::jsonb, now())
         ON CONFLICT (event_id) DO UPDATE SET status = 'failed', outcome = 'rejected', error_message = EXCLUDED.error_message,
           attempts = stripe_events.attempts + 1, processed_at = now(), line_items = coalesce(stripe_events.line_items, EXCLUDED.line_items)
         WHERE stripe_events.status NOT IN ('completed', 'ignored')`,
        [event.id, event.type, message, event.session?.id ?? null, event.json, event.lineItems.length > 0 ? JSON.stringify(event.lineItems) : null],
      );
    },
  };
}
