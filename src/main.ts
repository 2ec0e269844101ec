import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogger, type Logger } from './logger.js';

type Role = 'all' | 'credits' | 'edge';

interface Closable {
  close(): Promise<void>;
}

/** Where the in-process edge of `npm start` reaches the CreditsService it started. */
function loopbackAddress(config: Config, port: number): string {
  const host = config.grpc.host === '0.0.0.0' || config.grpc.host === '::' ? '127.0.0.1' : config.grpc.host;
  return `${host}:${port}`;
}

async function startRole(role: Role, config: Config, logger: Logger): Promise<Closable[]> {
  const started: Closable[] = [];
  try {
    let creditsUrl = config.grpc.url;
    if (role === 'all' || role === 'credits') {
      // Each role loads only its own composition root: `start:edge` never loads the ORM, and `start:credits` no Express.
      const { startCreditsRuntime } = await import('./app/credits.js');
      const credits = await startCreditsRuntime({ config, logger: logger.child({ app: 'credits' }), migrate: role === 'all' });
      started.push(credits);
      creditsUrl = loopbackAddress(config, credits.server.port);
    }
    if (role === 'all' || role === 'edge') {
      const { startEdgeRuntime } = await import('./app/edge.js');
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
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    console.error(error instanceof ConfigError ? error.message : error);
    process.exit(78); // EX_CONFIG
  }
  const logger = createLogger({ level: config.logLevel });
  let started: Closable[];
  try {
    started = await startRole(role, config, logger);
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
