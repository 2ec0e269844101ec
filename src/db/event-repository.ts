import type { EventStatus, StripeEventRepository } from '../credits/ports.js';
import type { EntityManager } from './orm.js';
import { sql } from './sql.js';

/** One row per Stripe event; its unique event id makes concurrent deliveries queue on the claim. */
export function eventRepository(em: EntityManager): StripeEventRepository {
  return {
    async claim(event, source) {
      // The source is only inserted: a later claim of the row never changes where the event first came from.
      const [row] = await sql<{ status: EventStatus; user_id: string | null }[]>(
        em,
        `INSERT INTO stripe_events (event_id, event_type, status, checkout_session_id, payload, source)
         VALUES (?, ?, 'processing', ?, ?::jsonb, ?)
         ON CONFLICT (event_id) DO UPDATE SET attempts = stripe_events.attempts + 1
         RETURNING status, user_id`,
        [event.id, event.type, event.session?.id ?? null, event.json, source],
      );
      return { status: row!.status, userId: row!.user_id === null ? null : String(row!.user_id) };
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
        `INSERT INTO stripe_events (event_id, event_type, status, outcome, error_message, checkout_session_id, payload, processed_at, source)
         VALUES (?, ?, 'failed', 'rejected', ?, ?, ?::jsonb, now(), ?)
         ON CONFLICT (event_id) DO UPDATE SET status = 'failed', outcome = 'rejected', error_message = EXCLUDED.error_message,
           attempts = stripe_events.attempts + 1, processed_at = now()
         WHERE stripe_events.status NOT IN ('completed', 'ignored')`,
        [event.id, event.type, message, event.session?.id ?? null, event.json, source],
      );
    },
  };
}
