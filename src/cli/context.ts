import net from 'node:net';
import { loadConfig, type Config } from '../config.js';
import type { CreditsStore } from '../credits/ports.js';
import { createCreditsStore } from '../db/credits-store.js';
import { openDatabase } from '../db/database.js';
import { initORM, type MikroORM } from '../db/orm.js';
import { createLogger, type Logger } from '../logger.js';
import { OperationRefused } from '../ops/errors.js';
import type { CliIo } from './io.js';

export interface CliContext {
  config: Config;
  logger: Logger;
  orm: MikroORM;
  /** The domain's store on that database: corrections and replay write through it. */
  store: CreditsStore;
  io: CliIo;
}

function portTaken(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Opens the database the service uses (DATABASE_URL, or the embedded one under DATA_DIR) for one
 * command, and closes it after. Logs go to stderr so stdout stays clean for `--json`.
 */
export async function withDatabase<T>(io: CliIo, work: (context: CliContext) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, name: 'cli', destination: io.stderr });
  // Starting the embedded server would stop one that `npm start` is running on the same data.
  if (!config.database.url && (await portTaken(config.database.embeddedPort))) {
    throw new OperationRefused(
      `port ${config.database.embeddedPort} is taken (is \`npm start\` running the embedded PostgreSQL?): set DATABASE_URL to reach that database`,
    );
  }
  const database = await openDatabase(config, logger);
  try {
    const orm = await initORM({ url: database.url, poolMax: 2, echo: config.database.echo, logger });
    try {
      return await work({ config, logger, orm, store: createCreditsStore(orm), io });
    } finally {
      await orm.close();
    }
  } finally {
    await database.stop();
  }
}
