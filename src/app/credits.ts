import { ConfigError, type Config } from '../config.js';
import type { CreditsStore } from '../credits/ports.js';
import { ADVISORY_LOCK_KEYS, advisoryXactLock } from '../db/advisory-lock.js';
import { createCreditsStore } from '../db/credits-store.js';
import { openDatabase, type DatabaseHandle } from '../db/database.js';
import { migrateUp, migrationStatus } from '../db/migrations.js';
import { connectionPool, databaseAnswers, initORM, type MikroORM } from '../db/orm.js';
import { reservationTotals } from '../db/reservation-repository.js';
import { creditsServerSecurity } from '../grpc/security.js';
import { startCreditsServer, type CreditsServer } from '../grpc/server.js';
import type { Logger } from '../logger.js';
import { createCreditsMetrics, type CreditsMetrics } from '../observability/credits-metrics.js';
import { startMetricsServer, type MetricsServer } from '../observability/metrics-server.js';
import { reconcileEvents, reconcileWindowMs } from '../ops/reconcile.js';
import { startReconcileLoop, type ReconcileLoop } from '../ops/reconcile-loop.js';
import { stripeChargeLookup } from '../stripe-api/charge-lookup.js';
import { stripeApiFromConfig } from '../stripe-api/client.js';

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
  /**
   * Overrides RECONCILE_INTERVAL_S (which config keeps to 60..86400 s), e.g. a shorter period in
   * tests; setting it turns reconciliation on (it still needs STRIPE_SECRET_KEY).
   */
  reconcileIntervalMs?: number;
}

/** The reconcile loop of this process, when RECONCILE_INTERVAL_S (or the override) turns it on. */
function startReconciling(
  { config, logger, reconcileIntervalMs }: CreditsRuntimeOptions,
  orm: MikroORM,
  store: CreditsStore,
  metrics: CreditsMetrics,
): ReconcileLoop | undefined {
  const intervalMs = reconcileIntervalMs ?? (config.reconcile.intervalSeconds === undefined ? undefined : config.reconcile.intervalSeconds * 1000);
  if (intervalMs === undefined) return undefined;
  const stripe = stripeApiFromConfig(config.stripe);
  if (!stripe) throw new ConfigError('RECONCILE_INTERVAL_S: needs STRIPE_SECRET_KEY (reconciliation reads events from the Stripe API)');
  const rules = config.credits;
  const reconcileLogger = logger.child({ task: 'reconcile' });
  return startReconcileLoop({
    intervalMs,
    windowMs: reconcileWindowMs(intervalMs),
    tryExclusive: advisoryXactLock(orm, ADVISORY_LOCK_KEYS.reconcile),
    pass: ({ since, signal }) => reconcileEvents({ em: orm.em.fork(), store, stripe }, { since, rules, logger: reconcileLogger, signal }),
    logger: reconcileLogger,
    onPass: ({ status, finishedAt, report }) =>
      metrics.onReconcilePass({ status, finishedAt, applied: report?.counts.applied ?? 0, failedEvents: report?.counts.failed ?? 0 }),
  });
}

/** The credits process: database, ORM, migrations check, the gRPC server and metrics, closed in reverse. */
export async function startCreditsRuntime(options: CreditsRuntimeOptions): Promise<CreditsRuntime> {
  const { config, logger, migrate, database } = options;
  if (config.nodeEnv === 'production' && config.stripe.webhookSecrets.length === 0) {
    // Without it, a leaked stripe:apply token alone could credit events Stripe never sent.
    throw new ConfigError('STRIPE_WEBHOOK_SECRET: required for CreditsService when NODE_ENV=production (it checks the Stripe-Signature the edge forwards)');
  }
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
    const reconciling = options.reconcileIntervalMs !== undefined || config.reconcile.intervalSeconds !== undefined;
    const metrics = createCreditsMetrics({ pool: () => connectionPool(orm), reservations: () => reservationTotals(orm.em), reconcile: reconciling });
    const store = createCreditsStore(orm);
    const stripeApi = stripeApiFromConfig(config.stripe);
    const chargeLookup = stripeApi && stripeChargeLookup(stripeApi);
    const server = await startCreditsServer({
      store,
      databaseAnswers: () => databaseAnswers(orm),
      onCallFinished: metrics.onCallFinished,
      onEventResult: metrics.onEventResult,
      charges: chargeLookup,
      onSpending: metrics.onSpending,
      logger,
      rules: config.credits,
      // The edge verified the signature too; checking it here means a leaked token alone cannot credit.
      signatureCheck: {
        secrets: config.stripe.webhookSecrets,
        toleranceSeconds: config.stripe.toleranceSeconds,
        acceptUnsigned: config.e2eTestMode,
      },
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
    let reconcileLoop: ReconcileLoop | undefined;
    try {
      reconcileLoop = startReconciling(options, orm, store, metrics);
    } catch (error) {
      await server.close(0);
      await metricsServer.close();
      throw error;
    }
    return {
      orm,
      server,
      metrics: metricsServer,
      close: async () => {
        // A running pass stops after its current event, before the database closes under it.
        await reconcileLoop?.close();
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
