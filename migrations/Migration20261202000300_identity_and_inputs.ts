import { Migration } from '@mikro-orm/migrations';
import { normalizeEmail } from '../src/credits/identifiers.js';

/**
 * Identity and inputs (docs/operations.md, migrations):
 * - `users.email_normalized`: the email as the application normalizes it (NFKC, lower case,
 *   trimmed), unique, so identity no longer depends on the database's collation;
 * - `stripe_customers`: a Stripe customer belongs to one user, a user may have several; the old
 *   `users.stripe_customer_id` moves there (where two users shared one, the lowest id keeps it, as
 *   lookups already chose);
 * - `stripe_events.line_items`: the line items a purchase was credited from, so replay and
 *   reconcile compute the same credits as the webhook did;
 * - `credit_transactions.created_by`: who wrote a row (the operator of a manual correction).
 */
export class Migration20261202000300_identity_and_inputs extends Migration {
  override async up(): Promise<void> {
    this.addSql('ALTER TABLE users ADD COLUMN email_normalized text;');
    await this.backfillNormalizedEmails();
    this.addSql('CREATE UNIQUE INDEX users_email_normalized_key ON users (email_normalized);');
    // Rows written by other systems (the adopted legacy table may still have writers) get the
    // database's approximation of normalizeEmail, identical for ASCII addresses; this service
    // always writes its own. normalize() needs PostgreSQL 13 and a UTF8 database.
    this.addSql(`DO $do$ BEGIN
      EXECUTE format($fn$CREATE FUNCTION users_email_normalized_default() RETURNS trigger LANGUAGE plpgsql AS $body$
        BEGIN
          IF NEW.email IS NULL THEN
            NEW.email_normalized := NULL;
          ELSIF NEW.email_normalized IS NULL
             OR (TG_OP = 'UPDATE' AND NEW.email IS DISTINCT FROM OLD.email AND NEW.email_normalized IS NOT DISTINCT FROM OLD.email_normalized) THEN
            NEW.email_normalized := regexp_replace(lower(btrim(%s, E' \\t\\r\\n')), '\\.$', '');
          END IF;
          RETURN NEW;
        END $body$$fn$,
        CASE WHEN current_setting('server_version_num')::int >= 130000 AND current_setting('server_encoding') = 'UTF8'
          THEN 'normalize(NEW.email, NFKC)' ELSE 'NEW.email' END);
    END $do$;`);
    this.addSql(`CREATE TRIGGER users_email_normalized BEFORE INSERT OR UPDATE OF email, email_normalized ON users
      FOR EACH ROW EXECUTE FUNCTION users_email_normalized_default();`);
    this.addSql('DROP INDEX IF EXISTS users_email_lower_key;');

    this.addSql(`CREATE TABLE stripe_customers (
      customer_id text PRIMARY KEY,
      user_id bigint NOT NULL REFERENCES users (id),
      created_at timestamptz NOT NULL DEFAULT now()
    );`);
    this.addSql('CREATE INDEX stripe_customers_user_id_idx ON stripe_customers (user_id);');
    this.addSql(`INSERT INTO stripe_customers (customer_id, user_id)
      SELECT DISTINCT ON (stripe_customer_id) stripe_customer_id, id FROM users
      WHERE stripe_customer_id IS NOT NULL ORDER BY stripe_customer_id, id;`);
    this.addSql('DROP INDEX IF EXISTS users_stripe_customer_id_idx;');
    this.addSql('ALTER TABLE users DROP COLUMN stripe_customer_id;');

    this.addSql('ALTER TABLE stripe_events ADD COLUMN line_items jsonb;');

    this.addSql('ALTER TABLE credit_transactions ADD COLUMN created_by text;');
    // Corrections written before operators were recorded say so, rather than passing for attributed.
    this.addSql("UPDATE credit_transactions SET created_by = 'unrecorded (before 2026-12-02)' WHERE kind IN ('grant', 'revoke');");
    this.addSql(`ALTER TABLE credit_transactions ADD CONSTRAINT credit_transactions_correction_has_operator
      CHECK (kind NOT IN ('grant', 'revoke') OR created_by IS NOT NULL);`);
  }

  /** The normalization is the application's (src/credits/identifiers.ts), so it is computed here, not in SQL. */
  private async backfillNormalizedEmails(): Promise<void> {
    const [present] = await this.execute("SELECT to_regclass('users') IS NOT NULL AS present");
    if (!present?.present) return; // a dry run on an empty database: no rows to backfill
    const rows = (await this.execute('SELECT id, email FROM users WHERE email IS NOT NULL ORDER BY id')) as { id: string; email: string }[];
    const byKey = new Map<string, string[]>();
    for (const row of rows) byKey.set(normalizeEmail(row.email), [...(byKey.get(normalizeEmail(row.email)) ?? []), String(row.id)]);
    const clashes = [...byKey.values()].filter((ids) => ids.length > 1);
    if (clashes.length > 0) {
      throw new Error(
        `users ${clashes.map((ids) => ids.join(' and ')).join('; ')} have emails that are the same address once normalized: merge them first, nothing was changed`,
      );
    }
    const mapping = rows.map((row) => ({ id: String(row.id), key: normalizeEmail(row.email) }));
    for (let start = 0; start < mapping.length; start += 5_000) {
      const chunk = JSON.stringify(mapping.slice(start, start + 5_000));
      this.addSql(
        this.getKnex()
          .raw('UPDATE users SET email_normalized = m.key FROM jsonb_to_recordset(?::jsonb) AS m(id bigint, key text) WHERE users.id = m.id', [chunk])
          .toQuery(),
      );
    }
  }

  override async down(): Promise<void> {
    this.addSql('ALTER TABLE credit_transactions DROP CONSTRAINT IF EXISTS credit_transactions_correction_has_operator;');
    this.addSql('ALTER TABLE credit_transactions DROP COLUMN IF EXISTS created_by;');
    this.addSql('ALTER TABLE stripe_events DROP COLUMN IF EXISTS line_items;');
    this.addSql('ALTER TABLE users ADD COLUMN stripe_customer_id text;');
    this.addSql(`UPDATE users SET stripe_customer_id = c.customer_id FROM (
      SELECT DISTINCT ON (user_id) user_id, customer_id FROM stripe_customers ORDER BY user_id, created_at
    ) c WHERE users.id = c.user_id;`);
    this.addSql('CREATE INDEX users_stripe_customer_id_idx ON users (stripe_customer_id) WHERE stripe_customer_id IS NOT NULL;');
    this.addSql('DROP TABLE IF EXISTS stripe_customers;');
    this.addSql('CREATE UNIQUE INDEX IF NOT EXISTS users_email_lower_key ON users (lower(email));');
    this.addSql('DROP TRIGGER IF EXISTS users_email_normalized ON users;');
    this.addSql('DROP FUNCTION IF EXISTS users_email_normalized_default();');
    this.addSql('DROP INDEX IF EXISTS users_email_normalized_key;');
    this.addSql('ALTER TABLE users DROP COLUMN IF EXISTS email_normalized;');
  }
}
