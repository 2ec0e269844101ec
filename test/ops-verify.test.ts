import { correctBalance } from '../src/credits/corrections';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatVerifyReport, verifyDatabase, type VerifyReport } from '../src/ops/verify';
import { cli } from './support/cli';
import { startCreditsHarness, type CreditsHarness } from './support/credits-harness';
import { insertUser, sendCheckout, uniqueEmail } from './support/ops-seed';
import { stripeId } from './support/stripe-events';

let h: CreditsHarness;
let buyer: { id: string; uuid: string };

beforeAll(async () => {
  h = await startCreditsHarness();
  // A consistent history: purchases, a duplicate, a rejection, an ignored event, a support grant.
  const first = await sendCheckout(h, { email: uniqueEmail('verify') });
  buyer = { id: first.response.user!.legacy_id, uuid: first.response.user!.id };
  await sendCheckout(h, { email: null, client_reference_id: buyer.uuid, metadata: { credits: '250' } });
  await sendCheckout(h, { email: null, customer_email: null, client_reference_id: null });
  await sendCheckout(h, { mode: 'subscription' });
  await correctBalance(h.store, 'grant', { user: buyer.uuid, credits: 5, reason: 'seed', operator: 'support-test' });
});
afterAll(() => h?.close());

const problems = (report: VerifyReport) => report.checks.filter((check) => check.status === 'problem').map((check) => check.id);

/** Breaks the database with raw SQL, checks, then repairs it, so each case starts consistent. */
async function whileBroken(breakIt: string[], repair: string[], check: (report: VerifyReport) => Promise<void> | void) {
  for (const statement of breakIt) await h.sql.query(statement);
  try {
    await check(await verifyDatabase(h.orm));
  } finally {
    for (const statement of repair) await h.sql.query(statement);
  }
}

// Child processes are slow on a busy 2-core machine: a generous bound, never a timing assertion.
describe('verify', { timeout: 90_000 }, () => {
  it('when the database is consistent, then every check passes, and the CLI says so and exits 0', async () => {
    const report = await verifyDatabase(h.orm);
    expect(problems(report)).toEqual([]);
    expect(report).toMatchObject({ ok: true, problemCount: 0 });
    expect(report.checks.map((check) => check.id)).toEqual([
      'schema.columns',
      'schema.constraints',
      'schema.indexes',
      'schema.migrations',
      'invariant.balance_matches_ledger',
      'invariant.balance_non_negative',
      'invariant.session_credited_once',
      'invariant.applied_event_has_ledger',
      'invariant.reversal_within_purchase',
      'invariant.reversal_has_event',
      'invariant.purchase_has_applied_event',
      'invariant.correction_has_operator',
      'invariant.nothing_stuck_processing',
      'invariant.uncaptured_reservation_has_no_capture',
      'invariant.captured_reservation_has_capture',
      'invariant.available_non_negative',
      'invariant.balance_after_matches_balance',
    ]);

    const text = await cli(['verify'], h.database.url);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('Result: OK, no problem found');
  });

  it('when a balance drifts from its ledger, then the CLI names the user and exits 1', async () => {
    await whileBroken(
      [`UPDATE users SET credits_balance = credits_balance + 7 WHERE id = ${buyer.id}`],
      [`UPDATE users SET credits_balance = credits_balance - 7 WHERE id = ${buyer.id}`],
      async (report) => {
        // The balance moved without a ledger row: it differs from the ledger sum and from the newest row's balance_after.
        expect(problems(report)).toEqual(['invariant.balance_matches_ledger', 'invariant.balance_after_matches_balance']);
        expect(report.checks.find((c) => c.id === 'invariant.balance_matches_ledger')!.problems).toEqual([
          `user ${buyer.id} (${buyer.uuid}): balance 362, ledger sum 355`,
        ]);
        expect(report.checks.find((c) => c.id === 'invariant.balance_after_matches_balance')!.problems).toEqual([
          expect.stringMatching(new RegExp(`^user ${buyer.id} \\(${buyer.uuid}\\): balance 362, newest ledger row \\d+ records 355$`)),
        ]);
        const run = await cli(['verify'], h.database.url);
        expect(run.code).toBe(1);
        expect(run.stdout).toContain('FAIL every balance equals the sum of its ledger rows: 1 problem(s)');
        expect(run.stdout).toContain(`balance 362, ledger sum 355`);
        expect(run.stdout).toContain('Result: 2 problem(s) found');
        expect(run.stderr).toBe('');
      },
    );
  });

  it('when an event is stuck in processing, then it is reported (and a fresh one is not)', async () => {
    const stuck = stripeId('evt');
    const fresh = stripeId('evt');
    await whileBroken(
      [
        `INSERT INTO stripe_events (event_id, event_type, status, payload, received_at)
         VALUES ('${stuck}', 'checkout.session.completed', 'processing', '{}', now() - interval '1 hour'),
                ('${fresh}', 'checkout.session.completed', 'processing', '{}', now())`,
      ],
      [`DELETE FROM stripe_events WHERE event_id IN ('${stuck}', '${fresh}')`],
      async (report) => {
        expect(problems(report)).toEqual(['invariant.nothing_stuck_processing']);
        const check = report.checks.find((c) => c.id === 'invariant.nothing_stuck_processing')!;
        expect(check.count).toBe(1);
        expect(check.problems[0]).toContain(stuck);
        // The CLI starts seconds later on a busy machine: a wider bound keeps the fresh event fresh.
        const run = await cli(['verify', '--json', '--stuck-after', '600'], h.database.url);
        expect(run.code).toBe(1);
        expect(JSON.parse(run.stdout)).toMatchObject({ ok: false, problemCount: 1 });
      },
    );
  });

  it('when an event is completed as applied without its ledger row, then it is reported', async () => {
    const orphan = stripeId('evt');
    await whileBroken(
      [
        `INSERT INTO stripe_events (event_id, event_type, status, outcome, checkout_session_id, payload, processed_at)
         VALUES ('${orphan}', 'checkout.session.completed', 'completed', 'applied', '${stripeId('cs')}', '{}', now())`,
      ],
      [`DELETE FROM stripe_events WHERE event_id = '${orphan}'`],
      async (report) => {
        expect(problems(report)).toEqual(['invariant.applied_event_has_ledger']);
        expect(report.checks.find((c) => c.id === 'invariant.applied_event_has_ledger')!.problems[0]).toContain(orphan);
        expect(formatVerifyReport(report)).toContain(`FAIL every applied event has its ledger row: 1 problem(s)`);
      },
    );
  });

  it('when the one-credit-per-session key is gone and a session is credited twice, then both are reported', async () => {
    const { rows } = await h.sql.query(`SELECT checkout_session_id FROM credit_transactions WHERE kind = 'purchase' AND user_id = $1 LIMIT 1`, [buyer.id]);
    const session = rows[0].checkout_session_id as string;
    await whileBroken(
      [
        'ALTER TABLE credit_transactions DROP CONSTRAINT credit_transactions_checkout_session_id_key',
        `INSERT INTO credit_transactions (user_id, amount, kind, checkout_session_id) VALUES (${buyer.id}, 100, 'purchase', '${session}')`,
        `UPDATE users SET credits_balance = credits_balance + 100 WHERE id = ${buyer.id}`,
      ],
      [
        `DELETE FROM credit_transactions WHERE id = (SELECT max(id) FROM credit_transactions WHERE checkout_session_id = '${session}')`,
        `UPDATE users SET credits_balance = credits_balance - 100 WHERE id = ${buyer.id}`,
        'ALTER TABLE credit_transactions ADD CONSTRAINT credit_transactions_checkout_session_id_key UNIQUE (checkout_session_id)',
      ],
      (report) => {
        expect(problems(report)).toEqual(['schema.constraints', 'invariant.session_credited_once', 'invariant.purchase_has_applied_event']);
        expect(report.checks.find((c) => c.id === 'invariant.session_credited_once')!.problems).toEqual([
          `checkout session ${session}: 2 purchase rows`,
        ]);
      },
    );
  });

  it('when the balance check is dropped and a balance goes negative, then both are reported', async () => {
    const user = await insertUser(h, uniqueEmail('negative'));
    await whileBroken(
      [
        'ALTER TABLE users DROP CONSTRAINT users_credits_balance_non_negative',
        `INSERT INTO credit_transactions (user_id, amount, kind, reason, created_by) VALUES (${user.id}, -3, 'revoke', 'test', 'support-test')`,
        `UPDATE users SET credits_balance = -3 WHERE id = ${user.id}`,
      ],
      [
        `DELETE FROM credit_transactions WHERE user_id = ${user.id}`,
        `UPDATE users SET credits_balance = 0 WHERE id = ${user.id}`,
        'ALTER TABLE users ADD CONSTRAINT users_credits_balance_non_negative CHECK (credits_balance >= 0)',
      ],
      (report) => {
        expect(problems(report)).toEqual(['schema.constraints', 'invariant.balance_non_negative']);
        expect(formatVerifyReport(report)).toContain('users_credits_balance_non_negative is missing (a balance is never negative)');
      },
    );
  });

  it('when an index is missing or a migration is pending, then the schema checks report it', async () => {
    await whileBroken(
      ['DROP INDEX stripe_customers_user_id_idx', `UPDATE mikro_orm_migrations SET name = name || '_hidden' WHERE name = 'Migration20261126000000_credits_schema'`],
      [
        'CREATE INDEX stripe_customers_user_id_idx ON stripe_customers (user_id)',
        `UPDATE mikro_orm_migrations SET name = replace(name, '_hidden', '')`,
      ],
      (report) => {
        expect(problems(report)).toEqual(['schema.indexes', 'schema.migrations']);
        const migrations = report.checks.find((c) => c.id === 'schema.migrations')!;
        expect(migrations.problems).toContain('migration Migration20261126000000_credits_schema is pending: run `npm run migrate`');
        expect(migrations.problems).toContain(
          'migration Migration20261126000000_credits_schema_hidden was executed but is not in this code (newer code rolled back?)',
        );
      },
    );
    expect((await verifyDatabase(h.orm)).ok).toBe(true);
  });

  it('when a purchase row has no applied Stripe event behind it (forged), then it is reported by its row and user', async () => {
    const user = await insertUser(h, uniqueEmail('forged'));
    await whileBroken(
      [
        `INSERT INTO credit_transactions (user_id, amount, kind, checkout_session_id, stripe_event_id) VALUES (${user.id}, 1000, 'purchase', '${stripeId('cs')}', '${stripeId('evt')}')`,
        `UPDATE users SET credits_balance = credits_balance + 1000 WHERE id = ${user.id}`,
      ],
      [`DELETE FROM credit_transactions WHERE user_id = ${user.id}`, `UPDATE users SET credits_balance = 0 WHERE id = ${user.id}`],
      async (report) => {
        expect(problems(report)).toEqual(['invariant.purchase_has_applied_event']);
        expect(report.checks.find((c) => c.id === 'invariant.purchase_has_applied_event')!.problems[0]).toContain(`(user ${user.id})`);
        expect((await cli(['verify'], h.database.url)).code).toBe(1);
      },
    );
  });

  it('when a manual grant names no operator (its check dropped), then both are reported', async () => {
    const user = await insertUser(h, uniqueEmail('anonymous'));
    await whileBroken(
      [
        'ALTER TABLE credit_transactions DROP CONSTRAINT credit_transactions_correction_has_operator',
        `INSERT INTO credit_transactions (user_id, amount, kind, reason) VALUES (${user.id}, 5, 'grant', 'who?')`,
        `UPDATE users SET credits_balance = credits_balance + 5 WHERE id = ${user.id}`,
      ],
      [
        `DELETE FROM credit_transactions WHERE user_id = ${user.id}`,
        `UPDATE users SET credits_balance = 0 WHERE id = ${user.id}`,
        `ALTER TABLE credit_transactions ADD CONSTRAINT credit_transactions_correction_has_operator CHECK (kind NOT IN ('grant', 'revoke') OR created_by IS NOT NULL)`,
      ],
      (report) => {
        expect(problems(report)).toEqual(['schema.constraints', 'invariant.correction_has_operator']);
      },
    );
  });

  it('when the command line is wrong, then it exits 2 with a hint, and --help exits 0', async () => {
    const wrong = await cli(['verify', '--stuck-after', 'soon'], h.database.url);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('--stuck-after must be a positive integer');
    expect(wrong.stderr).toContain('npm run cli -- verify --help');
    const help = await cli(['verify', '--help'], 'postgres://nobody@127.0.0.1:1/none');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: npm run cli -- verify');
  });
});
