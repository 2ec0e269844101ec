import { formatVerifyReport, verifyDatabase } from '../../ops/verify.js';
import { parseOptions, positiveInteger } from '../args.js';
import { EXIT, type CliCommand } from '../command.js';
import { withDatabase } from '../context.js';
import { print } from '../io.js';

const HELP = `Usage: npm run cli -- verify [--json] [--stuck-after <seconds>]

Checks, without writing anything:
  schema      tables and columns, constraints (balance >= 0, one row per Stripe event, one credit
              per Checkout Session, ledger signs, foreign key), indexes, and that no migration is pending
  invariants  every users.credits_balance equals the sum of its ledger rows and is >= 0; no Checkout
              Session credited twice; every event completed as 'applied' has its ledger row; no
              event stuck in 'processing'

Options:
  --json                   print the report as JSON (stdout) instead of text
  --stuck-after <seconds>  how old a 'processing' row must be to count as stuck (default 5)
  -h, --help               show this help

Exit codes: 0 no problem, 1 problem found (or database unreachable), 2 usage error.

Examples:
  npm run cli -- verify
  npm run cli -- verify --json | jq '.checks[] | select(.status == "problem")'`;

export const verifyCommand: CliCommand = {
  name: 'verify',
  summary: 'check the schema and the ledger invariants; exit 1 on any problem',
  help: HELP,
  async run(argv, io) {
    const options = parseOptions(argv, { json: { type: 'boolean' }, 'stuck-after': { type: 'string' } });
    if (options.help) {
      print(io.stdout, HELP);
      return EXIT.ok;
    }
    const stuckAfterSeconds = options['stuck-after'] === undefined ? undefined : positiveInteger('stuck-after', options['stuck-after']);
    const report = await withDatabase(io, ({ orm }) => verifyDatabase(orm, { stuckAfterSeconds }));
    print(io.stdout, options.json ? JSON.stringify(report, null, 2) : formatVerifyReport(report));
    return report.ok ? EXIT.ok : EXIT.problem;
  },
};
