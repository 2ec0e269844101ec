import { ConfigError, loadConfig } from '../../config.js';
import { migrationStatus } from '../../db/migrations.js';
import { OperationRefused } from '../../ops/errors.js';
import {
  DEFAULT_RECONCILE_WINDOW_MS,
  STRIPE_EVENT_RETENTION_MS,
  formatReconcileReport,
  reconcileEvents,
  reconcileFailed,
} from '../../ops/reconcile.js';
import { stripeApiFromConfig } from '../../stripe-api/client.js';
import { parseOptions, parseSince, UsageError } from '../args.js';
import { EXIT, type CliCommand } from '../command.js';
import { withDatabase } from '../context.js';
import { print } from '../io.js';
import { progressBar } from '../progress.js';

const HELP = `Usage: npm run cli -- reconcile [--since <when>] [--undelivered-only] [--dry-run] [--json]

Finds the Stripe events this service never stored (the webhook endpoint was down longer than
Stripe retries, the webhook secret was wrong, an event was answered 400 by a bug) and applies
them. It lists the event types the service handles (checkout.session.completed,
checkout.session.async_payment_succeeded, checkout.session.async_payment_failed, charge.refunded,
charge.dispute.created, charge.dispute.closed) from Stripe's Events API, every page, skips those
stored as completed, ignored or pending, and applies the rest through the same path as a webhook:
line items (and a disputed charge's PaymentIntent) fetched from the Stripe API, the same outcomes
and the same dedupe. A purchase delivered both by webhook and by reconcile is credited
once, so running it again, or while the webhook is delivering, is safe. Each event is its own
transaction. Events it stores are recorded with source 'reconcile'.

Needs STRIPE_SECRET_KEY (a restricted key needs read access to Events, Checkout Sessions and Charges);
STRIPE_API_BASE, STRIPE_API_TIMEOUT_MS and STRIPE_API_MAX_RETRIES apply as for the edge.

Options:
  --since <when>      events created since then: a duration back from now (30m, 24h, 7d) or an
                      ISO date (2026-11-01, 2026-11-01T12:00:00Z); default 3d; at most 30d, the
                      time Stripe keeps events
  --undelivered-only  only events Stripe has not delivered successfully to every endpoint
                      (delivery_success=false); faster, but misses an event Stripe delivered
                      and the service did not store
  --dry-run           list what would be applied (and what it buys), write nothing
  --json              print the report as JSON (stdout)
  -h, --help          show this help

A progress bar is drawn on stderr when it is a terminal. The summary counts events listed,
already done, applied, pending, failed (with their ids), duplicate, ignored and rejected.
Exit codes: 0 every listed event is settled or stored; 1 some event could not be applied
(the Stripe API failed for its line items, it does not decode, the database) or the run could
not finish (listing kept failing: it says how far it got; run it again); 2 usage error;
78 STRIPE_SECRET_KEY unset or the configuration invalid.

Examples:
  npm run cli -- reconcile --dry-run
  npm run cli -- reconcile --since 7d
  npm run cli -- reconcile --since 2026-11-20T08:00:00Z --undelivered-only --json`;

function windowStart(since: string | undefined, now = new Date()): Date {
  const start = since === undefined ? new Date(now.getTime() - DEFAULT_RECONCILE_WINDOW_MS) : parseSince('since', since, now);
  if (now.getTime() - start.getTime() > STRIPE_EVENT_RETENTION_MS) {
    throw new UsageError(`--since ${since} is more than 30 days ago: Stripe keeps events for 30 days, so older ones cannot be listed`);
  }
  return start;
}

export const reconcileCommand: CliCommand = {
  name: 'reconcile',
  summary: "apply the Stripe events the webhook missed, listed from Stripe's Events API",
  help: HELP,
  async run(argv, io) {
    const options = parseOptions(argv, {
      since: { type: 'string' },
      'undelivered-only': { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      json: { type: 'boolean' },
    });
    if (options.help) {
      print(io.stdout, HELP);
      return EXIT.ok;
    }
    const since = windowStart(options.since);
    const stripe = stripeApiFromConfig(loadConfig().stripe);
    if (!stripe) {
      throw new ConfigError(
        'STRIPE_SECRET_KEY: required for reconcile (it lists events from the Stripe API): a secret key (sk_…) or a restricted key (rk_…) with read access to Events, Checkout Sessions and Charges',
      );
    }
    const progress = progressBar(io.stderr);
    const report = await withDatabase(io, async ({ orm, store, config, logger }) => {
      const { pending } = await migrationStatus(orm);
      if (pending.length) throw new OperationRefused(`the database has ${pending.length} pending migration(s): run \`npm run migrate\` first`);
      return reconcileEvents(
        { em: orm.em.fork(), store, stripe },
        {
          since,
          rules: config.credits,
          logger,
          undeliveredOnly: options['undelivered-only'] ?? false,
          dryRun: options['dry-run'] ?? false,
          onProgress: (handled, listed, item) => progress.update(handled, listed, item ? `${item.eventId} ${item.outcome}` : 'already done'),
        },
      );
    }).finally(() => progress.finish());
    print(io.stdout, options.json ? JSON.stringify(report, null, 2) : formatReconcileReport(report));
    return reconcileFailed(report) ? EXIT.problem : EXIT.ok;
  },
};
