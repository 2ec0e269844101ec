import type { Config } from '../config';
import { openDatabase, type DatabaseHandle } from '../db/database';
import { migrateUp, migrationStatus } from '../db/migrations';
import { initORM, type MikroORM } from '../db/orm';
import { startCreditsServer, type CreditsServer } from '../grpc/server';
import type { Logger } from '../logger';

export interface CreditsRuntime {
  orm: MikroORM;
  server: CreditsServer;
  close(): Promise<void>;
}

export interface CreditsRuntimeOptions {
  config: Config;
  logger: Logger;
  /** Apply pending migrations first (npm start); otherwise refuse to serve an unmigrated schema. */
  migrate: boolean;
  database?: DatabaseHandle;
}

/** The credits process: database, ORM, migrations check and the gRPC server, closed in reverse. */
export async function startCreditsRuntime({ config, logger, migrate, database }: CreditsRuntimeOptions): Promise<CreditsRuntime> {
  const db = database ?? (await openDatabase(config, logger));
  const orm = await initORM({ url: db.url, poolMax: config.database.poolMax, echo: config.database.echo, logger });
  try {
    if (migrate) {
      const applied = await migrateUp(orm);
      if (applied.length) logger.info({ applied }, 'migrations applied');
    } else {
      const { pending } = await migrationStatus(orm);
      if (pending.length) throw new Error(`database has ${pending.length} pending migration(s): run \`npm run migrate\` first`);
    }
    const server = await startCreditsServer({
      orm,
      logger,
      rules: { priceCredits: config.stripe.priceCredits, maxPerPurchase: config.credits.maxPerPurchase },
      apiToken: config.grpc.apiToken,
      host: config.grpc.host,
      port: config.grpc.port,
    });
    if (!config.grpc.apiToken) logger.warn('CREDITS_API_TOKEN unset: gRPC calls are not authenticated (development only)');
    logger.info({ port: server.port }, 'CreditsService listening');
    return {
      orm,
      server,
      close: async () => {
        await server.close(config.shutdownGraceMs);
        await orm.close();
        await db.stop();
      },
    };
  } catch (error) {
    await orm.close();
    await db.stop();
    throw error;
  }
}
