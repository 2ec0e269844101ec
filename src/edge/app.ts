import express, { type ErrorRequestHandler, type Express, type Request, type RequestHandler } from 'express';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../config.js';
import { API_DOCS_DIR } from '../paths.js';
import { API_DOCS_FILES, DOCS_PAGE_HEADERS } from './docs-page.js';
import { WebhookError } from './errors.js';
import { answerForError } from './http-answers.js';
import { continueIfAwaited } from './http-server.js';
import type { EdgeMetrics } from './metrics.js';
import { logLevelFor, stripeWebhookHandler, UNKNOWN_EVENT_TYPE, type WebhookDeps } from './stripe-webhook.js';

export type EdgeDeps = WebhookDeps;

/** `/webhooks/stripe` is the endpoint; the others are kept for Stripe dashboards configured with them. */
export const WEBHOOK_PATHS = ['/webhooks/stripe', '/webhooks/stripe/hotfix', '/api/stripe/webhook/hotfix'] as const;

// Stripe's payloads are far smaller; the cap also bounds what CreditsService stores per event.
const MAX_BODY_BYTES = 1024 * 1024;

const routeOf = (req: Request): string => (typeof req.route?.path === 'string' ? req.route.path : 'unmatched');
const isWebhookRoute = (req: Request): boolean => (WEBHOOK_PATHS as readonly string[]).includes(routeOf(req));

function recordDuration(metrics: EdgeMetrics): RequestHandler {
  return (req, res, next) => {
    const end = metrics.httpDuration.startTimer();
    res.once('finish', () => end({ method: req.method, route: routeOf(req), status: String(res.statusCode) }));
    next();
  };
}

/**
 * A declared Content-Length over the cap is refused from the headers alone, before a byte of the
 * body is read; a chunked body over the cap is still stopped by the body parser. The body is left
 * unread, so the connection cannot carry another request: it is closed after the answer.
 */
const refuseDeclaredOversize: RequestHandler = (req, res, next) => {
  // An absent header gives NaN, which is not over the cap; Node itself refuses a malformed one with 400.
  if (Number(req.headers['content-length']) > MAX_BODY_BYTES) {
    res.set('connection', 'close');
    next(new WebhookError('BODY_TOO_LARGE', 'body exceeds 1 MiB'));
    return;
  }
  // Only now may a client that sent `Expect: 100-continue` send its body.
  continueIfAwaited(req, res);
  next();
};

/** Body-parser failures (413), unknown routes (404) and anything thrown outside the webhook handler. */
function answerErrors(deps: Pick<EdgeDeps, 'metrics' | 'logger'>): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const answer = answerForError(error);
    res.status(answer.status).json(answer.body);
    if (isWebhookRoute(req)) {
      deps.metrics.webhooks.inc({ event_type: UNKNOWN_EVENT_TYPE, outcome: answer.outcome, status: String(answer.status) });
    } else if (answer.status === 404) {
      return;
    }
    const failure = answer.status >= 500 ? { err: error } : {};
    deps.logger[logLevelFor(answer.status)]({ route: routeOf(req), outcome: answer.outcome, status: answer.status, ...failure }, 'request failed');
  };
}

/** The edge: Stripe webhooks in, ApplyCheckout calls out; health, readiness and metrics beside. */
export function createEdgeApp(deps: EdgeDeps): Express {
  if (deps.webhookSecrets.length === 0 && !deps.config.e2eTestMode) {
    throw new ConfigError('STRIPE_WEBHOOK_SECRET: no webhook secret to verify signatures with');
  }
  if (deps.config.e2eTestMode) {
    deps.logger.warn('E2E_TEST_MODE is on: unsigned webhooks are accepted. Never enable it where real money flows.');
  }
  const app = express();
  app.disable('x-powered-by');
  app.use(recordDuration(deps.metrics));

  // Raw bytes on the webhook routes only: the signature is over the body exactly as sent.
  // Stripe never compresses webhooks: any Content-Encoding is refused (415) rather than inflated,
  // so a corrupt or hostile compressed body cannot reach the decompressor.
  const rawBody = express.raw({ type: () => true, limit: MAX_BODY_BYTES, inflate: false });
  const webhook = stripeWebhookHandler(deps);
  for (const path of WEBHOOK_PATHS) app.post(path, refuseDeclaredOversize, rawBody, webhook);

  mountHealthRoutes(app, deps);
  // With HTTP_OPS_PORT set they are served only by the ops listener (createOpsApp): a 404 here.
  if (deps.config.http.ops === undefined) mountOpsRoutes(app, deps);

  app.use((_req, _res, next) => next(new WebhookError('NOT_FOUND', 'no such route')));
  app.use(answerErrors(deps));
  return app;
}

type OpsDeps = Pick<EdgeDeps, 'credits' | 'metrics' | 'logger'>;

/** Liveness and readiness: always on the webhook port, which load balancers probe, and on the ops listener. */
function mountHealthRoutes(app: Express, deps: OpsDeps): void {
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'alive' });
  });
  app.get('/readyz', async (_req, res) => {
    if (await deps.credits.isServing()) res.json({ status: 'ready' });
    else res.status(503).json({ error: { code: 'NOT_READY', message: 'CreditsService is not serving' } });
  });
}

/** Metrics and documentation: on the webhook port, or only on the ops listener when HTTP_OPS_PORT is set. */
function mountOpsRoutes(app: Express, deps: OpsDeps): void {
  app.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });

  // Generated at build time (npm run generate:api-docs); read once, served as they are.
  const openapiJson = readFileSync(join(API_DOCS_DIR, API_DOCS_FILES.openapiJson), 'utf8');
  const docsPage = readFileSync(join(API_DOCS_DIR, API_DOCS_FILES.html), 'utf8');
  app.get('/openapi.json', (_req, res) => {
    res.type('json').send(openapiJson);
  });
  app.get('/docs', (_req, res) => {
    res.set(DOCS_PAGE_HEADERS).type('html').send(docsPage);
  });
}

/** The ops listener (HTTP_OPS_HOST:HTTP_OPS_PORT): health, readiness, metrics and documentation; no webhooks. */
export function createOpsApp(deps: OpsDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(recordDuration(deps.metrics));
  mountHealthRoutes(app, deps);
  mountOpsRoutes(app, deps);
  app.use((_req, _res, next) => next(new WebhookError('NOT_FOUND', 'no such route')));
  app.use(answerErrors(deps));
  return app;
}
