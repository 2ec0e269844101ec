import { stripeChargeLookup } from '../../stripe-api/charge-lookup.js';
import { creditableLineItems, stripeApiFromConfig } from '../../stripe-api/client.js';
import { formatReplayReport, replayEvents, replayNeedsAttention, type ReplaySelection } from '../../ops/replay.js';
import { parseOptions, parseSince, UsageError } from '../args.js';
import { EXIT, type CliCommand } from '../command.js';
import { withDatabase } from '../context.js';
import { print } from '../io.js';
import { progressBar } from '../progress.js';

const HELP = `Usage: npm run cli -- replay (--event <id> | --failed [--since <when>]) [--dry-run] [--json]

Re-processes stored Stripe events from their stored raw payload (stripe_events.payload), through
the same path as a webhook delivered over gRPC (ApplyCheckout). Idempotent: an event or Checkout
Session already credited answers 'duplicate' and changes nothing, so replaying twice is safe.
Refunds and disputes (charge.refunded, charge.dispute.*) are re-applied the same way: a reversal
already applied moves nothing again; a dispute that names only its charge has the charge looked up
in the Stripe API when STRIPE_SECRET_KEY is set (rejected charge_lookup_unavailable otherwise).

The credits come from the same inputs the webhook used: the line items stored with the event
when it was first delivered, else the session's metadata (credits / credit_amount /
credits_to_add). An event stored without line items whose credits line items could decide
(STRIPE_PRICE_CREDITS is set) has them fetched from the Stripe API as the edge does, when
STRIPE_SECRET_KEY is set; without the key it is refused (line_items_unknown) rather than credited
from metadata, which could give another amount.

Options:
  --event <id>      replay this one event (evt_...), whatever its status
  --failed          replay every event stored as 'failed' (rejected), oldest first
  --since <when>    with --failed: only events received since then, an ISO date (2026-11-01,
                    2026-11-01T12:00:00Z) or a duration back from now (30m, 24h, 7d)
  --dry-run         show what would be replayed (and what its metadata buys), write nothing
  --json            print the report as JSON (stdout)
  -h, --help        show this help

A progress bar is drawn on stderr when it is a terminal. The summary counts outcomes: applied,
duplicate, payment_pending, payment_failed, ignored, rejected, purchase_pending, error.
Exit codes: 0 every event settled; 1 some event is still rejected or could not be processed, or
the event id is not stored; 2 usage error.

Examples:
  npm run cli -- replay --failed --dry-run
  npm run cli -- replay --failed --since 2026-11-20
  npm run cli -- replay --event evt_1QxYz...`;

function selectionFrom(options: { event?: string; failed?: boolean; since?: string }): ReplaySelection {
  if (options.event !== undefined && options.failed) throw new UsageError('use either --event or --failed, not both');
  if (options.event !== undefined) {
    if (options.since !== undefined) throw new UsageError('--since goes with --failed, not with --event');
    if (options.event.trim() === '') throw new UsageError('--event needs an event id');
    return { eventId: options.event.trim() };
  }
  if (!options.failed) throw new UsageError('say what to replay: --event <id> or --failed');
  return { failed: true, since: options.since === undefined ? undefined : parseSince('since', options.since) };
}

export const replayCommand: CliCommand = {
  name: 'replay',
  summary: 're-process stored events (one by id, or every failed one) idempotently',
  help: HELP,
  async run(argv, io) {
    const options = parseOptions(argv, {
      event: { type: 'string' },
      failed: { type: 'boolean' },
      since: { type: 'string' },
      'dry-run': { type: 'boolean' },
      json: { type: 'boolean' },
    });
    if (options.help) {
      print(io.stdout, HELP);
      return EXIT.ok;
    }
    const selection = selectionFrom(options);
    const progress = progressBar(io.stderr);
    const report = await withDatabase(io, ({ orm, store, config, logger }) => {
      const stripeApi = stripeApiFromConfig(config.stripe);
      return replayEvents(orm.em, store, selection, {
        rules: config.credits,
        logger,
        fetchLineItems: stripeApi && (async (sessionId) => creditableLineItems(await stripeApi.listLineItems(sessionId))),
        charges: stripeApi && stripeChargeLookup(stripeApi),
        dryRun: options['dry-run'] ?? false,
        onProgress: (done, total, item) => progress.update(done, total, `${item.eventId} ${item.outcome}`),
      });
    }).finally(() => progress.finish());
    print(io.stdout, options.json ? JSON.stringify(report, null, 2) : formatReplayReport(report));
    return replayNeedsAttention(report) ? EXIT.problem : EXIT.ok;
  },
};
