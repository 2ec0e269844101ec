import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ERROR_CODES } from '../src/contract/error-codes';
import { WEBHOOK_PATHS } from '../src/edge/app';
import { renderDocsPage } from '../src/edge/docs-page';
import { WEBHOOK_ERROR_STATUS } from '../src/edge/http-answers';
import type { OpenApiDocument, OpenApiOperation } from '../src/edge/openapi';
import { loadProtoDocs } from '../src/edge/proto-docs';
import { errorBody, livenessBody, readinessBody, stripeEventEnvelope, webhookReceivedBody } from '../src/edge/webhook-schemas';
import { startCreditsHarness, type CreditsHarness } from './support/credits-harness';
import { deliver, post, sign, startEdge, type Answer, type EdgeHarness } from './support/edge-harness';
import { checkoutSession, stripeEvent, stripeId } from './support/stripe-events';

// CHROMIUM_BIN only for a Chromium installed elsewhere; CI installs Debian's at the default path.
const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
// .ci/run installs it: in CI a missing browser is a failure, not a quiet skip.
if (!hasChromium && process.env.CI) throw new Error(`${CHROMIUM} is missing in CI: the browser test of GET /docs cannot run`);
if (!hasChromium) {
  console.warn(`edge-docs: ${CHROMIUM} not found, so the headless browser test of GET /docs is skipped (install Debian's chromium package to run it).`);
}

let h: CreditsHarness;
let edge: EdgeHarness;
let openapi: OpenApiDocument;

beforeAll(async () => {
  h = await startCreditsHarness();
  edge = await startEdge(h.address);
  openapi = (await (await fetch(`${edge.url}/openapi.json`)).json()) as OpenApiDocument;
});
afterAll(async () => {
  await edge?.close();
  await h?.close();
});

const webhookOperation = (path: string): OpenApiOperation => openapi.paths[path]!.post!;
const examplesOf = (status: number) => webhookOperation('/webhooks/stripe').responses[status]!.content!['application/json']!.examples!;
const documented = (status: number, key: string) => examplesOf(status)[key]!.value;

/** A validator made from the published document itself, not from the source: what a client of /openapi.json would check. */
function published(name: string): z.ZodType {
  const schema = openapi.components.schemas[name];
  if (!schema) throw new Error(`no component schema ${name}`);
  return z.fromJSONSchema(schema as z.core.JSONSchema.JSONSchema);
}

function expectErrorAnswer(answer: Answer, status: number, example: string): void {
  expect(answer.status).toBe(status);
  expect(errorBody.safeParse(answer.body).success).toBe(true);
  expect(published('Error').safeParse(answer.body).success).toBe(true);
  expect(answer.body).toEqual(documented(status, example));
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('GET /openapi.json', () => {
  it('when fetched, then it is an OpenAPI 3.1 document of the webhook endpoint, its aliases and the operations endpoints', async () => {
    const response = await fetch(`${edge.url}/openapi.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(openapi.openapi).toMatch(/^3\.1\.\d+$/);
    expect(openapi.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining([...WEBHOOK_PATHS, '/healthz', '/readyz', '/metrics']));
    for (const path of ['/healthz', '/readyz', '/metrics']) expect(openapi.paths[path]?.get?.responses[200]).toBeDefined();

    for (const path of WEBHOOK_PATHS) {
      const operation = webhookOperation(path);
      expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['200', '400', '413', '500', '503']));
      expect(operation.parameters).toContainEqual(expect.objectContaining({ name: 'Stripe-Signature', in: 'header', required: true }));
      expect(operation.requestBody?.content['application/json']?.schema).toEqual({ $ref: '#/components/schemas/StripeEvent' });
      for (const [status, answer] of Object.entries(operation.responses)) {
        expect(answer['x-stripe-retries'], `${path} ${status}`).toBe(Number(status) >= 300);
        expect(answer.description).toMatch(status === '200' ? /Stripe is done/ : /Stripe retries/);
      }
    }
    const operationIds = Object.values(openapi.paths).flatMap((item) => [item.get, item.post].filter(Boolean).map((op) => op!.operationId));
    expect(new Set(operationIds).size).toBe(operationIds.length);
  });

  it('when a schema is referenced, then the document defines it', () => {
    const refs = JSON.stringify(openapi.paths).match(/#\/components\/schemas\/\w+/g) ?? [];
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of new Set(refs)) expect(openapi.components.schemas[ref.split('/').pop()!], ref).toBeDefined();
  });

  it('then every edge error code is documented under the status the edge answers it with', () => {
    for (const [code, status] of Object.entries(WEBHOOK_ERROR_STATUS)) {
      if (code === 'NOT_FOUND' || status >= 500) continue; // not a webhook answer / a generic 5xx body
      const codes = Object.values(examplesOf(status)).map((example) => (example.value as { error: { code: string } }).error.code);
      expect(codes, code).toContain(code);
    }
    expect(Object.keys(examplesOf(200))).toEqual([
      'applied',
      'duplicate',
      'payment_pending',
      'payment_failed',
      'ignored',
      'rejected',
      'refund_applied',
      'reversal_shortfall',
      'dispute_won',
      'refund_already_reversed',
      'purchase_pending',
    ]);
  });

  it('then its component schemas are generated from the zod schemas the edge validates and answers with', () => {
    const generated = (schema: z.ZodType, io: 'input' | 'output') => {
      const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io });
      return rest;
    };
    expect(openapi.components.schemas).toEqual({
      StripeEvent: generated(stripeEventEnvelope, 'input'),
      WebhookReceived: generated(webhookReceivedBody, 'output'),
      Error: generated(errorBody, 'output'),
      Liveness: generated(livenessBody, 'output'),
      Readiness: generated(readinessBody, 'output'),
    });
  });

  it('when a signed purchase is delivered, then the real 200 answer matches the published schema and the documented example', async () => {
    const event = stripeEvent('checkout.session.completed', checkoutSession({ email: `docs-${stripeId('u')}@example.com`, metadata: { credits: '100' } }));
    expect(published('StripeEvent').safeParse(event).success).toBe(true);
    const answer = await deliver(edge.url, event);
    expect(answer.status).toBe(200);
    expect(webhookReceivedBody.safeParse(answer.body).success).toBe(true);
    expect(published('WebhookReceived').safeParse(answer.body).success).toBe(true);
    expect(answer.body).toEqual(documented(200, 'applied'));
  });

  it('when a body carries a field the schema does not publish, then the published schema rejects it (the check has teeth)', () => {
    expect(published('WebhookReceived').safeParse({ received: true, outcome: 'applied', creditsGranted: 1, extra: 1 }).success).toBe(false);
    expect(published('Error').safeParse({ error: { code: 'X' } }).success).toBe(false);
  });

  it('when deliveries fail, then the real error answers match the published schema and the documented examples', async () => {
    const event = JSON.stringify(stripeEvent('checkout.session.completed', checkoutSession({ metadata: { credits: '1' } })));
    expectErrorAnswer(await post(edge.url, '/webhooks/stripe', event), 400, 'signature_missing');
    const noType = sign(JSON.stringify({ id: stripeId('evt'), data: { object: {} } }));
    expectErrorAnswer(await post(edge.url, '/webhooks/stripe/hotfix', noType.payload, noType.signature), 400, 'body_not_event');
    const notJson = sign('{"id": "evt_1", ');
    expectErrorAnswer(await post(edge.url, '/api/stripe/webhook/hotfix', notJson.payload, notJson.signature), 400, 'body_not_json');
    const big = sign(JSON.stringify({ id: stripeId('evt'), type: 'x', data: { object: { padding: 'x'.repeat(1024 * 1024) } } }));
    expectErrorAnswer(await post(edge.url, '/webhooks/stripe', big.payload, big.signature), 413, 'body_too_large');

    const compressed = await fetch(`${edge.url}/webhooks/stripe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'compress', 'stripe-signature': sign(event).signature },
      body: event,
    });
    expectErrorAnswer({ status: compressed.status, body: (await compressed.json()) as Answer['body'] }, 415, 'body_unreadable');
  });

  it('when CreditsService cannot be reached, then the 503 answers match the published schema and the documented examples', async () => {
    const stranded = await startEdge(`127.0.0.1:${await closedPort()}`, { CREDITS_GRPC_DEADLINE_MS: '500' });
    try {
      const event = stripeEvent('checkout.session.completed', checkoutSession({ metadata: { credits: '1' } }));
      expectErrorAnswer(await deliver(stranded.url, event), 503, 'credits_unavailable');
      const ready = await fetch(`${stranded.url}/readyz`);
      const body = await ready.json();
      expect(ready.status).toBe(503);
      expect(published('Error').safeParse(body).success).toBe(true);
      expect(body).toEqual(openapi.paths['/readyz']!.get!.responses[503]!.content!['application/json']!.examples!.NOT_READY!.value);
    } finally {
      await stranded.close();
    }
  });

  it('when /healthz and /readyz answer, then their bodies match the published schemas', async () => {
    const alive = await (await fetch(`${edge.url}/healthz`)).json();
    expect(livenessBody.safeParse(alive).success && published('Liveness').safeParse(alive).success).toBe(true);
    const ready = await fetch(`${edge.url}/readyz`);
    expect(ready.status).toBe(200);
    const body = await ready.json();
    expect(readinessBody.safeParse(body).success && published('Readiness').safeParse(body).success).toBe(true);
  });
});

describe('GET /docs', () => {
  it('when fetched, then one self-contained HTML page holds the webhook API, the gRPC contract and the error codes', async () => {
    const response = await fetch(`${edge.url}/docs`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    const page = await response.text();
    // Nothing to fetch: no scripts, stylesheets, images, fonts or frames, inline or external.
    expect(page).not.toMatch(/<script|<link|<img|<iframe|\ssrc=|url\(|@import|@font-face/i);
    expect(page).toContain('<span class="method post">POST</span> <code>/webhooks/stripe</code>');
    for (const path of WEBHOOK_PATHS) expect(page).toContain(`<code>${path}</code>`);
    const proto = loadProtoDocs();
    for (const method of proto.services.flatMap((service) => service.methods)) {
      expect(page).toContain(`rpc <code>${method.name}</code>`);
      expect(page).toContain(method.comment.split('\n')[0]!.replaceAll("'", '&#39;'));
    }
    for (const message of proto.messages) expect(page).toContain(`message <code>${message.name}</code>`);
    for (const value of proto.enums.flatMap((protoEnum) => protoEnum.values)) expect(page).toContain(`<code>${value.name}</code>`);
    for (const code of Object.keys(ERROR_CODES)) expect(page).toContain(`<code>${code}</code>`);
    for (const code of ['SIGNATURE_MISSING', 'SIGNATURE_INVALID', 'SIGNATURE_EXPIRED', 'BODY_NOT_JSON', 'BODY_NOT_EVENT', 'BODY_TOO_LARGE']) {
      expect(page).toContain(`<code>${code}</code>`);
    }
  });

  it('when a description or a comment holds markup, then the page shows it as text', () => {
    const hostile = '<script>alert(1)</script> & `</code><img src=x onerror=alert(1)>`';
    const document = structuredClone(openapi);
    document.info.description = hostile;
    webhookOperationOf(document).summary = hostile;
    const proto = loadProtoDocs();
    proto.services[0]!.methods[0]!.comment = hostile;
    proto.messages[0]!.fields[0]!.comment = hostile;
    const page = renderDocsPage(document, proto);
    expect(page).not.toMatch(/<script|<img/);
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; <code>&lt;/code&gt;&lt;img src=x onerror=alert(1)&gt;</code>');
  });

  describe.skipIf(!hasChromium)('in headless Chromium', () => {
    it('when loaded, then the page shows the webhook endpoint and the ApplyCheckout RPC', { timeout: 90_000 }, async () => {
      const screenshot = process.env.DOCS_SCREENSHOT;
      const run = await runChromium([...(screenshot ? [`--screenshot=${screenshot}`, '--window-size=1280,2400'] : ['--dump-dom']), `${edge.url}/docs`]);
      expect(run.code, run.stderr).toBe(0);
      if (screenshot) return;
      const dom = run.stdout;
      expect(dom).toContain('<title>Credits service API</title>');
      expect(dom).toContain('<h3><span class="method post">POST</span> <code>/webhooks/stripe</code></h3>');
      expect(dom).toMatch(/rpc <code>ApplyCheckout<\/code>\(<a href="#proto-credits-v1-applycheckoutrequest"><code>ApplyCheckoutRequest<\/code><\/a>\)/);
    });
  });
});

function webhookOperationOf(document: OpenApiDocument): OpenApiOperation {
  return document.paths['/webhooks/stripe']!.post!;
}

const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--hide-scrollbars',
];

/** One Chromium in its own process group and throwaway profile; the whole group goes when it is done or stuck. */
function runChromium(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const profile = mkdtempSync(join(tmpdir(), 'edge-docs-chromium-'));
  return new Promise((resolve, reject) => {
    const child = spawn(CHROMIUM, [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, ...args], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const stuck = setTimeout(killGroup, 60_000);
    child.once('error', (error) => {
      clearTimeout(stuck);
      rmSync(profile, { recursive: true, force: true });
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(stuck);
      killGroup();
      rmSync(profile, { recursive: true, force: true });
      resolve({ code, stdout, stderr: stderr.slice(-2000) });
    });
  });
}
