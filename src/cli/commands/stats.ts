import { collectStats, formatStats } from '../../ops/stats.js';
import { parseOptions, parseSince, positiveInteger } from '../args.js';
import { EXIT, type CliCommand } from '../command.js';
import { withDatabase } from '../context.js';
import { print } from '../io.js';

const HELP = `Usage: npm run cli -- stats [--since <when>] [--failures <n>] [--json]

Shows stored Stripe events by type and status, the most recent failures with their reasons, how
many users hold credits, and the ledger (purchases, grants, revokes) inside a time window, with
how many purchases were delivered by the webhook and how many recovered by reconcile.

Options:
  --since <when>    start of the window: a duration back from now (30m, 24h, 7d) or an ISO date
                    (2026-11-01, 2026-11-01T12:00:00Z); default 24h
  --failures <n>    how many recent failures to list (default 10)
  --json            print JSON (stdout) instead of tables
  -h, --help        show this help

Examples:
  npm run cli -- stats
  npm run cli -- stats --since 7d --failures 25
  npm run cli -- stats --json | jq .events.byStatus`;

export const statsCommand: CliCommand = {
  name: 'stats',
  summary: 'events by status and type, recent failures, users with credits, credits granted',
  help: HELP,
  async run(argv, io) {
    const options = parseOptions(argv, { since: { type: 'string', default: '24h' }, failures: { type: 'string' }, json: { type: 'boolean' } });
    if (options.help) {
      print(io.stdout, HELP);
      return EXIT.ok;
    }
    const since = parseSince('since', options.since);
    const failureLimit = options.failures === undefined ? 10 : positiveInteger('failures', options.failures);
    const stats = await withDatabase(io, ({ orm }) => collectStats(orm.em.fork(), { since, failureLimit }));
    print(io.stdout, options.json ? JSON.stringify(stats, null, 2) : formatStats(stats));
    return EXIT.ok;
  },
};
