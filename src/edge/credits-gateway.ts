import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { ERROR_CODE_METADATA_KEY, STRIPE_EVENT_METADATA_KEY } from '../contract/error-codes.js';
import type { ApplyCheckoutRequest } from '../contract/generated/credits/v1/ApplyCheckoutRequest.js';
import type { ApplyCheckoutResponse__Output } from '../contract/generated/credits/v1/ApplyCheckoutResponse.js';
import type { ApplyStripeEventRequest } from '../contract/generated/credits/v1/ApplyStripeEventRequest.js';
import type { ApplyStripeEventResponse__Output } from '../contract/generated/credits/v1/ApplyStripeEventResponse.js';
import { CREDITS_SERVICE_NAME } from '../contract/proto-files.js';
import { createCreditsClient, createHealthClient, type CreditsClientTls } from '../grpc/client.js';
import type { Logger } from '../logger.js';

/** A failed CreditsService call: the gRPC status and the service's stable error code, if it sent one. */
export class CreditsCallError extends Error {
  override name = 'CreditsCallError';

  constructor(
    readonly grpcCode: grpc.status,
    readonly creditsCode: string | undefined,
    details: string,
  ) {
    super(details);
  }
}

/** What the edge needs from CreditsService; tests may pass their own. */
export interface CreditsGateway {
  applyCheckout(request: ApplyCheckoutRequest, context: { eventId: string; logger: Logger }): Promise<ApplyCheckoutResponse__Output>;
  /** Refunds and disputes: the raw event (and the Stripe-Signature it came with) for CreditsService to decode and apply. */
  applyStripeEvent(request: ApplyStripeEventRequest, context: { eventId: string; logger: Logger }): Promise<ApplyStripeEventResponse__Output>;
  /** grpc.health.v1 says SERVING for credits.v1.CreditsService. */
  isServing(): Promise<boolean>;
  close(): void;
}

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface CreditsGatewayOptions {
  url: string;
  token: string | undefined;
  /** TLS to CreditsService (CREDITS_GRPC_CA_FILE, and CREDITS_GRPC_CERT_FILE/KEY_FILE for mutual TLS); plaintext without it. */
  tls?: CreditsClientTls;
  /** Budget of one ApplyCheckout (or ApplyStripeEvent), retries included. */
  deadlineMs: number;
  retry?: RetryPolicy;
  onCallFinished?: (method: string, code: string, seconds: number) => void;
}

const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 50, maxDelayMs: 1_000 };
// A retry that cannot get at least this long before the deadline is not worth starting.
const MIN_ATTEMPT_MS = 100;
// CREDITS_GRPC_URL may name several replicas (a DNS name with many addresses, or
// `ipv4:10.0.0.1:50051,10.0.0.2:50051`): spread calls over all of them, not only the first.
const ROUND_ROBIN: grpc.ChannelOptions = { 'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }) };
const PRINTABLE_ASCII = /^[ -~]{1,255}$/;

function toCallError(error: grpc.ServiceError): CreditsCallError {
  const code = error.metadata?.get(ERROR_CODE_METADATA_KEY)[0];
  return new CreditsCallError(error.code, typeof code === 'string' ? code : undefined, error.details || error.message);
}

/** Full jitter: spreads the retries of many webhook deliveries hitting one restarting server. */
function backoffMs(attempt: number, policy: RetryPolicy): number {
  return Math.random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
}

/** One long-lived channel to CreditsService, shared by ApplyCheckout, ApplyStripeEvent and the health check. */
export function createCreditsGateway(options: CreditsGatewayOptions): CreditsGateway {
  const retry = options.retry ?? DEFAULT_RETRY;
  const client = createCreditsClient(options.url, { token: options.token, tls: options.tls, channelOptions: ROUND_ROBIN });
  // Shares the client's channel, and with it its credentials.
  const health = createHealthClient(options.url, { channelOverride: client.getChannel() });

  const timed = <T>(method: string, run: (done: (error: grpc.ServiceError | null, value?: T) => void) => void) =>
    new Promise<T>((resolve, reject) => {
      const started = process.hrtime.bigint();
      run((error, value) => {
        const code = error ? (grpc.status[error.code] ?? String(error.code)) : 'OK';
        options.onCallFinished?.(method, code, Number(process.hrtime.bigint() - started) / 1e9);
        if (error) reject(toCallError(error));
        else resolve(value as T);
      });
    });

  const eventMetadata = (eventId: string) => {
    const metadata = new grpc.Metadata();
    // Metadata.set throws on non-ASCII; CreditsService rejects such an id itself (INVALID_ARGUMENT).
    if (PRINTABLE_ASCII.test(eventId)) metadata.set(STRIPE_EVENT_METADATA_KEY, eventId);
    return metadata;
  };

  /** Both calls are idempotent per event id, so UNAVAILABLE (nothing committed, or a replica going away) is safe to retry. */
  const withRetries = async <T>(once: (deadline: number) => Promise<T>, logger: Logger): Promise<T> => {
    const deadline = Date.now() + options.deadlineMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await once(deadline);
      } catch (error) {
        if (!(error instanceof CreditsCallError) || error.grpcCode !== grpc.status.UNAVAILABLE) throw error;
        const delayMs = backoffMs(attempt, retry);
        if (attempt >= retry.maxAttempts || Date.now() + delayMs + MIN_ATTEMPT_MS > deadline) throw error;
        logger.warn({ attempt, delayMs: Math.round(delayMs) }, 'CreditsService unavailable: retrying');
        await sleep(delayMs);
      }
    }
  };

  return {
    applyCheckout(request, { eventId, logger }) {
      return withRetries(
        (deadline) =>
          timed<ApplyCheckoutResponse__Output>('ApplyCheckout', (done) =>
            client.ApplyCheckout(request, eventMetadata(eventId), { deadline: new Date(deadline) }, done),
          ),
        logger,
      );
    },

    applyStripeEvent(request, { eventId, logger }) {
      return withRetries(
        (deadline) =>
          timed<ApplyStripeEventResponse__Output>('ApplyStripeEvent', (done) =>
            client.ApplyStripeEvent(request, eventMetadata(eventId), { deadline: new Date(deadline) }, done),
          ),
        logger,
      );
    },

    async isServing() {
      try {
        const response = await timed<{ status: string }>('Health.Check', (done) =>
          health.Check({ service: CREDITS_SERVICE_NAME }, { deadline: new Date(Date.now() + options.deadlineMs) }, done),
        );
        return response.status === 'SERVING';
      } catch {
        return false;
      }
    },

    close() {
      health.close();
      client.close();
    },
  };
}
