import { Migration } from '@mikro-orm/migrations';

/**
 * Spending: the ledger learns spends and captures and records each user's balance after every row;
 * reservations hold credits for a job until it is captured, released or expires. Existing ledger
 * rows get their balance_after from a running sum per user, in id order.
 */
export class Migration20261202000100_spending extends Migration {
  override async up(): Promise<void> {
    this.addSql(`CREATE TABLE credit_reservations (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      user_id bigint NOT NULL REFERENCES users (id),
      amount bigint NOT NULL,
      status text NOT NULL DEFAULT 'held',
      idempotency_key text NOT NULL,
      description text,
      metadata jsonb NOT NULL DEFAULT '{}',
      expire_time timestamptz NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      settled_at timestamptz,
      captured_amount bigint,
      CONSTRAINT credit_reservations_idempotency_key_key UNIQUE (idempotency_key),
      CONSTRAINT credit_reservations_amount_positive CHECK (amount > 0),
      CONSTRAINT credit_reservations_status_check CHECK (status IN ('held', 'captured', 'released', 'expired')),
      CONSTRAINT credit_reservations_captured_amount_check CHECK (
        (status = 'captured' AND captured_amount BETWEEN 1 AND amount) OR (status <> 'captured' AND captured_amount IS NULL)
      ),
      CONSTRAINT credit_reservations_settled_check CHECK ((status = 'held') = (settled_at IS NULL))
    );`);
    // The sum of a user's live holds reads only the held rows that have not expired yet.
    this.addSql("CREATE INDEX credit_reservations_held_idx ON credit_reservations (user_id, expire_time) WHERE status = 'held';");

    this.addSql(`ALTER TABLE credit_transactions
      ADD COLUMN balance_after bigint,
      ADD COLUMN idempotency_key text,
      ADD COLUMN reservation_id uuid REFERENCES credit_reservations (id),
      ADD COLUMN description text,
      ADD COLUMN metadata jsonb NOT NULL DEFAULT '{}';`);
    this.addSql(`UPDATE credit_transactions t SET balance_after = running.balance
      FROM (SELECT id, sum(amount) OVER (PARTITION BY user_id ORDER BY id) AS balance FROM credit_transactions) running
      WHERE t.id = running.id;`);
    this.addSql(`ALTER TABLE credit_transactions
      DROP CONSTRAINT credit_transactions_kind_check,
      ADD CONSTRAINT credit_transactions_kind_check CHECK (kind IN ('purchase', 'grant', 'revoke', 'spend', 'capture')),
      DROP CONSTRAINT credit_transactions_amount_sign,
      ADD CONSTRAINT credit_transactions_amount_sign CHECK (
        (kind IN ('purchase', 'grant') AND amount > 0) OR (kind IN ('revoke', 'spend', 'capture') AND amount < 0)
      ),
      ADD CONSTRAINT credit_transactions_idempotency_key_key UNIQUE (idempotency_key),
      ADD CONSTRAINT credit_transactions_reservation_id_key UNIQUE (reservation_id),
      ADD CONSTRAINT credit_transactions_spend_has_key CHECK (kind <> 'spend' OR idempotency_key IS NOT NULL),
      ADD CONSTRAINT credit_transactions_capture_has_reservation CHECK (kind <> 'capture' OR reservation_id IS NOT NULL);`);
    // Keyset pagination of one user's ledger, newest first; it also serves every lookup by user_id.
    this.addSql('CREATE INDEX credit_transactions_user_id_id_idx ON credit_transactions (user_id, id);');
    this.addSql('DROP INDEX credit_transactions_user_id_idx;');
  }

  /** Fails, and changes nothing, while spends or captures are in the ledger: their credits would reappear. */
  override async down(): Promise<void> {
    this.addSql(`DO $$ BEGIN
      IF EXISTS (SELECT 1 FROM credit_transactions WHERE kind IN ('spend', 'capture')) THEN
        RAISE EXCEPTION 'the ledger holds spends or captures: rolling back would give their credits back (see docs/operations.md)';
      END IF;
    END $$;`);
    this.addSql('CREATE INDEX credit_transactions_user_id_idx ON credit_transactions (user_id);');
    this.addSql('DROP INDEX IF EXISTS credit_transactions_user_id_id_idx;');
    this.addSql(`ALTER TABLE credit_transactions
      DROP CONSTRAINT credit_transactions_capture_has_reservation,
      DROP CONSTRAINT credit_transactions_spend_has_key,
      DROP CONSTRAINT credit_transactions_reservation_id_key,
      DROP CONSTRAINT credit_transactions_idempotency_key_key,
      DROP CONSTRAINT credit_transactions_amount_sign,
      ADD CONSTRAINT credit_transactions_amount_sign CHECK (
        (kind IN ('purchase', 'grant') AND amount > 0) OR (kind = 'revoke' AND amount < 0)
      ),
      DROP CONSTRAINT credit_transactions_kind_check,
      ADD CONSTRAINT credit_transactions_kind_check CHECK (kind IN ('purchase', 'grant', 'revoke')),
      DROP COLUMN metadata,
      DROP COLUMN description,
      DROP COLUMN reservation_id,
      DROP COLUMN idempotency_key,
      DROP COLUMN balance_after;`);
    this.addSql('DROP TABLE credit_reservations;');
  }
}
