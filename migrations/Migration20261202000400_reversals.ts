import { Migration } from '@mikro-orm/migrations';

const REVERSAL_KINDS = "('refund', 'dispute', 'dispute_won')";

/**
 * Refunds and disputes take back the credits they paid for (docs/operations.md, migrations):
 * - `credit_transactions.payment_intent`: a purchase remembers its PaymentIntent, how refunds and
 *   disputes find it; purchases credited before are backfilled from their applying event's stored
 *   payload (`payload->'data'->'object'->>'payment_intent'`, or the id of an expanded one);
 * - ledger kinds `refund`, `dispute` (amount ≤ 0) and `dispute_won` (amount ≥ 0), each naming the
 *   purchase it reverses (`purchase_id`), its Stripe event and its charge or dispute, with the
 *   cumulative `refunded_amount` a refund brought the charge to, and the `shortfall`: credits a
 *   reversal was due to take but could not (spent, or held by reservations); on a `dispute_won`
 *   row, credits of the reversal not given back because they had never been taken;
 * - one refund row per (charge, cumulative amount), one dispute row and one win per dispute id;
 * - `stripe_events.payment_intent`: the PaymentIntent an event concerns, so the reversals waiting
 *   for a purchase (status pending) are found when it is credited. Set for events stored from now on.
 */
export class Migration20261202000400_reversals extends Migration {
  override async up(): Promise<void> {
    this.addSql(`ALTER TABLE credit_transactions
      ADD COLUMN payment_intent text,
      ADD COLUMN purchase_id bigint REFERENCES credit_transactions (id),
      ADD COLUMN stripe_charge_id text,
      ADD COLUMN stripe_dispute_id text,
      ADD COLUMN refunded_amount bigint,
      ADD COLUMN shortfall bigint NOT NULL DEFAULT 0;`);
    this.addSql(`UPDATE credit_transactions t SET payment_intent = CASE jsonb_typeof(e.payload->'data'->'object'->'payment_intent')
        WHEN 'string' THEN e.payload->'data'->'object'->>'payment_intent'
        WHEN 'object' THEN e.payload->'data'->'object'->'payment_intent'->>'id'
      END
      FROM stripe_events e
      WHERE t.kind = 'purchase' AND t.payment_intent IS NULL AND e.event_id = t.stripe_event_id;`);
    this.addSql("UPDATE credit_transactions SET payment_intent = NULL WHERE payment_intent = '';");
    this.addSql(`ALTER TABLE credit_transactions
      DROP CONSTRAINT credit_transactions_kind_check,
      ADD CONSTRAINT credit_transactions_kind_check
        CHECK (kind IN ('purchase', 'grant', 'revoke', 'spend', 'capture', 'refund', 'dispute', 'dispute_won')),
      DROP CONSTRAINT credit_transactions_amount_sign,
      ADD CONSTRAINT credit_transactions_amount_sign CHECK (
        (kind IN ('purchase', 'grant') AND amount > 0) OR (kind IN ('revoke', 'spend', 'capture') AND amount < 0)
        OR (kind IN ('refund', 'dispute') AND amount <= 0) OR (kind = 'dispute_won' AND amount >= 0)
      ),
      ADD CONSTRAINT credit_transactions_shortfall_check CHECK (shortfall >= 0 AND (shortfall = 0 OR kind IN ${REVERSAL_KINDS})),
      ADD CONSTRAINT credit_transactions_reversal_not_empty CHECK (kind NOT IN ${REVERSAL_KINDS} OR amount <> 0 OR shortfall > 0),
      ADD CONSTRAINT credit_transactions_reversal_has_purchase
        CHECK (kind NOT IN ${REVERSAL_KINDS} OR (purchase_id IS NOT NULL AND stripe_event_id IS NOT NULL)),
      ADD CONSTRAINT credit_transactions_refund_has_charge
        CHECK (kind <> 'refund' OR (stripe_charge_id IS NOT NULL AND refunded_amount IS NOT NULL)),
      ADD CONSTRAINT credit_transactions_dispute_has_id CHECK (kind NOT IN ('dispute', 'dispute_won') OR stripe_dispute_id IS NOT NULL);`);
    // A redelivered refund or dispute, or one applied by two paths at once, moves nothing twice.
    this.addSql("CREATE UNIQUE INDEX credit_transactions_refund_key ON credit_transactions (stripe_charge_id, refunded_amount) WHERE kind = 'refund';");
    this.addSql("CREATE UNIQUE INDEX credit_transactions_dispute_key ON credit_transactions (stripe_dispute_id) WHERE kind = 'dispute';");
    this.addSql("CREATE UNIQUE INDEX credit_transactions_dispute_won_key ON credit_transactions (stripe_dispute_id) WHERE kind = 'dispute_won';");
    // Not unique: a PaymentIntent pays for one session, but a second purchase row must never be refused as a "duplicate".
    this.addSql('CREATE INDEX credit_transactions_payment_intent_idx ON credit_transactions (payment_intent) WHERE payment_intent IS NOT NULL;');
    this.addSql('CREATE INDEX credit_transactions_purchase_id_idx ON credit_transactions (purchase_id) WHERE purchase_id IS NOT NULL;');

    this.addSql('ALTER TABLE stripe_events ADD COLUMN payment_intent text;');
    this.addSql('CREATE INDEX stripe_events_payment_intent_idx ON stripe_events (payment_intent) WHERE payment_intent IS NOT NULL;');
  }

  /** Fails, and changes nothing, while reversals are in the ledger: dropping them would leave balances no ledger explains. */
  override async down(): Promise<void> {
    this.addSql(`DO $$ BEGIN
      IF EXISTS (SELECT 1 FROM credit_transactions WHERE kind IN ${REVERSAL_KINDS}) THEN
        RAISE EXCEPTION 'the ledger holds refunds or disputes: rolling back would drop them (see docs/operations.md)';
      END IF;
    END $$;`);
    this.addSql('DROP INDEX IF EXISTS stripe_events_payment_intent_idx;');
    this.addSql('ALTER TABLE stripe_events DROP COLUMN IF EXISTS payment_intent;');
    this.addSql('DROP INDEX IF EXISTS credit_transactions_purchase_id_idx;');
    this.addSql('DROP INDEX IF EXISTS credit_transactions_payment_intent_idx;');
    this.addSql('DROP INDEX IF EXISTS credit_transactions_dispute_won_key;');
    this.addSql('DROP INDEX IF EXISTS credit_transactions_dispute_key;');
    this.addSql('DROP INDEX IF EXISTS credit_transactions_refund_key;');
    this.addSql(`ALTER TABLE credit_transactions
      DROP CONSTRAINT credit_transactions_dispute_has_id,
      DROP CONSTRAINT credit_transactions_refund_has_charge,
      DROP CONSTRAINT credit_transactions_reversal_has_purchase,
      DROP CONSTRAINT credit_transactions_reversal_not_empty,
      DROP CONSTRAINT credit_transactions_shortfall_check,
      DROP CONSTRAINT credit_transactions_amount_sign,
      ADD CONSTRAINT credit_transactions_amount_sign CHECK (
        (kind IN ('purchase', 'grant') AND amount > 0) OR (kind IN ('revoke', 'spend', 'capture') AND amount < 0)
      ),
      DROP CONSTRAINT credit_transactions_kind_check,
      ADD CONSTRAINT credit_transactions_kind_check CHECK (kind IN ('purchase', 'grant', 'revoke', 'spend', 'capture')),
      DROP COLUMN shortfall,
      DROP COLUMN refunded_amount,
      DROP COLUMN stripe_dispute_id,
      DROP COLUMN stripe_charge_id,
      DROP COLUMN purchase_id,
      DROP COLUMN payment_intent;`);
  }
}
