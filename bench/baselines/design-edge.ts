/**
 * The edge half of the two-process design limit: one node:http process that verifies the Stripe
 * signature (`stripe`'s constructEvent: the HMAC check and JSON.parse) and makes one grpc-js
 * ApplyCheckout call to design-credits.ts, answering 200 for a committed outcome and 503 otherwise.
 * No framework, no schema validation, no logging, no metrics, no retries.
 * Env: CREDITS_GRPC_URL, CREDITS_API_TOKEN, STRIPE_WEBHOOK_SECRET, HTTP_PORT. Prints {"ready":port} when listening.
 */
import * as grpc from '@grpc/grpc-js';
import type Stripe from 'stripe';
import type { ApplyCheckoutRequest } from '../../src/contract/generated/credits/v1/ApplyCheckoutRequest';
import type { ApplyCheckoutResponse__Output } from '../../src/contract/generated/credits/v1/ApplyCheckoutResponse';
import { protos } from '../../src/grpc/proto';
import type { Session } from './purchase-pg';
import { serveWebhook } from './webhook-http';

const authorization = `Bearer ${process.env.CREDITS_API_TOKEN ?? ''}`;
const client = new protos.credits.v1.CreditsService(process.env.CREDITS_GRPC_URL ?? '127.0.0.1:50051', grpc.credentials.createInsecure());
const DEADLINE_MS = 5_000;

function request(event: Stripe.Event, rawBody: string): ApplyCheckoutRequest {
  const session = event.data.object as unknown as Session;
  return {
    event_id: event.id,
    event_type: event.type,
    session: {
      id: session.id,
      mode: session.mode ?? '',
      payment_status: session.payment_status ?? '',
      customer: session.customer ?? '',
      customer_details: { email: session.customer_details?.email ?? '' },
      customer_email: session.customer_email ?? '',
      metadata: session.metadata ?? {},
    },
    event_json: rawBody,
  };
}

serveWebhook(
  process.env.STRIPE_WEBHOOK_SECRET ?? '',
  (event, rawBody, answer) => {
    const metadata = new grpc.Metadata();
    metadata.set('authorization', authorization);
    client.ApplyCheckout(request(event, rawBody), metadata, { deadline: Date.now() + DEADLINE_MS }, (error, result?: ApplyCheckoutResponse__Output) => {
      if (error || !result) answer(503, { error: 'unavailable' });
      else answer(200, { received: true, outcome: result.outcome === 'APPLY_CHECKOUT_OUTCOME_APPLIED' ? 'applied' : 'duplicate' });
    });
  },
  async () => client.close(),
);
