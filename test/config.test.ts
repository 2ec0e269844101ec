import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config';

const fails = (env: NodeJS.ProcessEnv) => {
  try {
    loadConfig(env);
    return 'loaded';
  } catch (error) {
    return error instanceof ConfigError ? error.message : 'other';
  }
};

describe('loadConfig', () => {
  it('when nothing is set, then the documented defaults apply and the result is frozen', () => {
    const config = loadConfig({});
    expect(config.database.url).toBeUndefined();
    expect(config.http.port).toBe(3000);
    expect(config.grpc.port).toBe(50051);
    expect(config.grpc.url).toBe('127.0.0.1:50051');
    expect(config.stripe.toleranceSeconds).toBe(300);
    expect(config.credits.maxPerPurchase).toBe(1_000_000);
    expect(config.e2eTestMode).toBe(false);
    expect(Object.isFrozen(config.stripe.priceCredits)).toBe(true);
  });

  it('when the database URL comes from a Python service, then it is normalised', () => {
    expect(loadConfig({ ASYNC_DATABASE_URL: 'postgresql+asyncpg://u:p@db:5432/credits' }).database.url).toBe('postgresql://u:p@db:5432/credits');
    expect(loadConfig({ SYNC_DATABASE_URL: 'postgresql+psycopg://u@db/credits' }).database.url).toBe('postgresql://u@db/credits');
    expect(loadConfig({ DATABASE_URL: 'postgres://a@b/c', SYNC_DATABASE_URL: 'postgres://x@y/z' }).database.url).toBe('postgres://a@b/c');
  });

  it('when booleans are spelled "false", then they are false', () => {
    expect(loadConfig({ E2E_TEST_MODE: 'false', DB_ECHO: 'false' })).toMatchObject({ e2eTestMode: false, database: { echo: false } });
    expect(loadConfig({ E2E_TEST_MODE: 'true' }).e2eTestMode).toBe(true);
  });

  it('when secrets are comma-separated, then each is kept for rotation', () => {
    expect(loadConfig({ STRIPE_WEBHOOK_SECRET: 'whsec_a, whsec_b' }).stripe.webhookSecrets).toEqual(['whsec_a', 'whsec_b']);
  });

  it.each([
    [{ HTTP_PORT: 'eighty' }, 'HTTP_PORT'],
    [{ GRPC_PORT: '70000' }, 'GRPC_PORT'],
    [{ STRIPE_PRICE_CREDITS: '{"price_1": -5}' }, 'STRIPE_PRICE_CREDITS'],
    [{ STRIPE_PRICE_CREDITS: 'not json' }, 'STRIPE_PRICE_CREDITS'],
    [{ STRIPE_WEBHOOK_SECRET: 'sk_live_oops' }, 'STRIPE_WEBHOOK_SECRET'],
    [{ E2E_TEST_MODE: 'maybe' }, 'E2E_TEST_MODE'],
    [{ DATABASE_URL: 'mysql://x@y/z' }, 'DATABASE_URL'],
    [{ MAX_CREDITS_PER_PURCHASE: '0' }, 'MAX_CREDITS_PER_PURCHASE'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ NODE_ENV: 'production', E2E_TEST_MODE: 'true', CREDITS_API_TOKEN: 't' }, 'E2E_TEST_MODE'],
    [{ NODE_ENV: 'production' }, 'CREDITS_API_TOKEN'],
    [{ HTTP_HEADERS_TIMEOUT_MS: 'ten' }, 'HTTP_HEADERS_TIMEOUT_MS'],
    [{ HTTP_REQUEST_TIMEOUT_MS: '99' }, 'HTTP_REQUEST_TIMEOUT_MS'],
    [{ HTTP_KEEP_ALIVE_TIMEOUT_MS: '0' }, 'HTTP_KEEP_ALIVE_TIMEOUT_MS'],
    [{ HTTP_IDLE_TIMEOUT_MS: '1500.5' }, 'HTTP_IDLE_TIMEOUT_MS'],
    [{ HTTP_IDLE_TIMEOUT_MS: '3600001' }, 'HTTP_IDLE_TIMEOUT_MS'],
    [{ HTTP_OPS_PORT: 'metrics' }, 'HTTP_OPS_PORT'],
    [{ HTTP_OPS_PORT: '65536' }, 'HTTP_OPS_PORT'],
  ])('when %j, then start-up stops naming %s', (env, variable) => {
    expect(fails(env)).toContain(variable);
  });
});

describe('loadConfig: the edge HTTP server', () => {
  it('when nothing is set, then the documented timeouts apply, every interface is used and there is no ops listener', () => {
    expect(loadConfig({}).http).toEqual({
      port: 3000,
      host: undefined,
      timeouts: { headersMs: 10_000, requestMs: 30_000, keepAliveMs: 5_000, idleMs: 60_000 },
      ops: undefined,
    });
  });

  it('when the variables are set, then they are used', () => {
    const env = {
      HTTP_HOST: '10.0.0.5',
      HTTP_HEADERS_TIMEOUT_MS: '2000',
      HTTP_REQUEST_TIMEOUT_MS: '2000',
      HTTP_KEEP_ALIVE_TIMEOUT_MS: '65000',
      HTTP_IDLE_TIMEOUT_MS: '120000',
      HTTP_OPS_PORT: '9465',
      HTTP_OPS_HOST: '0.0.0.0',
    };
    expect(loadConfig(env).http).toEqual({
      port: 3000,
      host: '10.0.0.5',
      timeouts: { headersMs: 2_000, requestMs: 2_000, keepAliveMs: 65_000, idleMs: 120_000 },
      ops: { port: 9465, host: '0.0.0.0' },
    });
  });

  it('when only HTTP_OPS_PORT is set, then the ops listener is on loopback; an empty HTTP_OPS_PORT means none', () => {
    expect(loadConfig({ HTTP_OPS_PORT: '9465' }).http.ops).toEqual({ port: 9465, host: '127.0.0.1' });
    expect(loadConfig({ HTTP_OPS_PORT: '0' }).http.ops).toEqual({ port: 0, host: '127.0.0.1' });
    expect(loadConfig({ HTTP_OPS_PORT: '' }).http.ops).toBeUndefined();
  });

  it('when the headers timeout exceeds the request timeout, then start-up stops and says why', () => {
    expect(fails({ HTTP_HEADERS_TIMEOUT_MS: '40000' })).toBe(
      'HTTP_HEADERS_TIMEOUT_MS (40000) must not exceed HTTP_REQUEST_TIMEOUT_MS (30000): the request timeout covers the headers too',
    );
  });

  it('when a timeout is too small or not whole milliseconds, then the message says so', () => {
    expect(fails({ HTTP_REQUEST_TIMEOUT_MS: '50' })).toContain('HTTP_REQUEST_TIMEOUT_MS: must be at least 100 (milliseconds)');
    expect(fails({ HTTP_KEEP_ALIVE_TIMEOUT_MS: '1.5' })).toContain('HTTP_KEEP_ALIVE_TIMEOUT_MS: must be a whole number of milliseconds');
  });

  it('when HTTP_OPS_HOST is set without HTTP_OPS_PORT, then start-up stops', () => {
    expect(fails({ HTTP_OPS_HOST: '0.0.0.0' })).toContain('HTTP_OPS_HOST: set HTTP_OPS_PORT too');
  });

  it.each([
    [{ HTTP_OPS_PORT: '3000' }],
    [{ HTTP_PORT: '8080', HTTP_OPS_PORT: '8080', HTTP_OPS_HOST: '127.0.0.1' }],
    [{ HTTP_PORT: '8080', HTTP_OPS_PORT: '8080', HTTP_HOST: '10.0.0.5', HTTP_OPS_HOST: '10.0.0.5' }],
    [{ HTTP_PORT: '8080', HTTP_OPS_PORT: '8080', HTTP_HOST: '::', HTTP_OPS_HOST: '10.0.0.5' }],
  ])('when the ops listener would take the webhook address (%j), then start-up stops', (env) => {
    expect(fails(env)).toContain('HTTP_OPS_PORT (');
  });

  it('when the ops listener has the same port on another specific address, or both ports are 0, then it is accepted', () => {
    expect(loadConfig({ HTTP_PORT: '8080', HTTP_OPS_PORT: '8080', HTTP_HOST: '10.0.0.5', HTTP_OPS_HOST: '127.0.0.1' }).http.ops).toEqual({ port: 8080, host: '127.0.0.1' });
    expect(loadConfig({ HTTP_PORT: '0', HTTP_OPS_PORT: '0' }).http.ops).toEqual({ port: 0, host: '127.0.0.1' });
  });
});
