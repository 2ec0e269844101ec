import type { Config } from '../config.js';
import { createEdgeApp, createOpsApp } from '../edge/app.js';
import { createCreditsGateway } from '../edge/credits-gateway.js';
import { listenHttp, type HttpServerHandle } from '../edge/http-server.js';
import { createStripeLineItemFetcher } from '../edge/line-items.js';
import { createEdgeMetrics } from '../edge/metrics.js';
import { resolveWebhookSecrets } from '../edge/webhook-secrets.js';
import { creditsClientSecurity } from '../grpc/client.js';
import type { Logger } from '../logger.js';
import { stripeApiFromConfig } from '../stripe-api/client.js';

export interface EdgeRuntime {
  port: number;
  /** The ops listener's port (/metrics, /docs, /openapi.json) when HTTP_OPS_PORT is set. */
  opsPort?: number;
  close(): Promise<void>;
}

export interface EdgeRuntimeOptions {
  config: Config;
  logger: Logger;
  /** Where CreditsService listens (the in-process one for `npm start`, else CREDITS_GRPC_URL). */
  creditsUrl: string;
}

/** The edge process: one gRPC channel, the Express app(s), the HTTP server(s); closed in that reverse order. */
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
  const stripeApi = stripeApiFromConfig(config.stripe);
  const lineItems = stripeApi && createStripeLineItemFetcher(stripeApi);
  const listeners: HttpServerHandle[] = [];
  const closeAll = async () => {
    await Promise.all(listeners.map((listener) => listener.close(config.shutdownGraceMs)));
    credits.close();
    clientSecurity.tls?.close();
  };
  try {
    const { host, timeouts, ops } = config.http;
    const app = createEdgeApp({ config, webhookSecrets, logger, credits, lineItems, metrics });
    const http = await listenHttp(app, { port: config.http.port, host, timeouts });
    listeners.push(http);
    logger.info({ host, port: http.port, creditsUrl, lineItems: Boolean(lineItems), timeouts }, 'edge listening');
    let opsPort: number | undefined;
    if (ops) {
      const opsHttp = await listenHttp(createOpsApp({ credits, metrics, logger }), { port: ops.port, host: ops.host, timeouts });
      listeners.push(opsHttp);
      opsPort = opsHttp.port;
      logger.info({ host: ops.host, port: opsPort }, 'edge ops listening (/metrics, /docs, /openapi.json, /healthz, /readyz)');
    }
    return { port: http.port, opsPort, close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
