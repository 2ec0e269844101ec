import { userInfo } from 'node:os';
import { correctBalance, MAX_OPERATOR_LENGTH, MAX_REASON_LENGTH } from '../../credits/corrections.js';
import { CreditsError } from '../../credits/errors.js';
import { parseIdentifier } from '../../credits/identifiers.js';
import { formatCorrection } from '../../ops/corrections.js';
import { parseOptions, positiveInteger, requiredText, UsageError } from '../args.js';
import { EXIT, type CliCommand } from '../command.js';
import { withDatabase } from '../context.js';
import { print } from '../io.js';

function helpFor(kind: 'grant' | 'revoke'): string {
  const grant = kind === 'grant';
  return `Usage: npm run cli -- ${kind} --user <identifier> --credits <n> --reason <text> [--json]

${grant ? 'Adds credits to' : 'Takes credits from'} a user by hand, for support corrections. Writes a ledger row
(kind '${kind}', amount ${grant ? '+n' : '-n'}, with the reason) and updates the balance in one transaction;
the balance is never edited directly, so it keeps equalling the sum of the ledger.${
    grant ? '' : `\nA revoke that would take the balance below zero is refused and writes nothing.`
  }

Options:
  --user <identifier>  the user's email, UUID or integer id
  --credits <n>        a positive integer
  --reason <text>      why (required, up to ${MAX_REASON_LENGTH} characters): a ticket number, a refund id
  --operator <name>    who makes the correction, stored on the ledger row (default: CREDITS_OPERATOR,
                       else the login name running the command)
  --json               print the result as JSON (stdout)
  -h, --help           show this help

Exit codes: 0 done; 1 refused (no such user${grant ? '' : ', balance too low'}) or database unreachable; 2 usage error.

Example:
  npm run cli -- ${kind} --user 3f0c2f9e-6b1e-4f39-9a51-0c8f5a3f8d21 --credits 100 --reason "ticket 4711: ${
    grant ? 'goodwill' : 'refunded purchase'
  }"`;
}

export function correctionCommand(kind: 'grant' | 'revoke', summary: string): CliCommand {
  const help = helpFor(kind);
  return {
    name: kind,
    summary,
    help,
    async run(argv, io) {
      const options = parseOptions(argv, {
        user: { type: 'string' },
        credits: { type: 'string' },
        reason: { type: 'string' },
        operator: { type: 'string' },
        json: { type: 'boolean' },
      });
      if (options.help) {
        print(io.stdout, help);
        return EXIT.ok;
      }
      const user = requiredText('user', options.user);
      try {
        parseIdentifier(user);
      } catch (error) {
        if (error instanceof CreditsError) throw new UsageError(`--user: ${error.message}`);
        throw error;
      }
      const credits = positiveInteger('credits', options.credits);
      const reason = requiredText('reason', options.reason);
      if (reason.length > MAX_REASON_LENGTH) throw new UsageError(`--reason is longer than ${MAX_REASON_LENGTH} characters`);
      const operator = requiredText('operator', options.operator ?? process.env.CREDITS_OPERATOR ?? userInfo().username);
      if (operator.length > MAX_OPERATOR_LENGTH) throw new UsageError(`--operator is longer than ${MAX_OPERATOR_LENGTH} characters`);
      const result = await withDatabase(io, ({ store }) => correctBalance(store, kind, { user, credits, reason, operator }));
      print(io.stdout, options.json ? JSON.stringify(result, null, 2) : formatCorrection(result));
      return EXIT.ok;
    },
  };
}

