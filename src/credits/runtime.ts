import type { Config } from '../config';
import { openDatabase, type DatabaseHandle } from '../db/database';
import { migrateUp, migrationStatus } from '../db/migrations';
import { initORM, type MikroORM } from '../db/orm';
import { creditsServerSecurity } from '../grpc/security.js';
import { startCreditsServer, type CreditsServer } from '../grpc/server';
import type { Logger } from '../logger';
import { createCreditsMetrics } from './metrics';
import { startMetricsServer, type MetricsServer } from './metrics-server';

export interface CreditsRuntime {
  orm: MikroORM;
  server: CreditsServer;
  /** Prometheus `GET /metrics` of this process (METRICS_HOST:METRICS_PORT). */
  metrics: MetricsServer;
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
    const metrics = createCreditsMetrics({ orm });
    const server = await startCreditsServer({
      orm,
      onCallFinished: metrics.onCallFinished,
      onCheckoutResult: metrics.onCheckoutResult,
      logger,
      rules: { priceCredits: config.stripe.priceCredits, maxPerPurchase: config.credits.maxPerPurchase },
      ...creditsServerSecurity(config, logger),
      host: config.grpc.host,
      port: config.grpc.port,
    });
    logger.info({ port: server.port }, 'CreditsService listening');
    const metricsServer = await startMetricsServer({ registry: metrics.registry, host: config.metrics.host, port: config.metrics.port, logger }).catch(
      async (error: unknown) => {
        await server.close(0);
        throw error;
      },
    );
    logger.info({ port: metricsServer.port }, 'credits metrics on /metrics');
    return {
      orm,
      server,
      metrics: metricsServer,
      close: async () => {
        await server.close(config.shutdownGraceMs);
        await metricsServer.close();
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
