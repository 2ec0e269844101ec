import type { Config } from '../config';
import { creditsClientSecurity } from '../grpc/security.js';
import type { Logger } from '../logger';
import { createEdgeApp } from './app';
import { createCreditsGateway } from './credits-gateway';
import { listenHttp } from './http-server';
import { createStripeLineItemFetcher } from './line-items';
import { createEdgeMetrics } from './metrics';
import { resolveWebhookSecrets } from './webhook-secrets';

export interface EdgeRuntime {
  port: number;
  close(): Promise<void>;
}

export interface EdgeRuntimeOptions {
  config: Config;
  logger: Logger;
  /** Where CreditsService listens (the in-process one for `npm start`, else CREDITS_GRPC_URL). */
  creditsUrl: string;
}

/** The edge process: one gRPC channel, the Express app, the HTTP server; closed in that reverse order. */
export async function startEdgeRuntime({ config, logger, creditsUrl }: EdgeRuntimeOptions): Promise<EdgeRuntime> {
  const webhookSecrets = resolveWebhookSecrets(config, logger);
  const metrics = createEdgeMetrics();
  const clientSecurity = creditsClientSecurity(config, logger);
  const credits = createCreditsGateway({
    url: creditsUrl,
    ...clientSecurity,
    deadlineMs: config.grpc.deadlineMs,
    onCallFinished: (method, code, seconds) => metrics.grpcDuration.observe({ method, code }, seconds),
  });
  const { secretKey } = config.stripe;
  const lineItems = secretKey
    ? createStripeLineItemFetcher({
        secretKey,
        apiBase: config.stripe.apiBase,
        timeoutMs: config.stripe.apiTimeoutMs,
        maxRetries: config.stripe.apiMaxRetries,
      })
    : undefined;
  try {
    const app = createEdgeApp({ config, webhookSecrets, logger, credits, lineItems, metrics });
    const http = await listenHttp(app, { port: config.http.port });
    logger.info({ port: http.port, creditsUrl, lineItems: Boolean(lineItems) }, 'edge listening');
    return {
      port: http.port,
      close: async () => {
        await http.close(config.shutdownGraceMs);
        credits.close();
        clientSecurity.tls?.close();
      },
    };
  } catch (error) {
    credits.close();
    clientSecurity.tls?.close();
    throw error;
  }
}
