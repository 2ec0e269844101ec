/**
 * GetBalance's and SpendCredits' limits on this machine: a grpc-js server for the same proto
 * (src/grpc/proto.ts) checking the same bearer token, answering GetBalance with one indexed select
 * (balance and live holds) and SpendCredits with the product's transaction (lock the user, look up
 * the key, sum the live holds, insert the ledger row and move the balance in one statement) through
 * plain `pg`. No ORM, no per-call logger, no validation library.
 * Env: DATABASE_URL, GRPC_PORT, DB_POOL_MAX, CREDITS_API_TOKEN. Prints {"ready":port} when listening.
 */
import * as grpc from '@grpc/grpc-js';
import pg from 'pg';
import type { GetBalanceRequest__Output } from '../../src/contract/generated/credits/v1/GetBalanceRequest';
import type { GetBalanceResponse } from '../../src/contract/generated/credits/v1/GetBalanceResponse';
import type { SpendCreditsRequest__Output } from '../../src/contract/generated/credits/v1/SpendCreditsRequest';
import type { SpendCreditsResponse } from '../../src/contract/generated/credits/v1/SpendCreditsResponse';
import { normalizeEmail } from '../../src/credits/identifiers';
import { protos } from '../../src/grpc/proto';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DB_POOL_MAX ?? 10) });
const expectedAuthorization = `Bearer ${process.env.CREDITS_API_TOKEN ?? ''}`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DECIMAL = /^[0-9]{1,18}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const HELD = `(SELECT coalesce(sum(r.amount), 0) FROM credit_reservations r
  WHERE r.user_id = users.id AND r.status = 'held' AND r.expire_time > statement_timestamp())`;

/** The same three indexed lookups as the product: users_uuid_key, the primary key, users_email_normalized_key. */
function where(identifier: string): [string, string] | undefined {
  if (UUID.test(identifier)) return ['uuid = $1', identifier.toLowerCase()];
  if (DECIMAL.test(identifier)) return ['id = $1', identifier];
  if (EMAIL.test(identifier)) return ['email_normalized = $1', normalizeEmail(identifier)];
  return undefined;
}

function lookup(identifier: string): [string, string] | undefined {
  const found = where(identifier);
  return found && [`SELECT uuid, credits_balance, ${HELD} AS held FROM users WHERE ${found[0]} LIMIT 1`, found[1]];
}

function getBalance(call: grpc.ServerUnaryCall<GetBalanceRequest__Output, GetBalanceResponse>, callback: grpc.sendUnaryData<GetBalanceResponse>): void {
  if (call.metadata.get('authorization')[0] !== expectedAuthorization) {
    callback({ code: grpc.status.UNAUTHENTICATED, details: 'bad token' });
    return;
  }
  const query = lookup(call.request.identifier.trim());
  if (!query) {
    callback({ code: grpc.status.INVALID_ARGUMENT, details: 'bad identifier' });
    return;
  }
  pool.query<{ uuid: string; credits_balance: string; held: string }>(query[0], [query[1]]).then(
    ({ rows }) => {
      const user = rows[0];
      if (!user) return callback({ code: grpc.status.NOT_FOUND, details: 'no such user' });
      const available = BigInt(user.credits_balance) - BigInt(user.held);
      callback(null, { user_id: user.uuid, balance: user.credits_balance, held: user.held, available: String(available > 0n ? available : 0n) });
    },
    () => callback({ code: grpc.status.UNAVAILABLE, details: 'database unavailable' }),
  );
}

class Refused extends Error {
  constructor(readonly code: grpc.status) {
    super();
  }
}

/** The product's spend, statement for statement where it matters: the user's row locked first, then the key, the holds, the posting. */
async function spend(request: SpendCreditsRequest__Output): Promise<SpendCreditsResponse> {
  const found = where(request.identifier.trim());
  const amount = /^[1-9][0-9]{0,15}$/.test(request.amount) ? Number(request.amount) : 0;
  if (!found || !amount || !request.idempotency_key) throw new Refused(grpc.status.INVALID_ARGUMENT);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const user = (await client.query<{ id: string; uuid: string; credits_balance: string }>(`SELECT id, uuid, credits_balance FROM users WHERE ${found[0]} FOR UPDATE`, [found[1]])).rows[0];
    if (!user) throw new Refused(grpc.status.NOT_FOUND);
    const earlier = (await client.query<{ user_id: string; amount: string; balance_after: string }>('SELECT user_id, amount, balance_after FROM credit_transactions WHERE idempotency_key = $1', [request.idempotency_key])).rows[0];
    if (earlier) {
      await client.query('COMMIT');
      if (String(earlier.user_id) !== String(user.id) || earlier.amount !== String(-amount)) throw new Refused(grpc.status.ALREADY_EXISTS);
      return { balance_after: earlier.balance_after, replayed: true };
    }
    const held = (await client.query<{ held: string }>(`SELECT coalesce(sum(amount), 0) AS held FROM credit_reservations WHERE user_id = $1 AND status = 'held' AND expire_time > statement_timestamp()`, [user.id])).rows[0]!.held;
    if (BigInt(user.credits_balance) - BigInt(held) < BigInt(amount)) throw new Refused(grpc.status.FAILED_PRECONDITION);
    const posted = await client.query<{ entry_id: string; balance_after: string; created_at: Date }>(
      `WITH entry AS (
         INSERT INTO credit_transactions (user_id, amount, kind, idempotency_key, description, metadata, balance_after)
         VALUES ($1, $2, 'spend', $3, $4, $5::jsonb, $6) ON CONFLICT DO NOTHING RETURNING id, user_id, balance_after, created_at
       ) UPDATE users SET credits_balance = entry.balance_after, updated_at = now() FROM entry WHERE users.id = entry.user_id
       RETURNING entry.id AS entry_id, entry.balance_after, entry.created_at`,
      [user.id, -amount, request.idempotency_key, request.description || null, JSON.stringify(request.metadata), BigInt(user.credits_balance) - BigInt(amount)],
    );
    await client.query('COMMIT');
    const row = posted.rows[0];
    if (!row) throw new Refused(grpc.status.ALREADY_EXISTS);
    return {
      transaction: { id: String(row.entry_id), user_id: user.uuid, kind: 'TRANSACTION_KIND_SPEND', amount: String(-amount), balance_after: row.balance_after, reference: request.idempotency_key },
      balance_after: row.balance_after,
      replayed: false,
    };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

function spendCredits(call: grpc.ServerUnaryCall<SpendCreditsRequest__Output, SpendCreditsResponse>, callback: grpc.sendUnaryData<SpendCreditsResponse>): void {
  if (call.metadata.get('authorization')[0] !== expectedAuthorization) {
    callback({ code: grpc.status.UNAUTHENTICATED, details: 'bad token' });
    return;
  }
  spend(call.request).then(
    (response) => callback(null, response),
    (error: unknown) => callback({ code: error instanceof Refused ? error.code : grpc.status.UNAVAILABLE, details: 'refused' }),
  );
}

const unimplemented = (_call: unknown, callback: grpc.sendUnaryData<never>) => callback({ code: grpc.status.UNIMPLEMENTED });

const server = new grpc.Server();
server.addService(protos.credits.v1.CreditsService.service, {
  GetBalance: getBalance,
  SpendCredits: spendCredits,
  ApplyCheckout: unimplemented,
  ResolveUser: unimplemented,
  ReserveCredits: unimplemented,
  CaptureReservation: unimplemented,
  ReleaseReservation: unimplemented,
  ListTransactions: unimplemented,
});
server.bindAsync(`127.0.0.1:${process.env.GRPC_PORT ?? 0}`, grpc.ServerCredentials.createInsecure(), (error, port) => {
  if (error) throw error;
  console.log(JSON.stringify({ ready: port }));
});

const stop = () => server.tryShutdown(() => void pool.end().then(() => process.exit(0)));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
