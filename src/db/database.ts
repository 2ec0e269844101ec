import type { Config } from '../config';
import type { Logger } from '../logger';
import { startEmbeddedPostgres } from './embedded';

export interface DatabaseHandle {
  url: string;
  /** Stops the embedded server, if this process started one. */
  stop(): Promise<void>;
}

/** DATABASE_URL when set; otherwise the embedded PostgreSQL kept under DATA_DIR. */
export async function openDatabase(config: Config, logger: Logger): Promise<DatabaseHandle> {
  if (config.database.url) return { url: config.database.url, stop: async () => {} };
  logger.info({ dataDir: config.database.dataDir, port: config.database.embeddedPort }, 'DATABASE_URL unset: starting embedded PostgreSQL');
  const embedded = await startEmbeddedPostgres({
    dataDir: config.database.dataDir,
    port: config.database.embeddedPort,
    logger,
  });
  return { url: embedded.url, stop: () => embedded.stop() };
}
