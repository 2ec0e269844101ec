import { ConfigError, loadConfig } from './config';
import { startCreditsRuntime } from './credits/runtime';
import { createLogger, type Logger } from './logger';

type Role = 'all' | 'credits' | 'edge';

interface Closable {
  close(): Promise<void>;
}

async function startRole(role: Role, logger: Logger): Promise<Closable[]> {
  const config = loadConfig();
  const started: Closable[] = [];
  try {
    if (role === 'all' || role === 'credits') {
      started.push(await startCreditsRuntime({ config, logger: logger.child({ app: 'credits' }), migrate: role === 'all' }));
    }
    if (role === 'all' || role === 'edge') {
      const { startEdgeRuntime } = await import('./edge/runtime');
      const credits = started[0] as Awaited<ReturnType<typeof startCreditsRuntime>> | undefined;
      const creditsUrl = credits ? `127.0.0.1:${credits.server.port}` : config.grpc.url;
      started.push(await startEdgeRuntime({ config, logger: logger.child({ app: 'edge' }), creditsUrl }));
    }
    return started;
  } catch (error) {
    await closeAll(started, logger);
    throw error;
  }
}

async function closeAll(started: Closable[], logger: Logger): Promise<void> {
  // The edge stops first so no request reaches a closed CreditsService.
  for (const part of [...started].reverse()) {
    await part.close().catch((error: unknown) => logger.error({ err: error }, 'error while closing'));
  }
}

async function main(): Promise<void> {
  const role = (process.argv[2] ?? 'all') as Role;
  if (!['all', 'credits', 'edge'].includes(role)) {
    console.error(`usage: main.ts [all|credits|edge] (got ${role})`);
    process.exit(2);
  }
  let logger: Logger;
  try {
    logger = createLogger({ level: loadConfig().logLevel });
  } catch (error) {
    console.error(error instanceof ConfigError ? error.message : error);
    process.exit(78); // EX_CONFIG
  }
  let started: Closable[];
  try {
    started = await startRole(role, logger);
  } catch (error) {
    logger.fatal({ err: error }, 'failed to start');
    process.exit(error instanceof ConfigError ? 78 : 1); // EX_CONFIG for checks made at start, e.g. the webhook secret
  }
  logger.info({ role }, 'ready');
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    closeAll(started, logger).then(() => {
      logger.info('stopped');
      process.exit(0);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

await main();
