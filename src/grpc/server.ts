import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import type { StripeEventResult } from '../credits/checkout.js';
import type { CreditRules } from '../credits/credit-rules.js';
import type { ChargeLookup, CreditsStore } from '../credits/ports.js';
import type { SpendingEvent } from '../credits/spending-events.js';
import type { Logger } from '../logger.js';
import { createTokenCheck } from './auth.js';
import { creditsServiceHandlers } from './credits-service.js';
import { HealthService } from './health.js';
import { CREDITS_SERVICE_NAME, packageDefinition, protos } from './proto.js';

export interface CreditsServerOptions {
  store: CreditsStore;
  /** Whether the database answers; health says NOT_SERVING while it does not. */
  databaseAnswers: () => Promise<boolean>;
  logger: Logger;
  rules: CreditRules;
  apiToken: string | undefined;
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
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 2 * 1024 * 1024 });
  const health = new HealthService([CREDITS_SERVICE_NAME]);

  server.addService(
    protos.credits.v1.CreditsService.service,
    creditsServiceHandlers({
      store: options.store,
      rules: options.rules,
      charges: options.charges,
      onEventResult: options.onEventResult,
      onSpending: options.onSpending,
      call: {
        logger,
        checkToken: createTokenCheck(options.apiToken),
        isClosing: () => closing,
        onFinish: options.onCallFinished,
      },
    }),
  );
  server.addService(protos.grpc.health.v1.Health.service, health.handlers);
  new ReflectionService(packageDefinition).addToServer(server);

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${options.host}:${options.port}`, grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    );
  });

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
