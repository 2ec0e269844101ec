/**
 * The CreditsService half of the two-process design limit: a grpc-js server for the same proto
 * (src/grpc/proto.ts) whose ApplyCheckout checks the bearer token and runs the product's purchase
 * transaction (purchase-pg.ts) on plain `pg`, taking the session from the request's fields. No ORM,
 * no validation library, no per-call logger or metrics: what the design's second process must do.
 * Env: DATABASE_URL, GRPC_PORT, DB_POOL_MAX, CREDITS_API_TOKEN. Prints {"ready":port} when listening.
 */
import * as grpc from '@grpc/grpc-js';
import pg from 'pg';
import type { ApplyCheckoutRequest__Output } from '../../src/contract/generated/credits/v1/ApplyCheckoutRequest';
import type { ApplyCheckoutResponse } from '../../src/contract/generated/credits/v1/ApplyCheckoutResponse';
import { protos } from '../../src/grpc/proto';
import { purchaseInTransaction } from './purchase-pg';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DB_POOL_MAX ?? 10) });
const expectedAuthorization = `Bearer ${process.env.CREDITS_API_TOKEN ?? ''}`;

function applyCheckout(
  call: grpc.ServerUnaryCall<ApplyCheckoutRequest__Output, ApplyCheckoutResponse>,
  callback: grpc.sendUnaryData<ApplyCheckoutResponse>,
): void {
  if (call.metadata.get('authorization')[0] !== expectedAuthorization) {
    callback({ code: grpc.status.UNAUTHENTICATED, details: 'bad token' });
    return;
  }
  const { event_id: id, event_type: type, session, event_json: json } = call.request;
  if (!session) {
    callback({ code: grpc.status.INVALID_ARGUMENT, details: 'no session' });
    return;
  }
  const event = {
    id,
    type,
    session: {
      id: session.id,
      mode: session.mode,
      payment_status: session.payment_status,
      customer: session.customer || null,
      customer_details: session.customer_details,
      customer_email: session.customer_email || null,
      metadata: session.metadata,
    },
  };
  purchaseInTransaction(pool, event, json).then(
    (outcome) => callback(null, { outcome: outcome === 'applied' ? 'APPLY_CHECKOUT_OUTCOME_APPLIED' : 'APPLY_CHECKOUT_OUTCOME_DUPLICATE' }),
    (error: unknown) => {
      console.error(error);
      callback({ code: grpc.status.UNAVAILABLE, details: 'database unavailable' });
    },
  );
}

const unimplemented = (_call: unknown, callback: grpc.sendUnaryData<never>) => callback({ code: grpc.status.UNIMPLEMENTED });

const server = new grpc.Server({ 'grpc.max_receive_message_length': 2 * 1024 * 1024 });
server.addService(protos.credits.v1.CreditsService.service, { ApplyCheckout: applyCheckout, GetBalance: unimplemented, ResolveUser: unimplemented });
server.bindAsync(`127.0.0.1:${process.env.GRPC_PORT ?? 0}`, grpc.ServerCredentials.createInsecure(), (error, port) => {
  if (error) throw error;
  console.log(JSON.stringify({ ready: port }));
});

const stop = () => server.tryShutdown(() => void pool.end().then(() => process.exit(0)));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
