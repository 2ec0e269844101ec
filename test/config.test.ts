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
    expect(Object.isFrozen(config.credits.priceCredits)).toBe(true);
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
    [{ NODE_ENV: 'production', CREDITS_API_TOKEN: 'production-token-0123456789abcdef0123' }, 'STRIPE_LIVEMODE'],
    [{ STRIPE_LIVEMODE: 'maybe' }, 'STRIPE_LIVEMODE'],
    [{ MAX_CREDITS_BALANCE: '0' }, 'MAX_CREDITS_BALANCE'],
    [{ MAX_CREDITS_BALANCE: '9007199254740992' }, 'MAX_CREDITS_BALANCE'],
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

describe('loadConfig: the Stripe API and reconciliation', () => {
  it.each(['sk_test_abc123', 'sk_live_abc123', 'rk_test_abc123', 'rk_live_abc123'])('when STRIPE_SECRET_KEY is %s, then it is kept', (key) => {
    expect(loadConfig({ STRIPE_SECRET_KEY: key }).stripe.secretKey).toBe(key);
  });

  it.each(['pk_live_publishable123', 'whsec_abc123', 'sk_abc123', 'sk_test_ with_space', 'live_key_123'])(
    'when STRIPE_SECRET_KEY is %s, then start-up stops naming the variable and the accepted prefixes, without quoting the value',
    (key) => {
      const message = fails({ STRIPE_SECRET_KEY: key });
      expect(message).toContain('STRIPE_SECRET_KEY');
      expect(message).toContain('sk_test_, sk_live_, rk_test_ or rk_live_');
      expect(message).not.toContain(key);
    },
  );

  it('when STRIPE_SECRET_KEY is a bare prefix, then start-up stops naming it', () => {
    expect(fails({ STRIPE_SECRET_KEY: 'sk_live_' })).toContain('STRIPE_SECRET_KEY');
  });

  it('when STRIPE_API_BASE is scheme, host and port, then it is kept (a trailing slash dropped); unset means Stripe', () => {
    expect(loadConfig({ STRIPE_API_BASE: 'http://127.0.0.1:12111' }).stripe.apiBase).toBe('http://127.0.0.1:12111');
    expect(loadConfig({ STRIPE_API_BASE: 'https://stripe-proxy.internal/' }).stripe.apiBase).toBe('https://stripe-proxy.internal');
    expect(loadConfig({}).stripe.apiBase).toBeUndefined();
  });

  it.each([
    ['ftp://127.0.0.1:12111', 'http:// or https://'],
    ['127.0.0.1:12111', 'http'],
    ['not a url', 'http(s) URL'],
    ['http://127.0.0.1:12111/v1', 'no path, query or credentials'],
    ['http://127.0.0.1:12111?x=1', 'no path, query or credentials'],
    ['https://user:pass@stripe-proxy.internal', 'no path, query or credentials'],
  ])('when STRIPE_API_BASE is %s, then start-up stops naming it (%s)', (base, why) => {
    const message = fails({ STRIPE_API_BASE: base });
    expect(message).toContain('STRIPE_API_BASE');
    expect(message).toContain(why);
  });

  it('when RECONCILE_INTERVAL_S is unset or empty, then reconciliation is off', () => {
    expect(loadConfig({}).reconcile.intervalSeconds).toBeUndefined();
    expect(loadConfig({ RECONCILE_INTERVAL_S: ' ' }).reconcile.intervalSeconds).toBeUndefined();
  });

  it('when RECONCILE_INTERVAL_S is 60 to 86400 with a secret key, then it is the interval in seconds', () => {
    expect(loadConfig({ RECONCILE_INTERVAL_S: '60', STRIPE_SECRET_KEY: 'rk_live_abc' }).reconcile.intervalSeconds).toBe(60);
    expect(loadConfig({ RECONCILE_INTERVAL_S: '86400', STRIPE_SECRET_KEY: 'sk_test_abc' }).reconcile.intervalSeconds).toBe(86_400);
  });

  it.each(['59', '86401', '300.5', 'hourly', '-300'])('when RECONCILE_INTERVAL_S is %s, then start-up stops naming it', (interval) => {
    const message = fails({ RECONCILE_INTERVAL_S: interval, STRIPE_SECRET_KEY: 'sk_test_abc' });
    expect(message).toContain('RECONCILE_INTERVAL_S');
    expect(message).toContain('60 to 86400');
  });

  it('when RECONCILE_INTERVAL_S is set without STRIPE_SECRET_KEY, then start-up stops naming both', () => {
    const message = fails({ RECONCILE_INTERVAL_S: '300' });
    expect(message).toContain('RECONCILE_INTERVAL_S');
    expect(message).toContain('STRIPE_SECRET_KEY');
  });

  it('when RECONCILE_INTERVAL_S is set with DB_POOL_MAX=1, then start-up stops: the lock needs a connection of its own', () => {
    const message = fails({ RECONCILE_INTERVAL_S: '300', STRIPE_SECRET_KEY: 'sk_test_abc', DB_POOL_MAX: '1' });
    expect(message).toContain('RECONCILE_INTERVAL_S');
    expect(message).toContain('DB_POOL_MAX');
    expect(loadConfig({ RECONCILE_INTERVAL_S: '300', STRIPE_SECRET_KEY: 'sk_test_abc', DB_POOL_MAX: '2' }).database.poolMax).toBe(2);
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
