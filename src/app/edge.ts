import type { Config } from '../config.js';
import { createEdgeApp } from '../edge/app.js';
import { createCreditsGateway } from '../edge/credits-gateway.js';
import { listenHttp } from '../edge/http-server.js';
import { createStripeLineItemFetcher } from '../edge/line-items.js';
import { createEdgeMetrics } from '../edge/metrics.js';
import { resolveWebhookSecrets } from '../edge/webhook-secrets.js';
import type { Logger } from '../logger.js';
import { stripeApiFromConfig } from '../stripe-api/client.js';

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
  const credits = createCreditsGateway({
    url: creditsUrl,
    token: config.grpc.apiToken,
    deadlineMs: config.grpc.deadlineMs,
    onCallFinished: (method, code, seconds) => metrics.grpcDuration.observe({ method, code }, seconds),
  });
  const stripeApi = stripeApiFromConfig(config.stripe);
  const lineItems = stripeApi && createStripeLineItemFetcher(stripeApi);
  try {
    const app = createEdgeApp({ config, webhookSecrets, logger, credits, lineItems, metrics });
    const http = await listenHttp(app, { port: config.http.port });
    logger.info({ port: http.port, creditsUrl, lineItems: Boolean(lineItems) }, 'edge listening');
    return {
      port: http.port,
      close: async () => {
        await http.close(config.shutdownGraceMs);
        credits.close();
      },
    };
  } catch (error) {
    credits.close();
    throw error;
  }
}
