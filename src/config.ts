import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { API_SCOPES, isApiScope, type ApiScope } from './contract/scopes.js';

/** Stops the process at start with a message naming the variable at fault. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const DRIVER_SUFFIXES = /^postgresql\+(asyncpg|psycopg2?|pg8000):\/\//;

/** Accepts the URL spellings other services of the company use for the same database. */
export function normaliseDatabaseUrl(url: string): string {
  const normalised = url.trim().replace(DRIVER_SUFFIXES, 'postgresql://');
  if (!/^postgres(ql)?:\/\//.test(normalised)) {
    throw new ConfigError('DATABASE_URL must start with postgres:// or postgresql://');
  }
  return normalised;
}

const port = z.coerce.number().int().min(0).max(65535);
const flag = z.stringbool();
const optionalText = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

/** A duration in milliseconds for the edge's HTTP server: at least 100 ms, at most an hour. */
const httpTimeoutMs = (fallback: number) =>
  z.coerce
    .number()
    .int('must be a whole number of milliseconds')
    .min(100, 'must be at least 100 (milliseconds)')
    .max(3_600_000, 'must be at most 3600000 (one hour, in milliseconds)')
    .default(fallback);

/** What the edge's HTTP server uses when nothing is configured (README, configuration). */
export const HTTP_TIMEOUT_DEFAULTS = {
  /** From the first byte of a request (or the connection) until its headers are complete. */
  headersMs: 10_000,
  /** From the first byte of a request until its body is complete. */
  requestMs: 30_000,
  /** How long a keep-alive connection may wait for its next request. */
  keepAliveMs: 5_000,
  /** How long a socket may go without a byte in either direction (e.g. a client that stops reading the answer). */
  idleMs: 60_000,
} as const;

const priceCredits = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be JSON, e.g. {"price_123": 100}' });
      return z.NEVER;
    }
  })
  .pipe(z.record(z.string().min(1), z.number().int().positive()));

const webhookSecrets = z
  .string()
  .transform((text) => text.split(',').map((secret) => secret.trim()).filter(Boolean))
  .pipe(z.array(z.string().startsWith('whsec_', 'each secret must start with whsec_')));

// Secret or restricted keys only: a publishable key (pk_) cannot read the API, a webhook secret (whsec_) is another thing.
const stripeSecretKey = z
  .string()
  .regex(/^(sk|rk)_(test|live)_\S+$/, 'must start with sk_test_, sk_live_, rk_test_ or rk_live_ (a secret or restricted key)');

// The Stripe client takes scheme, host and port; Stripe's own paths (/v1/...) are added to them.
const stripeApiBase = z.string().transform((text, ctx) => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be an http(s) URL, e.g. http://127.0.0.1:12111' });
    return z.NEVER;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    ctx.addIssue({ code: 'custom', message: 'must start with http:// or https://' });
    return z.NEVER;
  }
  if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) {
    ctx.addIssue({ code: 'custom', message: 'must be scheme, host and port only (no path, query or credentials), e.g. http://127.0.0.1:12111' });
    return z.NEVER;
  }
  return url.origin;
});

const RECONCILE_INTERVAL = 'must be whole seconds from 60 to 86400 (unset: no reconciliation)';
const reconcileInterval = z.coerce.number<string>(RECONCILE_INTERVAL).int(RECONCILE_INTERVAL).min(60, RECONCILE_INTERVAL).max(86_400, RECONCILE_INTERVAL);

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  DATABASE_URL: optionalText,
  ASYNC_DATABASE_URL: optionalText,
  SYNC_DATABASE_URL: optionalText,
  DB_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  DB_ECHO: flag.default(false),
  DATA_DIR: z.string().min(1).default('.data'),
  EMBEDDED_PG_PORT: port.default(54329),
  STRIPE_WEBHOOK_SECRET: optionalText.pipe(webhookSecrets.optional()),
  STRIPE_WEBHOOK_TOLERANCE_S: z.coerce.number().int().min(1).max(86_400).default(300),
  STRIPE_SECRET_KEY: optionalText.pipe(stripeSecretKey.optional()),
  STRIPE_API_BASE: optionalText.pipe(stripeApiBase.optional()),
  STRIPE_API_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(3_000),
  STRIPE_API_MAX_RETRIES: z.coerce.number().int().min(0).max(5).default(1),
  STRIPE_PRICE_CREDITS: priceCredits.default({}),
  RECONCILE_INTERVAL_S: optionalText.pipe(reconcileInterval.optional()),
  MAX_CREDITS_PER_PURCHASE: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).default(1_000_000),
  // 2^53 - 1 at most: every balance stays exact as a JavaScript number and in JSON.
  MAX_CREDITS_BALANCE: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).default(Number.MAX_SAFE_INTEGER),
  STRIPE_LIVEMODE: optionalText.pipe(flag.optional()),
  E2E_TEST_MODE: flag.default(false),
  HTTP_PORT: port.default(3000),
  HTTP_HOST: optionalText,
  HTTP_OPS_PORT: z.preprocess((value) => (typeof value === 'string' && value.trim() === '' ? undefined : value), port.optional()),
  HTTP_OPS_HOST: optionalText,
  HTTP_HEADERS_TIMEOUT_MS: httpTimeoutMs(HTTP_TIMEOUT_DEFAULTS.headersMs),
  HTTP_REQUEST_TIMEOUT_MS: httpTimeoutMs(HTTP_TIMEOUT_DEFAULTS.requestMs),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: httpTimeoutMs(HTTP_TIMEOUT_DEFAULTS.keepAliveMs),
  HTTP_IDLE_TIMEOUT_MS: httpTimeoutMs(HTTP_TIMEOUT_DEFAULTS.idleMs),
  GRPC_PORT: port.default(50051),
  GRPC_HOST: z.string().min(1).default('127.0.0.1'),
  METRICS_PORT: port.default(9464),
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  CREDITS_GRPC_URL: z.string().min(1).default('127.0.0.1:50051'),
  CREDITS_GRPC_DEADLINE_MS: z.coerce.number().int().min(50).max(120_000).default(5_000),
  CREDITS_API_TOKEN: optionalText,
  CREDITS_API_TOKENS: optionalText,
  CREDITS_API_TOKENS_FILE: optionalText,
  CREDITS_GRPC_TOKEN: optionalText,
  GRPC_MAX_CONCURRENT_STREAMS: z.coerce.number().int().min(1).max(10_000).default(100),
  GRPC_TLS_CERT_FILE: optionalText,
  GRPC_TLS_KEY_FILE: optionalText,
  GRPC_TLS_CLIENT_CA_FILE: optionalText,
  GRPC_TLS_RELOAD_INTERVAL_S: z.coerce.number().int().min(0).max(86_400).default(300),
  CREDITS_GRPC_CA_FILE: optionalText,
  CREDITS_GRPC_CERT_FILE: optionalText,
  CREDITS_GRPC_KEY_FILE: optionalText,
  CREDITS_GRPC_TLS_SERVER_NAME: optionalText,
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(120_000).default(10_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

type Env = z.infer<typeof EnvSchema>;

/** One token CreditsService accepts: its name (logged, stored with what it did), its value, what it may do. */
export interface ApiTokenConfig {
  name: string;
  token: string;
  scopes: readonly ApiScope[];
  /** The variable it came from, for messages. */
  source: 'CREDITS_API_TOKEN' | 'CREDITS_API_TOKENS' | 'CREDITS_API_TOKENS_FILE';
}

/** In production every accepted token is at least this long (`openssl rand -hex 32` makes 64). */
export const MIN_PRODUCTION_TOKEN_LENGTH = 32;
const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}$/;
// What an `authorization: Bearer <token>` header can carry: printable ASCII, no spaces.
const TOKEN_VALUE = /^[\x21-\x7e]+$/;
const TOKENS_FORMAT = 'a JSON array of {"name": "...", "token": "...", "scopes": ["credits:read" | "credits:spend" | "stripe:apply", ...]}';

/**
 * Reads CREDITS_API_TOKENS (or the file CREDITS_API_TOKENS_FILE names) and CREDITS_API_TOKEN (name
 * `default`, every scope). Messages name the variable and the token's name, never a token's value:
 * not even JSON.parse's message, which quotes the text it failed on.
 */
function resolveApiTokens(env: Env): ApiTokenConfig[] {
  if (env.CREDITS_API_TOKENS !== undefined && env.CREDITS_API_TOKENS_FILE !== undefined) {
    throw new ConfigError('CREDITS_API_TOKENS and CREDITS_API_TOKENS_FILE: set one, not both');
  }
  const tokens: ApiTokenConfig[] = [];
  let source: ApiTokenConfig['source'] = 'CREDITS_API_TOKENS';
  let text = env.CREDITS_API_TOKENS;
  if (env.CREDITS_API_TOKENS_FILE !== undefined) {
    source = 'CREDITS_API_TOKENS_FILE';
    try {
      text = readFileSync(env.CREDITS_API_TOKENS_FILE, 'utf8');
    } catch (error) {
      throw new ConfigError(`CREDITS_API_TOKENS_FILE: cannot read ${env.CREDITS_API_TOKENS_FILE} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  if (text !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ConfigError(`${source}: must be ${TOKENS_FORMAT}`);
    }
    if (!Array.isArray(parsed) || parsed.length === 0) throw new ConfigError(`${source}: must be ${TOKENS_FORMAT}, not empty`);
    for (const [index, entry] of parsed.entries()) {
      const { name, token, scopes } = (entry ?? {}) as Record<string, unknown>;
      if (typeof name !== 'string' || !TOKEN_NAME.test(name)) {
        throw new ConfigError(`${source}: entry ${index + 1} needs a "name" of letters, digits and . _ : @ - (at most 64)`);
      }
      if (typeof token !== 'string' || !TOKEN_VALUE.test(token)) {
        throw new ConfigError(`${source}: token "${name}" needs a "token" of printable ASCII without spaces`);
      }
      if (!Array.isArray(scopes) || scopes.length === 0 || !scopes.every((scope) => typeof scope === 'string')) {
        throw new ConfigError(`${source}: token "${name}" needs "scopes", a non-empty array of ${API_SCOPES.join(', ')}`);
      }
      const unknown = scopes.filter((scope) => !isApiScope(scope));
      if (unknown.length > 0) {
        throw new ConfigError(`${source}: token "${name}" has unknown scope ${unknown.map((scope) => JSON.stringify(scope)).join(', ')} (known: ${API_SCOPES.join(', ')})`);
      }
      tokens.push({ name, token, scopes: [...new Set(scopes as ApiScope[])], source });
    }
  }
  if (env.CREDITS_API_TOKEN !== undefined) {
    tokens.push({ name: 'default', token: env.CREDITS_API_TOKEN, scopes: [...API_SCOPES], source: 'CREDITS_API_TOKEN' });
  }
  // One value under two entries would make "which caller was it" ambiguous.
  for (const [index, entry] of tokens.entries()) {
    const twin = tokens.slice(0, index).find((other) => other.token === entry.token);
    if (twin) throw new ConfigError(`${entry.source}: tokens "${twin.name}" and "${entry.name}" have the same value; give each caller its own`);
  }
  return tokens;
}

function toConfig(env: Env) {
  const databaseUrl = env.DATABASE_URL ?? env.ASYNC_DATABASE_URL ?? env.SYNC_DATABASE_URL;
  return {
    nodeEnv: env.NODE_ENV,
    database: {
      /** Undefined means: run the embedded PostgreSQL under `dataDir`. */
      url: databaseUrl === undefined ? undefined : normaliseDatabaseUrl(databaseUrl),
      poolMax: env.DB_POOL_MAX,
      echo: env.DB_ECHO,
      dataDir: env.DATA_DIR,
      embeddedPort: env.EMBEDDED_PG_PORT,
    },
    stripe: {
      webhookSecrets: env.STRIPE_WEBHOOK_SECRET ?? [],
      toleranceSeconds: env.STRIPE_WEBHOOK_TOLERANCE_S,
      secretKey: env.STRIPE_SECRET_KEY,
      apiBase: env.STRIPE_API_BASE,
      apiTimeoutMs: env.STRIPE_API_TIMEOUT_MS,
      apiMaxRetries: env.STRIPE_API_MAX_RETRIES,
    },
    /** The domain's CreditRules, as they are passed to it. */
    credits: {
      priceCredits: env.STRIPE_PRICE_CREDITS,
      maxPerPurchase: env.MAX_CREDITS_PER_PURCHASE,
      maxBalance: env.MAX_CREDITS_BALANCE,
      livemode: env.STRIPE_LIVEMODE ?? false,
    },
    reconcile: {
      /** Seconds between reconciliations against Stripe's Events API; undefined means off. */
      intervalSeconds: env.RECONCILE_INTERVAL_S,
    },
    e2eTestMode: env.E2E_TEST_MODE,
    http: {
      port: env.HTTP_PORT,
      /** Undefined: every interface, as Node's listen() does without a host. */
      host: env.HTTP_HOST,
      timeouts: {
        headersMs: env.HTTP_HEADERS_TIMEOUT_MS,
        requestMs: env.HTTP_REQUEST_TIMEOUT_MS,
        keepAliveMs: env.HTTP_KEEP_ALIVE_TIMEOUT_MS,
        idleMs: env.HTTP_IDLE_TIMEOUT_MS,
      },
      /** Undefined: /metrics, /docs and /openapi.json are served on the webhook port. */
      ops: env.HTTP_OPS_PORT === undefined ? undefined : { port: env.HTTP_OPS_PORT, host: env.HTTP_OPS_HOST ?? '127.0.0.1' },
    },
    grpc: {
      host: env.GRPC_HOST,
      port: env.GRPC_PORT,
      url: env.CREDITS_GRPC_URL,
      deadlineMs: env.CREDITS_GRPC_DEADLINE_MS,
      apiToken: env.CREDITS_API_TOKEN,
      /** Every token CreditsService accepts; none (development only) lets every call through. */
      tokens: resolveApiTokens(env),
      maxConcurrentStreams: env.GRPC_MAX_CONCURRENT_STREAMS,
      /** CreditsService serves TLS only when set; with clientCaFile it requires client certificates (mutual TLS). */
      tls:
        env.GRPC_TLS_CERT_FILE === undefined && env.GRPC_TLS_KEY_FILE === undefined && env.GRPC_TLS_CLIENT_CA_FILE === undefined
          ? undefined
          : {
              certFile: env.GRPC_TLS_CERT_FILE ?? '',
              keyFile: env.GRPC_TLS_KEY_FILE ?? '',
              clientCaFile: env.GRPC_TLS_CLIENT_CA_FILE,
              reloadIntervalMs: env.GRPC_TLS_RELOAD_INTERVAL_S * 1000,
            },
      /** How this process calls CreditsService (the edge, scripts). */
      client: {
        token: env.CREDITS_GRPC_TOKEN ?? env.CREDITS_API_TOKEN,
        tls:
          env.CREDITS_GRPC_CA_FILE === undefined && env.CREDITS_GRPC_CERT_FILE === undefined && env.CREDITS_GRPC_KEY_FILE === undefined
            ? undefined
            : {
                caFile: env.CREDITS_GRPC_CA_FILE,
                certFile: env.CREDITS_GRPC_CERT_FILE,
                keyFile: env.CREDITS_GRPC_KEY_FILE,
                serverName: env.CREDITS_GRPC_TLS_SERVER_NAME,
                reloadIntervalMs: env.GRPC_TLS_RELOAD_INTERVAL_S * 1000,
              },
      },
    },
    metrics: { host: env.METRICS_HOST, port: env.METRICS_PORT },
    shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
    logLevel: env.LOG_LEVEL,
  };
}

export type Config = Readonly<ReturnType<typeof toConfig>>;

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

const isWildcardHost = (host: string | undefined): boolean => host === undefined || host === '0.0.0.0' || host === '::';

/** What the schema cannot see one variable at a time; Node would otherwise fail later, or quietly differently. */
function checkHttpListeners(env: Env, config: Config): void {
  const { http } = config;
  if (http.timeouts.headersMs > http.timeouts.requestMs) {
    throw new ConfigError(
      `HTTP_HEADERS_TIMEOUT_MS (${http.timeouts.headersMs}) must not exceed HTTP_REQUEST_TIMEOUT_MS (${http.timeouts.requestMs}): the request timeout covers the headers too`,
    );
  }
  if (http.ops === undefined && env.HTTP_OPS_HOST !== undefined) {
    throw new ConfigError('HTTP_OPS_HOST: set HTTP_OPS_PORT too; without it /metrics and /docs stay on the webhook port');
  }
  if (http.ops && http.ops.port !== 0 && http.ops.port === http.port) {
    const sameAddress = isWildcardHost(http.host) || isWildcardHost(http.ops.host) || http.host === http.ops.host;
    if (sameAddress) {
      throw new ConfigError(
        `HTTP_OPS_PORT (${http.ops.port}) must differ from HTTP_PORT, unless HTTP_HOST and HTTP_OPS_HOST are two different specific addresses`,
      );
    }
  }
}

/** Parses and checks the environment once; every process reads this object and nothing else. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const config = toConfig(parsed.data);
  if (config.e2eTestMode && config.nodeEnv === 'production') {
    throw new ConfigError('E2E_TEST_MODE: refused when NODE_ENV=production (it accepts unsigned webhooks)');
  }
  if (config.reconcile.intervalSeconds !== undefined && !config.stripe.secretKey) {
    throw new ConfigError('RECONCILE_INTERVAL_S: needs STRIPE_SECRET_KEY (reconciliation reads events from the Stripe API)');
  }
  if (config.reconcile.intervalSeconds !== undefined && config.database.poolMax < 2) {
    // The pass holds its lock's transaction on one connection and applies events on another.
    throw new ConfigError('RECONCILE_INTERVAL_S: needs DB_POOL_MAX of at least 2 (the reconcile lock keeps one connection for the whole pass)');
  }
  const { grpc } = config;
  if (config.nodeEnv === 'production' && grpc.tokens.length === 0 && !grpc.client.token) {
    throw new ConfigError(
      'CREDITS_API_TOKEN: required when NODE_ENV=production (or CREDITS_API_TOKENS / CREDITS_API_TOKENS_FILE for CreditsService, CREDITS_GRPC_TOKEN for its callers)',
    );
  }
  if (config.nodeEnv === 'production') {
    const short = grpc.tokens.find((entry) => entry.token.length < MIN_PRODUCTION_TOKEN_LENGTH);
    if (short) {
      throw new ConfigError(`${short.source}: token "${short.name}" is shorter than ${MIN_PRODUCTION_TOKEN_LENGTH} characters (NODE_ENV=production); make one with \`openssl rand -hex 32\``);
    }
  }
  if (grpc.tls && (!grpc.tls.certFile || !grpc.tls.keyFile)) {
    throw new ConfigError('GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE: set both to serve TLS (GRPC_TLS_CLIENT_CA_FILE adds mutual TLS)');
  }
  const clientTls = grpc.client.tls;
  if (clientTls && (clientTls.certFile === undefined) !== (clientTls.keyFile === undefined)) {
    throw new ConfigError('CREDITS_GRPC_CERT_FILE and CREDITS_GRPC_KEY_FILE: set both or neither');
  }
  if (!clientTls && parsed.data.CREDITS_GRPC_TLS_SERVER_NAME !== undefined) {
    throw new ConfigError('CREDITS_GRPC_TLS_SERVER_NAME: only with TLS to CreditsService (CREDITS_GRPC_CA_FILE)');
  }
  if (config.nodeEnv === 'production' && parsed.data.STRIPE_LIVEMODE === undefined) {
    throw new ConfigError('STRIPE_LIVEMODE: required when NODE_ENV=production (true credits live-mode events only, false test-mode only)');
  }
  checkHttpListeners(parsed.data, config);
  return deepFreeze(config);
}
