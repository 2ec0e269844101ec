import { status as grpcStatus } from '@grpc/grpc-js';
import { z } from 'zod';
import { outcomeToProto } from '../contract/apply-checkout.js';
import { stripeEventOutcomeToProto } from '../contract/apply-stripe-event.js';
import type { ApplyCheckoutResponse__Output } from '../contract/generated/credits/v1/ApplyCheckoutResponse.js';
import type { ApplyStripeEventResponse__Output } from '../contract/generated/credits/v1/ApplyStripeEventResponse.js';
import { CHECKOUT_OUTCOMES, type CheckoutOutcome, type EventOutcome } from '../contract/outcomes.js';
import { CreditsCallError } from './credits-gateway.js';
import { WebhookError } from './errors.js';
import { answerForError, answerForResponse, answerForStripeEventResponse } from './http-answers.js';
import { errorBody, livenessBody, readinessBody, stripeEventEnvelope, webhookReceivedBody } from './webhook-schemas.js';

/** The OpenAPI 3.1 subset this document uses (its Schema Objects are JSON Schema 2020-12). */
export type JsonSchema = Record<string, unknown>;

export interface OpenApiExample {
  summary: string;
  value: unknown;
}

export interface OpenApiResponse {
  description: string;
  /** Whether Stripe delivers the event again after this answer: it does after any non-2xx. */
  'x-stripe-retries'?: boolean;
  content?: Record<string, { schema: JsonSchema; examples?: Record<string, OpenApiExample> }>;
}

export interface OpenApiParameter {
  name: string;
  in: 'header';
  required: boolean;
  description: string;
  schema: JsonSchema;
  example?: string;
}

export interface OpenApiOperation {
  operationId: string;
  tags: string[];
  summary: string;
  description?: string;
  /** Set on the webhook aliases: the path whose operation this one repeats. */
  'x-alias-of'?: string;
  parameters?: OpenApiParameter[];
  requestBody?: { required: boolean; description: string; content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, OpenApiResponse>;
}

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description: string };
  tags: { name: string; description: string }[];
  paths: Record<string, { get?: OpenApiOperation; post?: OpenApiOperation }>;
  components: { schemas: Record<string, JsonSchema> };
}

/** Request shapes are documented as accepted (input), answers as sent (output). */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io });
  return rest;
}

const SCHEMAS = {
  StripeEvent: jsonSchema(stripeEventEnvelope, 'input'),
  WebhookReceived: jsonSchema(webhookReceivedBody, 'output'),
  Error: jsonSchema(errorBody, 'output'),
  Liveness: jsonSchema(livenessBody, 'output'),
  Readiness: jsonSchema(readinessBody, 'output'),
};

const ref = (name: keyof typeof SCHEMAS): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

const COMMITTED: Record<CheckoutOutcome, { summary: string; creditsGranted: number; reason?: string }> = {
  applied: { summary: 'Credits were added.', creditsGranted: 100 },
  duplicate: { summary: 'This event, or another event of the same purchase, was already applied.', creditsGranted: 0, reason: 'checkout_session_already_credited' },
  payment_pending: { summary: 'The payment has not cleared yet; a later event credits it.', creditsGranted: 0, reason: 'awaiting_async_payment' },
  payment_failed: { summary: 'The delayed payment failed; nothing was credited.', creditsGranted: 0, reason: 'async_payment_failed' },
  ignored: { summary: 'Nothing to do: another event type, or not a one-off payment.', creditsGranted: 0, reason: 'event_type_not_handled' },
  rejected: { summary: 'Cannot be credited as sent (e.g. credits_unknown, user_unresolved); stored as failed, replayable.', creditsGranted: 0, reason: 'credits_unknown' },
};

/** Refunds and disputes (charge.refunded, charge.dispute.created, charge.dispute.closed), answered through ApplyStripeEvent. */
const REVERSALS: Record<string, { summary: string; outcome: EventOutcome; reversed?: number; restored?: number; shortfall?: number; reason?: string }> = {
  refund_applied: { summary: 'A refund took back its share of the purchase (charge.refunded; amount_refunded is cumulative).', outcome: 'applied', reversed: 50 },
  reversal_shortfall: {
    summary: 'A refund or dispute took what the user had available; the rest, spent or held, is its shortfall.',
    outcome: 'applied',
    reversed: 30,
    shortfall: 70,
  },
  dispute_won: { summary: 'A dispute closed won (or an inquiry closed): the credits it took are given back.', outcome: 'applied', restored: 100 },
  refund_already_reversed: {
    summary: 'A redelivery, or a refund whose cumulative amount was reversed already: nothing moved.',
    outcome: 'duplicate',
    reason: 'refund_already_reversed',
  },
  purchase_pending: {
    summary: 'A refund or dispute of a purchase not credited yet: stored as pending, applied in the transaction that credits it.',
    outcome: 'purchase_pending',
    reason: 'purchase_not_credited_yet',
  },
};

function bodyParserError(status: number, type: string, message: string): Error {
  return Object.assign(new Error(message), { status, type });
}

/** Every way a delivery fails, in the order the edge meets them; status and body come from the edge's own mapping. */
const FAILURES: { when: string; error: unknown }[] = [
  { when: 'No `Stripe-Signature` header.', error: new WebhookError('SIGNATURE_MISSING', 'Stripe-Signature header missing') },
  {
    when: 'No configured secret matches the signature: another endpoint\'s secret, or the body changed on the way.',
    error: new WebhookError('SIGNATURE_INVALID', 'no Stripe-Signature value matches the body with a configured secret'),
  },
  {
    when: 'A secret matches, but the signature\'s timestamp is older than `STRIPE_WEBHOOK_TOLERANCE_S` (300 s).',
    error: new WebhookError('SIGNATURE_EXPIRED', 'signature timestamp is older than 300 s'),
  },
  { when: 'The body is not JSON.', error: new WebhookError('BODY_NOT_JSON', 'body is not JSON') },
  {
    when: 'JSON, but not an event: a non-empty string `id` and `type` and an object `data.object` are required.',
    error: new WebhookError('BODY_NOT_EVENT', 'body is not a Stripe event: string id and type required'),
  },
  { when: 'The request was cut off before its body was read.', error: bodyParserError(400, 'request.aborted', 'request aborted') },
  { when: 'The body is over 1 MiB.', error: bodyParserError(413, 'entity.too.large', 'request entity too large') },
  { when: 'The body has a `Content-Encoding` (Stripe never compresses webhooks).', error: bodyParserError(415, 'encoding.unsupported', 'unsupported content encoding') },
  {
    when: 'CreditsService found the request invalid (INVALID_ARGUMENT); the code is its `credits-error-code`.',
    error: new CreditsCallError(grpcStatus.INVALID_ARGUMENT, 'REQUEST_INVALID', 'session: required for checkout.session.completed'),
  },
  {
    when: 'CreditsService refused the edge\'s token (UNAUTHENTICATED): `CREDITS_API_TOKEN` is wrong and an operator must fix it; or an unexpected fault in the edge.',
    error: new CreditsCallError(grpcStatus.UNAUTHENTICATED, 'AUTH_TOKEN_INVALID', 'invalid bearer token'),
  },
  {
    when: 'CreditsService is UNAVAILABLE, missed the deadline, ABORTED, INTERNAL or failed otherwise, or answered an outcome this edge does not know.',
    error: new CreditsCallError(grpcStatus.UNAVAILABLE, 'DATABASE_UNAVAILABLE', 'the database is unavailable; retry later'),
  },
  {
    when: 'The Stripe API failed while listing the line items of a session about to be credited.',
    error: new WebhookError('STRIPE_API_UNAVAILABLE', 'the Stripe API did not answer'),
  },
];

const STATUS_MEANING: Record<number, string> = {
  200: 'The outcome is committed in CreditsService.',
  400: 'The delivery cannot be trusted or read, or CreditsService found it invalid.',
  413: 'The body is too large.',
  415: 'The body is encoded in a way the edge cannot read.',
  500: 'The edge is misconfigured or failed unexpectedly; details are in the logs.',
  503: 'A dependency is unavailable; details are in the logs.',
};

const stripeThen = (status: number): string => (status < 300 ? 'Stripe is done with the event.' : 'Stripe retries.');

function webhookResponses(): Record<string, OpenApiResponse> {
  const received: Record<string, OpenApiExample> = {};
  for (const outcome of CHECKOUT_OUTCOMES) {
    const example = COMMITTED[outcome];
    const answer = answerForResponse({
      outcome: outcomeToProto(outcome) as ApplyCheckoutResponse__Output['outcome'],
      credits_granted: String(example.creditsGranted),
      reason: example.reason ?? '',
      user: null,
      balance_after: '0',
    });
    received[outcome] = { summary: example.summary, value: answer.body };
  }
  for (const [name, example] of Object.entries(REVERSALS)) {
    const answer = answerForStripeEventResponse({
      outcome: stripeEventOutcomeToProto(example.outcome) as ApplyStripeEventResponse__Output['outcome'],
      credits_granted: '0',
      credits_reversed: String(example.reversed ?? 0),
      credits_restored: String(example.restored ?? 0),
      shortfall: String(example.shortfall ?? 0),
      reason: example.reason ?? '',
      user: null,
      balance_after: '0',
    });
    received[name] = { summary: example.summary, value: answer.body };
  }
  const failures = new Map<number, Record<string, OpenApiExample>>();
  for (const failure of FAILURES) {
    const answer = answerForError(failure.error);
    const examples = failures.get(answer.status) ?? {};
    // Keyed by the outcome label of logs and metrics: 5xx bodies are generic, so several situations share one code.
    examples[answer.outcome] = { summary: failure.when, value: answer.body };
    failures.set(answer.status, examples);
  }
  const responses: Record<string, OpenApiResponse> = {
    200: {
      description: `${STATUS_MEANING[200]} ${stripeThen(200)}`,
      'x-stripe-retries': false,
      content: { 'application/json': { schema: ref('WebhookReceived'), examples: received } },
    },
  };
  for (const [status, examples] of [...failures].sort(([a], [b]) => a - b)) {
    responses[status] = {
      description: `${STATUS_MEANING[status] ?? 'Failed.'} ${stripeThen(status)}`,
      'x-stripe-retries': true,
      content: { 'application/json': { schema: ref('Error'), examples } },
    };
  }
  return responses;
}

const STRIPE_SIGNATURE: OpenApiParameter = {
  name: 'Stripe-Signature',
  in: 'header',
  required: true,
  description:
    '`t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, one `v1` per signing secret, as Stripe sends it. ' +
    'Checked against every secret in `STRIPE_WEBHOOK_SECRET` (comma-separated during a rotation), with a tolerance of ' +
    '`STRIPE_WEBHOOK_TOLERANCE_S` (300 s). Only `E2E_TEST_MODE` accepts a request without it. Never logged.',
  schema: { type: 'string', minLength: 1 },
  example: 't=1700000000,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd',
};

/** `/api/stripe/webhook/hotfix` → `ApiStripeWebhookHotfix` */
const pascalCase = (path: string): string => path.replace(/(?:^|[^a-z0-9]+)([a-z0-9])/gi, (_m, c: string) => c.toUpperCase());

function webhookOperation(path: string, endpoint: string, responses: Record<string, OpenApiResponse>): OpenApiOperation {
  const alias = path !== endpoint;
  return {
    operationId: alias ? `receiveStripeWebhookVia${pascalCase(path)}` : 'receiveStripeWebhook',
    tags: ['Stripe webhook'],
    summary: alias ? `Alias of POST ${endpoint}` : 'Receive a Stripe event',
    description: alias
      ? `Kept for Stripe endpoints already configured with this path: same headers, body and answers as \`POST ${endpoint}\`. Configure new endpoints with \`${endpoint}\`.`
      : 'Verifies the signature over the raw body, checks that the body is an event, then hands it to CreditsService ' +
        '(ApplyCheckout), which records every event type and credits a paid Checkout Session exactly once. ' +
        'A 2xx answer means the outcome is committed. After any other answer Stripe delivers the event again, with ' +
        'backoff, for up to three days; that is safe because ApplyCheckout is idempotent per event id and per Checkout Session.',
    ...(alias ? { 'x-alias-of': endpoint } : {}),
    parameters: [STRIPE_SIGNATURE],
    requestBody: {
      required: true,
      description: 'The raw bytes Stripe sent, at most 1 MiB. They are verified and stored exactly as received, whatever the Content-Type.',
      content: { 'application/json': { schema: ref('StripeEvent') } },
    },
    responses,
  };
}

const json = (schema: JsonSchema, examples?: Record<string, OpenApiExample>) => ({ 'application/json': { schema, ...(examples ? { examples } : {}) } });

const OPERATIONS: Record<string, { get: OpenApiOperation }> = {
  '/healthz': {
    get: {
      operationId: 'liveness',
      tags: ['Operations'],
      summary: 'Liveness: the process runs',
      responses: { 200: { description: 'Alive.', content: json(ref('Liveness')) } },
    },
  },
  '/readyz': {
    get: {
      operationId: 'readiness',
      tags: ['Operations'],
      summary: 'Readiness: CreditsService answers grpc.health.v1 SERVING for credits.v1.CreditsService',
      responses: {
        200: { description: 'Ready to take webhooks.', content: json(ref('Readiness')) },
        503: {
          description: 'CreditsService is not serving (down, or its database is).',
          content: json(ref('Error'), {
            NOT_READY: { summary: 'CreditsService is not serving.', value: { error: { code: 'NOT_READY', message: 'CreditsService is not serving' } } },
          }),
        },
      },
    },
  },
  '/metrics': {
    get: {
      operationId: 'metrics',
      tags: ['Operations'],
      summary: 'Prometheus metrics of the edge',
      description:
        '`edge_webhooks_total{event_type,outcome,status}`, `edge_http_request_duration_seconds{method,route,status}`, ' +
        '`edge_credits_grpc_duration_seconds{method,code}` and the standard process metrics. Served on the webhook port: do not expose it to the internet.',
      responses: { 200: { description: 'Prometheus text exposition format.', content: { 'text/plain; version=0.0.4': { schema: { type: 'string' } } } } },
    },
  },
  '/openapi.json': {
    get: {
      operationId: 'openapi',
      tags: ['Documentation'],
      summary: 'This OpenAPI 3.1 document',
      responses: { 200: { description: 'Generated at start from the zod schemas the edge validates and answers with.', content: json({ type: 'object' }) } },
    },
  },
  '/docs': {
    get: {
      operationId: 'docs',
      tags: ['Documentation'],
      summary: 'This API and the gRPC contract as one HTML page',
      responses: { 200: { description: 'A self-contained page: no scripts, no external resources.', content: { 'text/html': { schema: { type: 'string' } } } } },
    },
  },
};

/** The edge's HTTP API; `webhookPaths[0]` is the endpoint, the others its aliases. */
export function buildOpenApiDocument(webhookPaths: readonly string[]): OpenApiDocument {
  const [endpoint = '/webhooks/stripe'] = webhookPaths;
  const responses = webhookResponses();
  const paths: OpenApiDocument['paths'] = {};
  for (const path of webhookPaths) paths[path] = { post: webhookOperation(path, endpoint, responses) };
  return {
    openapi: '3.1.1',
    info: {
      title: 'Credits edge: Stripe webhook API',
      version: '1',
      description:
        'The HTTP edge of the credits service: Stripe delivers Checkout events here and the edge turns them into ' +
        'ApplyCheckout calls to CreditsService (gRPC). Every error is answered `{ "error": { "code", "message" } }`; ' +
        'an unknown route or method is answered 404 `NOT_FOUND`.',
    },
    tags: [
      { name: 'Stripe webhook', description: 'Where Stripe delivers events.' },
      { name: 'Operations', description: 'Health, readiness and metrics for the people who run the edge.' },
      { name: 'Documentation', description: 'This document and its HTML rendering.' },
    ],
    paths: { ...paths, ...OPERATIONS },
    components: { schemas: SCHEMAS },
  };
}
