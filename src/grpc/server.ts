import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import type { ApiTokenConfig } from '../config.js';
import type { StripeEventResult } from '../credits/checkout.js';
import type { CreditRules } from '../credits/credit-rules.js';
import type { ChargeLookup, CreditsStore } from '../credits/ports.js';
import type { SpendingEvent } from '../credits/spending-events.js';
import type { Logger } from '../logger.js';
import { TokenTable } from './auth.js';
import type { ForwardedSignatureCheck } from './apply-checkout-request.js';
import { creditsServiceHandlers } from './credits-service.js';
import { HealthService } from './health.js';
import { createAuthInterceptor, withRequestSizeCaps } from './interceptor.js';
import { CREDITS_SERVICE_NAME, packageDefinition, protos } from './proto.js';
import { API_SCOPES, assertEveryMethodHasScope, MAX_LARGE_REQUEST_BYTES } from './scopes.js';
import { createServerTls, type ServerTlsOptions } from './tls.js';

export interface CreditsServerOptions {
  store: CreditsStore;
  /** Whether the database answers; health says NOT_SERVING while it does not. */
  databaseAnswers: () => Promise<boolean>;
  logger: Logger;
  rules: CreditRules;
  /** With STRIPE_WEBHOOK_SECRET: every Stripe event must carry a valid forwarded Stripe-Signature. */
  signatureCheck?: ForwardedSignatureCheck;
  /** The tokens accepted and their scopes (CREDITS_API_TOKENS). None at all: every call passes (development). */
  tokens?: readonly Pick<ApiTokenConfig, 'name' | 'token' | 'scopes'>[];
  /** One more token with every scope, named `default` (the older CREDITS_API_TOKEN; tests). */
  apiToken?: string | undefined;
  /** Serve TLS only (and with clientCaFile, mutual TLS); plaintext without it. */
  tls?: ServerTlsOptions | undefined;
  /** HTTP/2 streams one connection may have open at once (GRPC_MAX_CONCURRENT_STREAMS). */
  maxConcurrentStreams?: number;
  host: string;
  port: number;
  /** How often the database is pinged to keep the health status true. */
  healthIntervalMs?: number;
  onCallFinished?: (method: string, code: string, seconds: number) => void;
  onEventResult?: (result: StripeEventResult, eventType: string) => void;
  /** Looks up a disputed charge's PaymentIntent (STRIPE_SECRET_KEY set). */
  charges?: ChargeLookup;
  onSpending?: (event: SpendingEvent) => void;
}

export interface CreditsServer {
  port: number;
  health: HealthService;
  /** Stops taking calls, lets running ones finish for up to graceMs, then cuts the rest. */
  close(graceMs: number): Promise<void>;
}

export async function startCreditsServer(options: CreditsServerOptions): Promise<CreditsServer> {
  const { logger } = options;
  let closing = false;
  const tokens = new TokenTable([
    ...(options.tokens ?? []),
    ...(options.apiToken ? [{ name: 'default', token: options.apiToken, scopes: API_SCOPES }] : []),
  ]);
  const server = new grpc.Server({
    // Server-wide: ApplyCheckout carries a Stripe event of up to 1 MiB; other methods are capped lower per call.
    'grpc.max_receive_message_length': MAX_LARGE_REQUEST_BYTES,
    'grpc.max_concurrent_streams': options.maxConcurrentStreams ?? 100,
    // Token and scope checked before a request is read (src/grpc/interceptor.ts): the one place calls are authenticated.
    interceptors: [createAuthInterceptor({ tokens, logger, onRefused: options.onCallFinished })],
  });
  const capped: Pick<grpc.Server, 'addService'> = {
    addService: (definition, implementation) => server.addService(withRequestSizeCaps(definition), implementation),
  };
  const health = new HealthService([CREDITS_SERVICE_NAME]);

  assertEveryMethodHasScope(protos.credits.v1.CreditsService.service);
  capped.addService(
    protos.credits.v1.CreditsService.service,
    creditsServiceHandlers({
      store: options.store,
      rules: options.rules,
      charges: options.charges,
      onEventResult: options.onEventResult,
      onSpending: options.onSpending,
      signatureCheck: options.signatureCheck,
      call: {
        logger,
        isClosing: () => closing,
        onFinish: options.onCallFinished,
      },
    }),
  );
  capped.addService(protos.grpc.health.v1.Health.service, health.handlers);
  new ReflectionService(packageDefinition).addToServer(capped);

  const tls = options.tls ? createServerTls(options.tls, logger) : undefined;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${options.host}:${options.port}`, tls?.credentials ?? grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    );
  }).catch((error: unknown) => {
    tls?.close();
    throw error;
  });
  logger.info({ transport: tls ? (tls.mutual ? 'mutual TLS' : 'TLS') : 'plaintext', tokens: tokens.describe() }, 'gRPC security');
  if (tokens.isEmpty) logger.warn('no CREDITS_API_TOKEN or CREDITS_API_TOKENS: gRPC calls are not authenticated (development only)');

  let checking = false;
  const checkDatabase = async () => {
    // A ping slower than the interval must not overlap the next one and report out of order.
    if (closing || checking) return;
    checking = true;
    const up = await options.databaseAnswers().finally(() => (checking = false));
    if (closing) return;
    const next = up ? 'SERVING' : 'NOT_SERVING';
    if (health.get() !== next) {
      if (up) logger.info({ health: next }, 'database reachable: serving');
      else logger.warn({ health: next }, 'database unreachable: not serving');
    }
    health.setAll(next);
  };
  await checkDatabase();
  const monitor = setInterval(checkDatabase, options.healthIntervalMs ?? 1_000);
  monitor.unref();

  return {
    port,
    health,
    close: async (graceMs) => {
      if (closing) return;
      closing = true;
      clearInterval(monitor);
      tls?.close();
      health.setAll('NOT_SERVING');
      health.endWatches();
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          logger.warn('grace period over: cutting remaining calls');
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
    },
  };
}
