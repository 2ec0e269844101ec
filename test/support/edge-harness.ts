import Stripe from 'stripe';
import { loadConfig } from '../../src/config';
import { startEdgeRuntime } from '../../src/app/edge';
import { TEST_TOKEN } from './credits-harness';
import { captureLogs } from './log-capture';

export const WEBHOOK_SECRET = 'whsec_test_edge_current_5f2c9a0d7e1b';
export const ROTATED_SECRET = 'whsec_test_edge_next_8b3e6f4a1c9d';

export interface EdgeHarness {
  url: string;
  logs: ReturnType<typeof captureLogs>;
  close(): Promise<void>;
}

/** The real edge runtime (config, gRPC channel, app, HTTP server on port 0) in front of `creditsUrl`. */
export async function startEdge(creditsUrl: string, env: Record<string, string> = {}): Promise<EdgeHarness> {
  const logs = captureLogs();
  const config = loadConfig({
    NODE_ENV: 'test',
    HTTP_PORT: '0',
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    CREDITS_API_TOKEN: TEST_TOKEN,
    CREDITS_GRPC_DEADLINE_MS: '3000',
    SHUTDOWN_GRACE_MS: '1000',
    ...env,
  });
  const edge = await startEdgeRuntime({ config, logger: logs.logger, creditsUrl });
  return { url: `http://127.0.0.1:${edge.port}`, logs, close: () => edge.close() };
}

export interface Delivery {
  payload: string;
  signature: string;
}

/** Signs exactly the string that will be sent, as Stripe does. */
export function sign(payload: string, options: { secret?: string; timestamp?: number } = {}): Delivery {
  const signature = Stripe.webhooks.generateTestHeaderString({
    payload,
    secret: options.secret ?? WEBHOOK_SECRET,
    ...(options.timestamp === undefined ? {} : { timestamp: options.timestamp }),
  });
  return { payload, signature };
}

export interface Answer {
  status: number;
  body: Record<string, any>;
}

export async function post(url: string, path: string, payload: string, signature?: string): Promise<Answer> {
  const response = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8', ...(signature === undefined ? {} : { 'stripe-signature': signature }) },
    body: payload,
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

/** POSTs a signed Stripe event to the webhook endpoint (or an alias). */
export function deliver(url: string, event: Record<string, unknown>, options: { secret?: string; path?: string } = {}): Promise<Answer> {
  const { payload, signature } = sign(JSON.stringify(event), options);
  return post(url, options.path ?? '/webhooks/stripe', payload, signature);
}
