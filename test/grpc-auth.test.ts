import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config';

import { createCreditsClient, createHealthClient, type CreditsServiceClient } from '../src/grpc/client';
import type { ApplyCheckoutRequest } from '../src/contract/generated/credits/v1/ApplyCheckoutRequest';
import { CREDITS_SERVICE_NAME, protos } from '../src/grpc/proto';
import { assertEveryMethodHasScope, METHOD_SCOPES } from '../src/grpc/scopes';
import { creditsServerSecurity } from '../src/grpc/security';
import { startEdge, deliver } from './support/edge-harness';
import { call, startCreditsHarness, type CreditsHarness } from './support/credits-harness';
import { captureLogs } from './support/log-capture';
import { LogAudit } from './support/log-audit';
import { applyCheckoutRequestFor, checkoutSession, stripeEvent, stripeId } from './support/stripe-events';

const require = createRequire(import.meta.url);

// Each caller its own token; "edge" has two while it rotates.
const TOKENS = {
  reader: 'reader-token-6f0c1d2e3a4b5c6d7e8f9a0b1c2d3e4f',
  spender: 'spender-token-0a1b2c3d4e5f60718293a4b5c6d7e8f9',
  edgeOld: 'edge-token-old-9f8e7d6c5b4a39281706f5e4d3c2b1a0',
  edgeNew: 'edge-token-new-1a2b3c4d5e6f708192a3b4c5d6e7f809',
};
const SCOPED = [
  { name: 'billing-ui', token: TOKENS.reader, scopes: ['credits:read' as const] },
  { name: 'shop', token: TOKENS.spender, scopes: ['credits:spend' as const] },
  { name: 'edge', token: TOKENS.edgeOld, scopes: ['stripe:apply' as const] },
  { name: 'edge', token: TOKENS.edgeNew, scopes: ['stripe:apply' as const] },
];

const audit = new LogAudit();
for (const token of Object.values(TOKENS)) audit.rememberToken(token);

const bearer = (token: string | undefined) => {
  const metadata = new grpc.Metadata();
  if (token !== undefined) metadata.set('authorization', `Bearer ${token}`);
  return metadata;
};

function purchase(email: string, credits = '100'): ApplyCheckoutRequest {
  const event = stripeEvent('checkout.session.completed', checkoutSession({ email, metadata: { credits } }));
  return applyCheckoutRequestFor(event);
}

const outcome = (result: Awaited<ReturnType<typeof call>>) =>
  result.ok ? 'OK' : `${grpc.status[result.error.code]} ${result.errorCode ?? ''}`.trim();

async function eventRows(h: CreditsHarness): Promise<number> {
  const { rows } = await h.sql.query<{ n: number }>('SELECT count(*)::int AS n FROM stripe_events');
  return rows[0]!.n;
}

describe('scoped tokens', () => {
  let h: CreditsHarness;
  let client: CreditsServiceClient;
  const email = `scoped-${stripeId('u')}@example.com`;

  beforeAll(async () => {
    h = await startCreditsHarness({ tokens: SCOPED });
    audit.watch('scoped server', h.logs.text);
    audit.rememberEmail(email);
    client = h.client; // no token of its own: every call below says which token it carries
    await h.sql.query('INSERT INTO users (email) VALUES ($1)', [email]);
  });
  afterAll(() => h?.close());

  it('when a read-only token reads, then it gets the balance; when it applies a checkout, then PERMISSION_DENIED SCOPE_MISSING and nothing is written', async () => {
    expect(outcome(await call(client, client.GetBalance, { identifier: email }, bearer(TOKENS.reader)))).toBe('OK');
    expect(outcome(await call(client, client.ResolveUser, { identifier: email }, bearer(TOKENS.reader)))).toBe('OK');
    const before = await eventRows(h);
    const result = await call(client, client.ApplyCheckout, purchase(email), bearer(TOKENS.reader));
    expect(outcome(result)).toBe('PERMISSION_DENIED SCOPE_MISSING');
    expect(!result.ok && result.error.details).toContain('stripe:apply');
    expect(await eventRows(h)).toBe(before);
  });

  it('when a spend-only token applies a checkout or reads a balance, then PERMISSION_DENIED SCOPE_MISSING', async () => {
    const before = await eventRows(h);
    expect(outcome(await call(client, client.ApplyCheckout, purchase(email), bearer(TOKENS.spender)))).toBe('PERMISSION_DENIED SCOPE_MISSING');
    expect(outcome(await call(client, client.GetBalance, { identifier: email }, bearer(TOKENS.spender)))).toBe('PERMISSION_DENIED SCOPE_MISSING');
    expect(await eventRows(h)).toBe(before);
  });

  it('when both tokens of one name (rotation) apply a checkout, then both work and the caller is logged by that name', async () => {
    for (const token of [TOKENS.edgeOld, TOKENS.edgeNew]) {
      const result = await call(client, client.ApplyCheckout, purchase(email, '10'), bearer(token));
      expect(result.ok && (result.response as { outcome: string }).outcome).toBe('APPLY_CHECKOUT_OUTCOME_APPLIED');
    }
    const applied = h.logs.lines.map((line) => JSON.parse(line)).filter((line) => line.msg === 'grpc call' && line.method === 'ApplyCheckout' && line.code === 'OK');
    expect(applied.map((line) => line.caller)).toEqual(['edge', 'edge']);
    // The edge token reads nothing.
    expect(outcome(await call(client, client.GetBalance, { identifier: email }, bearer(TOKENS.edgeNew)))).toBe('PERMISSION_DENIED SCOPE_MISSING');
  });

  it('when a token is missing, wrong or another scheme, then UNAUTHENTICATED with its code, whatever the method', async () => {
    for (const method of [client.GetBalance, client.ApplyCheckout] as const) {
      const request = method === client.GetBalance ? { identifier: email } : purchase(email);
      const m = method as typeof client.GetBalance;
      expect(outcome(await call(client, m, request as never, bearer(undefined)))).toBe('UNAUTHENTICATED AUTH_TOKEN_MISSING');
      expect(outcome(await call(client, m, request as never, bearer(`${TOKENS.reader}x`)))).toBe('UNAUTHENTICATED AUTH_TOKEN_INVALID');
      const basic = new grpc.Metadata();
      basic.set('authorization', `Basic ${TOKENS.reader}`);
      expect(outcome(await call(client, m, request as never, basic))).toBe('UNAUTHENTICATED AUTH_TOKEN_INVALID');
    }
  });

  it('when a request is over its method cap (64 KiB for GetBalance), then RESOURCE_EXHAUSTED REQUEST_TOO_LARGE; without a token it is refused as unauthenticated first', async () => {
    const big = { identifier: `${'a'.repeat(70 * 1024)}@example.com` };
    expect(outcome(await call(client, client.GetBalance, big, bearer(TOKENS.reader)))).toBe('RESOURCE_EXHAUSTED REQUEST_TOO_LARGE');
    expect(outcome(await call(client, client.GetBalance, big, bearer(undefined)))).toBe('UNAUTHENTICATED AUTH_TOKEN_MISSING');
    // ApplyCheckout may carry a 1 MiB event: 900 KB passes the cap and is judged on its content.
    const large = purchase(email);
    large.event_json = JSON.stringify({ ...JSON.parse(large.event_json!), pad: 'x'.repeat(900 * 1024) });
    expect(outcome(await call(client, client.ApplyCheckout, large, bearer(TOKENS.edgeNew)))).toBe('OK');
  });

  it('when reflection is asked without a token, then UNAUTHENTICATED; with any valid token, then it lists the services', async () => {
    const definition = loadSync(require.resolve('@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto'), { keepCase: true });
    const loaded = grpc.loadPackageDefinition(definition) as unknown as {
      grpc: { reflection: { v1: { ServerReflection: new (address: string, credentials: grpc.ChannelCredentials) => grpc.Client } } };
    };
    const reflection = new loaded.grpc.reflection.v1.ServerReflection(h.address, grpc.credentials.createInsecure()) as grpc.Client & {
      ServerReflectionInfo(metadata: grpc.Metadata): grpc.ClientDuplexStream<object, { list_services_response?: { service: { name: string }[] } }>;
    };
    const list = (metadata: grpc.Metadata) =>
      new Promise<string[] | string>((resolve) => {
        const stream = reflection.ServerReflectionInfo(metadata);
        stream.on('data', (message: { list_services_response?: { service: { name: string }[] } }) => {
          resolve((message.list_services_response?.service ?? []).map((service) => service.name));
          stream.end();
        });
        stream.on('error', (error: grpc.ServiceError) => resolve(`${grpc.status[error.code]} ${error.metadata?.get('credits-error-code')[0] ?? ''}`.trim()));
        stream.write({ list_services: '*' });
      });
    expect(await list(bearer(undefined))).toBe('UNAUTHENTICATED AUTH_TOKEN_MISSING');
    expect(await list(bearer('not-a-token'))).toBe('UNAUTHENTICATED AUTH_TOKEN_INVALID');
    expect(await list(bearer(TOKENS.spender))).toEqual(expect.arrayContaining([CREDITS_SERVICE_NAME, 'grpc.health.v1.Health']));
    reflection.close();
  });

  it('when a load balancer checks health without a token, then it is answered', async () => {
    const health = createHealthClient(h.address);
    const answer = await new Promise((resolve) => health.Check({ service: CREDITS_SERVICE_NAME }, (error, response) => resolve(error ? error.code : response?.status)));
    health.close();
    expect(answer).toBe('SERVING');
  });

  it('when the edge holds a token without stripe:apply, then it answers Stripe 500 (an operator must fix it) and logs SCOPE_MISSING', async () => {
    const edge = await startEdge(h.address, { CREDITS_API_TOKEN: TOKENS.reader });
    audit.watch('edge with the wrong scope', edge.logs.text);
    try {
      const event = stripeEvent('checkout.session.completed', checkoutSession({ email, metadata: { credits: '5' } }));
      const answer = await deliver(edge.url, event);
      expect(answer.status).toBe(500);
      expect(edge.logs.text()).toContain('SCOPE_MISSING');
    } finally {
      await edge.close();
    }
  });
});

describe('tokens from the environment', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'credits-tokens-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A server whose tokens come from loadConfig(env), as main.ts builds it. */
  async function serverFrom(env: Record<string, string>) {
    const config = loadConfig({ NODE_ENV: 'test', ...env });
    return startCreditsHarness({ tokens: [...config.grpc.tokens] });
  }

  it('when CREDITS_API_TOKENS_FILE names a mounted JSON file, then its tokens are accepted with their scopes', async () => {
    const file = path.join(dir, 'tokens.json');
    writeFileSync(file, JSON.stringify([{ name: 'billing-ui', token: TOKENS.reader, scopes: ['credits:read'] }]), { mode: 0o600 });
    const h = await serverFrom({ CREDITS_API_TOKENS_FILE: file });
    audit.watch('tokens-file server', h.logs.text);
    try {
      expect(outcome(await call(h.client, h.client.GetBalance, { identifier: 'nobody@example.com' }, bearer(TOKENS.reader)))).toBe('NOT_FOUND USER_NOT_FOUND');
      expect(outcome(await call(h.client, h.client.ApplyCheckout, purchase('nobody@example.com'), bearer(TOKENS.reader)))).toBe('PERMISSION_DENIED SCOPE_MISSING');
      expect(h.logs.text()).toContain('"name":"billing-ui"'); // the start-up line names tokens and scopes, not values
    } finally {
      await h.close();
    }
  });

  it('when only CREDITS_API_TOKEN is set, then it still means every scope (name default)', async () => {
    const h = await serverFrom({ CREDITS_API_TOKEN: TOKENS.edgeOld });
    try {
      const email = `default-${stripeId('u')}@example.com`;
      audit.rememberEmail(email);
      const applied = await call(h.client, h.client.ApplyCheckout, purchase(email), bearer(TOKENS.edgeOld));
      expect(applied.ok && (applied.response as { outcome: string }).outcome).toBe('APPLY_CHECKOUT_OUTCOME_APPLIED');
      expect(outcome(await call(h.client, h.client.GetBalance, { identifier: email }, bearer(TOKENS.edgeOld)))).toBe('OK');
      expect(h.logs.text()).toContain('"caller":"default"');
    } finally {
      await h.close();
    }
  });

  it('when no token is configured (development), then every call passes as anonymous, with a warning', async () => {
    const h = await startCreditsHarness({ tokens: [] });
    try {
      expect(outcome(await call(h.client, h.client.GetBalance, { identifier: 'nobody@example.com' }, bearer(undefined)))).toBe('NOT_FOUND USER_NOT_FOUND');
      expect(h.logs.text()).toContain('"caller":"anonymous"');
      expect(h.logs.text()).toContain('gRPC calls are not authenticated (development only)');
    } finally {
      await h.close();
    }
  });

  const configError = (env: Record<string, string>): string => {
    try {
      loadConfig(env);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error('loadConfig accepted it');
  };
  const json = (value: unknown) => JSON.stringify(value);

  it('when the tokens are misconfigured, then start-up stops naming the variable and the token, never its value', () => {
    const file = path.join(dir, 'both.json');
    writeFileSync(file, json([{ name: 'a', token: TOKENS.reader, scopes: ['credits:read'] }]));
    const cases: [Record<string, string>, RegExp][] = [
      [{ CREDITS_API_TOKENS: json(SCOPED), CREDITS_API_TOKENS_FILE: file }, /CREDITS_API_TOKENS and CREDITS_API_TOKENS_FILE/],
      [{ CREDITS_API_TOKENS: json([{ name: 'shop', token: TOKENS.spender, scopes: ['credits:write'] }]) }, /token "shop" has unknown scope "credits:write"/],
      [{ CREDITS_API_TOKENS: json([{ name: 'shop', token: TOKENS.spender, scopes: [] }]) }, /token "shop" needs "scopes"/],
      [{ CREDITS_API_TOKENS: `[{"name": "shop", "token": "${TOKENS.spender}", scopes: ["credits:read"]}]` }, /CREDITS_API_TOKENS: must be a JSON array/],
      [{ CREDITS_API_TOKENS: json([{ name: 'a', token: TOKENS.reader, scopes: ['credits:read'] }, { name: 'b', token: TOKENS.reader, scopes: ['stripe:apply'] }]) }, /tokens "a" and "b" have the same value/],
      [{ CREDITS_API_TOKENS_FILE: path.join(dir, 'missing.json') }, /CREDITS_API_TOKENS_FILE: cannot read .*missing\.json \(ENOENT\)/],
      [{ NODE_ENV: 'production', CREDITS_API_TOKENS: json([{ name: 'shop', token: 'short-but-secret-value', scopes: ['credits:spend'] }]) }, /CREDITS_API_TOKENS: token "shop" is shorter than 32 characters/],
      [{ NODE_ENV: 'production', CREDITS_API_TOKEN: 'short-but-secret-value' }, /CREDITS_API_TOKEN: token "default" is shorter than 32/],
      [{ GRPC_TLS_CERT_FILE: '/certs/server.crt' }, /GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE: set both/],
      [{ GRPC_TLS_CLIENT_CA_FILE: '/certs/ca.crt' }, /GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE: set both/],
      [{ CREDITS_GRPC_CA_FILE: '/certs/ca.crt', CREDITS_GRPC_CERT_FILE: '/certs/client.crt' }, /CREDITS_GRPC_CERT_FILE and CREDITS_GRPC_KEY_FILE/],
      [{ CREDITS_GRPC_TLS_SERVER_NAME: 'credits' }, /CREDITS_GRPC_TLS_SERVER_NAME: only with TLS/],
    ];
    for (const [env, expected] of cases) {
      const message = configError(env);
      expect(message).toMatch(expected);
      for (const secret of [...Object.values(TOKENS), 'short-but-secret-value']) expect(message).not.toContain(secret);
    }
  });

  it('when the edge has CREDITS_GRPC_TOKEN, then it sends that one; otherwise CREDITS_API_TOKEN', () => {
    expect(loadConfig({ CREDITS_API_TOKEN: TOKENS.edgeOld, CREDITS_GRPC_TOKEN: TOKENS.edgeNew }).grpc.client.token).toBe(TOKENS.edgeNew);
    expect(loadConfig({ CREDITS_API_TOKEN: TOKENS.edgeOld }).grpc.client.token).toBe(TOKENS.edgeOld);
    // An edge process holding only its own token is a valid production configuration.
    expect(loadConfig({ NODE_ENV: 'production', STRIPE_LIVEMODE: 'false', CREDITS_GRPC_TOKEN: TOKENS.edgeNew }).grpc.tokens).toEqual([]);
  });

  it('when CreditsService starts in production without a token of its own, then it refuses; plaintext on a non-loopback address is said loudly', () => {
    const logs = captureLogs();
    const callerOnly = loadConfig({ NODE_ENV: 'production', STRIPE_LIVEMODE: 'false', CREDITS_GRPC_TOKEN: TOKENS.edgeNew });
    expect(() => creditsServerSecurity(callerOnly, logs.logger)).toThrow(/CreditsService needs at least one token/);
    const open = loadConfig({ NODE_ENV: 'production', STRIPE_LIVEMODE: 'false', CREDITS_API_TOKENS: json(SCOPED), GRPC_HOST: '0.0.0.0' });
    expect(creditsServerSecurity(open, logs.logger).tokens).toHaveLength(4);
    expect(logs.text()).toContain('PLAINTEXT gRPC on a non-loopback address in production');
    const loopback = captureLogs();
    creditsServerSecurity(loadConfig({ NODE_ENV: 'production', STRIPE_LIVEMODE: 'false', CREDITS_API_TOKENS: json(SCOPED) }), loopback.logger);
    expect(loopback.text()).not.toContain('PLAINTEXT');
  });
});

describe('the scope table', () => {
  it('gives every CreditsService method a scope, and refuses to start a service with an unlisted method', () => {
    expect(() => assertEveryMethodHasScope(protos.credits.v1.CreditsService.service)).not.toThrow();
    expect(() => assertEveryMethodHasScope({ Refund: { path: '/credits.v1.CreditsService/Refund' } })).toThrow(/no scope for \/credits\.v1\.CreditsService\/Refund/);
    expect(Object.entries(METHOD_SCOPES).filter(([, scope]) => scope === 'stripe:apply').map(([method]) => method)).toEqual([
      '/credits.v1.CreditsService/ApplyCheckout',
      '/credits.v1.CreditsService/ApplyStripeEvent',
    ]);
  });
});

describe('logs', () => {
  it('hold no token of this file', () => {
    expect(audit.counts.sources).toBeGreaterThanOrEqual(3);
    expect(audit.findLeaks()).toEqual([]);
  });
});
