import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createHealthClient, type CreditsClientTls } from '../../src/grpc/client';
import { findFreePort } from './free-port';
import { eventually } from './load';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A `src/main.ts` role run as its own process, with everything it prints kept for the log audit. */
export interface ServiceProcess {
  name: string;
  pid: number;
  /** Resolves once the process has exited, with its exit code or the signal that ended it. */
  exited: Promise<number | string>;
  isRunning(): boolean;
  /** Everything it printed on stdout and stderr, in order. */
  output(): string;
  kill(signal: NodeJS.Signals): void;
  /** SIGTERM (graceful), SIGKILL after graceMs; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

// A vitest worker that dies must not leave services behind.
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** Which build a service process runs: the TypeScript sources through tsx, or the compiled dist/ of `npm run build`. */
export type Build = 'source' | 'compiled';

const ENTRY: Record<Build, string[]> = {
  source: ['--import', 'tsx', 'src/main.ts'],
  compiled: ['--enable-source-maps', 'dist/src/main.js'],
};

/** `node --import tsx src/main.ts <role>`: node itself is the service, so signals reach it, not a wrapper. */
export function spawnService(
  name: string,
  role: 'credits' | 'edge',
  env: Record<string, string>,
  { build = 'source', cwd = REPO_ROOT }: { build?: Build; cwd?: string } = {},
): ServiceProcess {
  const child = spawn(process.execPath, [...ENTRY[build], role], {
    cwd,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', LOG_LEVEL: 'info', SHUTDOWN_GRACE_MS: '1000', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`${name}: could not be started`);
  children.add(child);
  const chunks: string[] = [];
  child.stdout!.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
  let running = true;
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      running = false;
      children.delete(child);
      resolve(code ?? signal ?? 'unknown');
    });
  });
  return {
    name,
    pid: child.pid,
    exited,
    isRunning: () => running,
    output: () => chunks.join(''),
    kill: (signal) => {
      if (running) child.kill(signal);
    },
    stop: async (graceMs = 5_000) => {
      if (!running) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

export type HealthAnswer = 'SERVING' | 'NOT_SERVING' | 'UNREACHABLE';

/** One grpc.health.v1 Check of the whole server (''), bounded by timeoutMs. */
export function checkHealth(url: string, timeoutMs = 1_000, tls?: CreditsClientTls): Promise<HealthAnswer> {
  const client = createHealthClient(url, { tls });
  return new Promise<HealthAnswer>((resolve) => {
    client.Check({ service: '' }, { deadline: new Date(Date.now() + timeoutMs) }, (error, response) =>
      resolve(error ? 'UNREACHABLE' : response?.status === 'SERVING' ? 'SERVING' : 'NOT_SERVING'),
    );
  }).finally(() => client.close());
}

async function untilReady(service: ServiceProcess, what: string, ready: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  try {
    await eventually(`${service.name}: ${what}`, async () => {
      if (!service.isRunning()) throw new Error('exited');
      return ready();
    }, timeoutMs);
  } catch (error) {
    await service.stop(1_000);
    throw new Error(`${service.name} never became ready (${what}): ${String(error)}\n${service.output().slice(-4_000)}`);
  }
  if (!service.isRunning()) throw new Error(`${service.name} exited before ${what}:\n${service.output().slice(-4_000)}`);
}

export interface CreditsProcess extends ServiceProcess {
  port: number;
  /** host:port for gRPC clients. */
  url: string;
}

export interface CreditsProcessOptions {
  databaseUrl: string;
  token: string;
  /** The same port again after a crash; a free one by default. */
  port?: number;
  priceCredits?: Record<string, number>;
  poolMax?: number;
  build?: Build;
  /** More environment (NODE_ENV=production, scoped tokens, TLS files, ...). */
  env?: Record<string, string>;
  /** How the readiness probe reaches a TLS server. */
  healthTls?: CreditsClientTls;
}

/** A CreditsService process (`main.ts credits`), resolved once its health says SERVING. */
export async function startCreditsProcess(name: string, options: CreditsProcessOptions): Promise<CreditsProcess> {
  const port = options.port ?? (await findFreePort());
  const service = spawnService(name, 'credits', {
    DATABASE_URL: options.databaseUrl,
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: String(port),
    METRICS_PORT: '0',
    CREDITS_API_TOKEN: options.token,
    STRIPE_PRICE_CREDITS: JSON.stringify(options.priceCredits ?? { price_pack_100: 100 }),
    DB_POOL_MAX: String(options.poolMax ?? 5),
    ...options.env,
  }, { build: options.build });
  const url = `127.0.0.1:${port}`;
  await untilReady(service, 'health SERVING', async () => (await checkHealth(url, 1_000, options.healthTls)) === 'SERVING', 60_000);
  return { ...service, port, url };
}

export interface EdgeProcess extends ServiceProcess {
  url: string;
}

/** The edge as its own process (`main.ts edge`), resolved once GET /readyz answers 200. */
export async function startEdgeProcess(
  name: string,
  options: { creditsUrl: string; token: string; webhookSecret: string; deadlineMs?: number; build?: Build; env?: Record<string, string> },
): Promise<EdgeProcess> {
  const port = await findFreePort();
  const service = spawnService(name, 'edge', {
    HTTP_PORT: String(port),
    CREDITS_GRPC_URL: options.creditsUrl,
    CREDITS_API_TOKEN: options.token,
    STRIPE_WEBHOOK_SECRET: options.webhookSecret,
    CREDITS_GRPC_DEADLINE_MS: String(options.deadlineMs ?? 5_000),
    ...options.env,
  }, { build: options.build });
  const url = `http://127.0.0.1:${port}`;
  await untilReady(
    service,
    'GET /readyz 200',
    async () => {
      const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1_000) });
      await response.body?.cancel();
      return response.status === 200;
    },
    60_000,
  );
  return { ...service, url };
}
