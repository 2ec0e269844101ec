import { Migration } from '@mikro-orm/migrations';

/**
 * Where each stored Stripe event came from: `webhook` (Stripe delivered it to the edge) or
 * `reconcile` (found missing in Stripe's Events API and applied by `reconcile`). Set once, by the
 * insert that claims the event; later deliveries, reconciles and replays never change it. Rows
 * stored before this migration were all delivered by webhook, which the default records.
 */
export class Migration20261202000200_event_source extends Migration {
  override async up(): Promise<void> {
    // A constant default: PostgreSQL 11+ adds the column without rewriting the table.
    this.addSql(`ALTER TABLE stripe_events
      ADD COLUMN source text NOT NULL DEFAULT 'webhook',
      ADD CONSTRAINT stripe_events_source_check CHECK (source IN ('webhook', 'reconcile'));`);
  }

  override async down(): Promise<void> {
    this.addSql('ALTER TABLE stripe_events DROP CONSTRAINT IF EXISTS stripe_events_source_check, DROP COLUMN IF EXISTS source;');
  }
}
