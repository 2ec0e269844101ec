import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { API_SCOPES, isApiScope, type ApiScope } from './grpc/scopes.js';

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
  STRIPE_SECRET_KEY: optionalText,
  STRIPE_API_BASE: optionalText.pipe(z.url().optional()),
  STRIPE_API_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(3_000),
  STRIPE_API_MAX_RETRIES: z.coerce.number().int().min(0).max(5).default(1),
  STRIPE_PRICE_CREDITS: priceCredits.default({}),
  MAX_CREDITS_PER_PURCHASE: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).default(1_000_000),
  E2E_TEST_MODE: flag.default(false),
  HTTP_PORT: port.default(3000),
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
      priceCredits: env.STRIPE_PRICE_CREDITS,
    },
    credits: {
      maxPerPurchase: env.MAX_CREDITS_PER_PURCHASE,
    },
    e2eTestMode: env.E2E_TEST_MODE,
    http: { port: env.HTTP_PORT },
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
  return deepFreeze(config);
}
