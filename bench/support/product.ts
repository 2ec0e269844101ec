import path from 'node:path';
import { createHealthClient } from '../../src/grpc/client';
import { findFreePort } from '../../test/support/free-port';
import { answers200, spawnNode, spawnTsNode, waitUntil, type Service } from './processes';

export interface ProductOptions {
  databaseUrl: string;
  poolMax: number;
  webhookSecret: string;
  apiToken: string;
  baseEnv: NodeJS.ProcessEnv;
  /** Directory for --cpu-prof output; no profiling when unset. */
  profileDir?: string;
  /** Extra node flags for both services (experiments: heap sizes, ...). */
  nodeFlags?: string[];
  /** `compiled`: dist/ of `npm run build`, as production runs it; `source`: the TypeScript through tsx. */
  build: 'compiled' | 'source';
}

export interface Product {
  credits: Service;
  edge: Service;
  grpcUrl: string;
  httpPort: number;
  stop(): Promise<void>;
}

function healthServing(url: string): Promise<boolean> {
  const client = createHealthClient(url);
  return new Promise<boolean>((resolve) => {
    client.Check({ service: '' }, { deadline: Date.now() + 1_000 }, (error, response) => resolve(!error && response?.status === 'SERVING'));
  }).finally(() => client.close());
}

// One directory per service: the main thread and tsx's loader thread each write a profile (default names differ by thread).
function profileFlags(dir: string | undefined, name: string): string[] {
  return dir ? ['--cpu-prof', '--cpu-prof-dir', path.join(dir, name)] : [];
}

/** One role of the product: `node --enable-source-maps dist/src/main.js <role>` or `node --import tsx src/main.ts <role>`. */
function spawnRole(role: 'credits' | 'edge', options: ProductOptions, env: NodeJS.ProcessEnv): Service {
  const nodeFlags = [...(options.nodeFlags ?? []), ...profileFlags(options.profileDir, role)];
  return options.build === 'compiled'
    ? spawnNode(role, ['--enable-source-maps', 'dist/src/main.js', role], { env, nodeFlags })
    : spawnTsNode(role, 'src/main.ts', [role], { env, nodeFlags });
}

/**
 * CreditsService and the edge as the separate processes they are in production
 * (`main.js credits` and `main.js edge`), ready when the edge's /readyz answers 200.
 */
export async function startProduct(options: ProductOptions): Promise<Product> {
  const grpcPort = await findFreePort();
  const httpPort = await findFreePort();
  const grpcUrl = `127.0.0.1:${grpcPort}`;
  const env: NodeJS.ProcessEnv = {
    ...options.baseEnv,
    NODE_ENV: 'production',
    STRIPE_LIVEMODE: 'false',
    DATABASE_URL: options.databaseUrl,
    DB_POOL_MAX: String(options.poolMax),
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: String(grpcPort),
    HTTP_PORT: String(httpPort),
    METRICS_PORT: '0',
    CREDITS_GRPC_URL: grpcUrl,
    STRIPE_WEBHOOK_SECRET: options.webhookSecret,
    CREDITS_API_TOKEN: options.apiToken,
    LOG_LEVEL: options.baseEnv.BENCH_LOG_LEVEL ?? 'warn',
  };
  const credits = spawnRole('credits', options, env);
  let edge: Service | undefined;
  try {
    await waitUntil('CreditsService health SERVING', () => healthServing(grpcUrl), { timeoutMs: 30_000, service: credits });
    edge = spawnRole('edge', options, env);
    await waitUntil('edge GET /readyz 200', () => answers200(`http://127.0.0.1:${httpPort}/readyz`), { timeoutMs: 30_000, service: edge });
  } catch (error) {
    await Promise.all([edge?.stop(), credits.stop()]);
    throw error;
  }
  const started = edge;
  return {
    credits,
    edge: started,
    grpcUrl,
    httpPort,
    stop: async () => {
      // The edge first, as main.ts does, so no request reaches a closed CreditsService.
      await started.stop();
      await credits.stop();
    },
  };
}

