import { migrateUp } from '../../src/db/migrations';
import { TEST_TOKEN } from './credits-harness';
import { createTestDatabase, type TestDatabase } from './database';
import { startEdge, WEBHOOK_SECRET, type EdgeHarness } from './edge-harness';
import { DeliveryRecord, openDatabaseProbe, type DatabaseProbe } from './invariants';
import { LogAudit } from './log-audit';
import { captureLogs } from './log-capture';
import { startCreditsProcess, startEdgeProcess, type CreditsProcess, type EdgeProcess } from './service-process';
import type { DeliverContext } from './webhook-traffic';

export interface StackOptions {
  /** Names this file's logs when RELIABILITY_LOG_DIR keeps them. */
  name: string;
  /** How many CreditsService processes share the database (the edge balances over them). */
  replicas?: number;
  /** A database of the test's own (e.g. on a PostgreSQL it stops); a fresh test database otherwise. */
  databaseUrl?: string;
  /** Run the edge as its own process instead of in the test process. */
  edgeProcess?: boolean;
  /** Budget of one ApplyCheckout call made by the edge, retries included (default 5 s, as in production). */
  edgeDeadlineMs?: number;
  poolMax?: number;
  /** More environment for every CreditsService process (e.g. a longer SHUTDOWN_GRACE_MS). */
  creditsEnv?: Record<string, string>;
}

/** One scenario file's system: a migrated database, CreditsService processes, one edge, and what the test records. */
export interface ReliabilityStack {
  databaseUrl: string;
  probe: DatabaseProbe;
  credits: CreditsProcess[];
  edgeUrl: string;
  record: DeliveryRecord;
  audit: LogAudit;
  traffic: DeliverContext;
  /** Starts replica `index` again on its port once it has died, and waits until it serves. */
  restartCredits(index: number): Promise<CreditsProcess>;
  close(): Promise<void>;
}

/** The edge target that balances over every replica (grpc-js resolves `ipv4:` lists itself). */
export function balancedTarget(credits: readonly CreditsProcess[]): string {
  return credits.length === 1 ? credits[0]!.url : `ipv4:${credits.map((service) => service.url).join(',')}`;
}

export async function startReliabilityStack(options: StackOptions): Promise<ReliabilityStack> {
  const audit = new LogAudit();
  audit.rememberToken(TEST_TOKEN);
  audit.rememberToken(WEBHOOK_SECRET);
  const probeLogs = captureLogs('info');
  audit.watch('test-side ORM', probeLogs.text);
  let database: TestDatabase | undefined;
  let probe: DatabaseProbe | undefined;
  const credits: CreditsProcess[] = [];
  let edge: EdgeHarness | EdgeProcess | undefined;
  let restarts = 0;

  // Every step runs even if one fails, so no process outlives the file.
  const close = async () => {
    audit.dumpTo(process.env.RELIABILITY_LOG_DIR, options.name);
    const steps: (() => Promise<unknown> | undefined)[] = [
      // The edge first, as main.ts does, so no request reaches a stopped CreditsService.
      () => (edge && 'close' in edge ? edge.close() : edge?.stop()),
      () => Promise.all(credits.map((service) => service.stop())),
      () => probe?.close(),
      () => database?.drop(),
    ];
    const failures: unknown[] = [];
    for (const step of steps) {
      try {
        await step();
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length > 0) throw new AggregateError(failures, 'closing the reliability stack failed');
  };

  try {
    if (!options.databaseUrl) database = await createTestDatabase();
    const databaseUrl = options.databaseUrl ?? database!.url;
    probe = await openDatabaseProbe(databaseUrl, probeLogs.logger);
    await migrateUp(probe.orm);
    const start = (index: number, port?: number) =>
      startCreditsProcess(`credits-${index + 1}${port ? ` (restart ${++restarts})` : ''}`, {
        databaseUrl,
        token: TEST_TOKEN,
        port,
        poolMax: options.poolMax,
        env: options.creditsEnv,
      }).then((service) => {
        audit.watch(service.name, service.output);
        return service;
      });
    credits.push(...(await Promise.all(Array.from({ length: options.replicas ?? 1 }, (_, index) => start(index)))));
    const target = balancedTarget(credits);
    if (options.edgeProcess) {
      edge = await startEdgeProcess('edge', { creditsUrl: target, token: TEST_TOKEN, webhookSecret: WEBHOOK_SECRET, deadlineMs: options.edgeDeadlineMs });
      audit.watch('edge process', edge.output);
    } else {
      edge = await startEdge(target, { CREDITS_GRPC_DEADLINE_MS: String(options.edgeDeadlineMs ?? 5_000) });
      audit.watch('edge (in-process)', edge.logs.text);
    }
    const record = new DeliveryRecord();
    return {
      databaseUrl,
      probe,
      credits,
      edgeUrl: edge.url,
      record,
      audit,
      traffic: { edgeUrl: edge.url, record, audit },
      restartCredits: async (index) => {
        const previous = credits[index]!;
        if (previous.isRunning()) throw new Error(`${previous.name} is still running`);
        credits[index] = await start(index, previous.port);
        return credits[index]!;
      },
      close,
    };
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
}
