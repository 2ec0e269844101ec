/**
 * GetBalance's limit on this machine: a grpc-js server for the same proto (src/grpc/proto.ts)
 * answering with one indexed select through plain `pg`, checking the same bearer token.
 * No ORM, no per-call logger, no validation library.
 * Env: DATABASE_URL, GRPC_PORT, DB_POOL_MAX, CREDITS_API_TOKEN. Prints {"ready":port} when listening.
 */
import * as grpc from '@grpc/grpc-js';
import pg from 'pg';
import type { GetBalanceRequest__Output } from '../../src/contract/generated/credits/v1/GetBalanceRequest';
import type { GetBalanceResponse } from '../../src/contract/generated/credits/v1/GetBalanceResponse';
import { protos } from '../../src/grpc/proto';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DB_POOL_MAX ?? 10) });
const expectedAuthorization = `Bearer ${process.env.CREDITS_API_TOKEN ?? ''}`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DECIMAL = /^[0-9]{1,18}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** The same three indexed lookups as the product: users_uuid_key, the primary key, users_email_lower_key. */
function lookup(identifier: string): [string, string] | undefined {
  if (UUID.test(identifier)) return ['SELECT uuid, credits_balance FROM users WHERE uuid = $1 LIMIT 1', identifier.toLowerCase()];
  if (DECIMAL.test(identifier)) return ['SELECT uuid, credits_balance FROM users WHERE id = $1 LIMIT 1', identifier];
  if (EMAIL.test(identifier)) return ['SELECT uuid, credits_balance FROM users WHERE lower(email) = lower($1) LIMIT 1', identifier];
  return undefined;
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
  pool.query<{ uuid: string; credits_balance: string }>(query[0], [query[1]]).then(
    ({ rows }) => {
      const user = rows[0];
      if (user) callback(null, { user_id: user.uuid, balance: user.credits_balance });
      else callback({ code: grpc.status.NOT_FOUND, details: 'no such user' });
    },
    () => callback({ code: grpc.status.UNAVAILABLE, details: 'database unavailable' }),
  );
}

const unimplemented = (_call: unknown, callback: grpc.sendUnaryData<never>) => callback({ code: grpc.status.UNIMPLEMENTED });

const server = new grpc.Server();
server.addService(protos.credits.v1.CreditsService.service, { GetBalance: getBalance, ApplyCheckout: unimplemented, ResolveUser: unimplemented });
server.bindAsync(`127.0.0.1:${process.env.GRPC_PORT ?? 0}`, grpc.ServerCredentials.createInsecure(), (error, port) => {
  if (error) throw error;
  console.log(JSON.stringify({ ready: port }));
});

const stop = () => server.tryShutdown(() => void pool.end().then(() => process.exit(0)));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
