/**
 * The edge half of the two-process design limit: one node:http process that verifies the Stripe
 * signature (`stripe`'s constructEvent: the HMAC check and JSON.parse) and makes one grpc-js
 * ApplyCheckout call to design-credits.ts, answering 200 for a committed outcome and 503 otherwise.
 * No framework, no schema validation, no logging, no metrics, no retries.
 * Env: CREDITS_GRPC_URL, CREDITS_API_TOKEN, STRIPE_WEBHOOK_SECRET, HTTP_PORT. Prints {"ready":port} when listening.
 */
import http from 'node:http';
import * as grpc from '@grpc/grpc-js';
import Stripe from 'stripe';
import type { ApplyCheckoutRequest } from '../../src/contract/generated/credits/v1/ApplyCheckoutRequest';
import type { ApplyCheckoutResponse__Output } from '../../src/contract/generated/credits/v1/ApplyCheckoutResponse';
import { protos } from '../../src/grpc/proto';
import type { Session } from './purchase-pg';

const secret = process.env.STRIPE_WEBHOOK_SECRET ?? '';
const authorization = `Bearer ${process.env.CREDITS_API_TOKEN ?? ''}`;
const client = new protos.credits.v1.CreditsService(process.env.CREDITS_GRPC_URL ?? '127.0.0.1:50051', grpc.credentials.createInsecure());
const MAX_BODY = 1024 * 1024;
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

function answer(response: http.ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

const server = http.createServer((req, response) => {
  if (req.method === 'GET' && req.url === '/readyz') return answer(response, 200, { ready: true });
  if (req.method !== 'POST' || req.url !== '/webhooks/stripe') return answer(response, 404, { error: 'not found' });
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_BODY) chunks.push(chunk);
  });
  req.on('end', () => {
    if (size > MAX_BODY) return answer(response, 413, { error: 'too large' });
    const rawBody = Buffer.concat(chunks).toString('utf8');
    let event: Stripe.Event;
    try {
      event = Stripe.webhooks.constructEvent(rawBody, req.headers['stripe-signature'] ?? '', secret);
    } catch {
      return answer(response, 400, { error: 'bad signature' });
    }
    const metadata = new grpc.Metadata();
    metadata.set('authorization', authorization);
    client.ApplyCheckout(request(event, rawBody), metadata, { deadline: Date.now() + DEADLINE_MS }, (error, result?: ApplyCheckoutResponse__Output) => {
      if (error || !result) answer(response, 503, { error: 'unavailable' });
      else answer(response, 200, { received: true, outcome: result.outcome === 'APPLY_CHECKOUT_OUTCOME_APPLIED' ? 'applied' : 'duplicate' });
    });
  });
});

server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.HTTP_PORT ?? 0), '127.0.0.1', () => {
  console.log(JSON.stringify({ ready: (server.address() as { port: number }).port }));
});

const stop = () => {
  server.close(() => {
    client.close();
    process.exit(0);
  });
  server.closeAllConnections();
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
