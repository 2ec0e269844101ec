import type { TryExclusive } from '../db/advisory-lock.js';
import type { Logger } from '../logger.js';
import type { ReconcileReport } from './reconcile.js';

/**
 * completed: every page listed and every event handled (some may have failed: see the report);
 * failed: the pass could not finish (Stripe kept failing, the database went away, a bug);
 * skipped: another replica holds the lock and is reconciling;
 * stopped: the process is shutting down.
 */
export type ReconcilePassStatus = 'completed' | 'failed' | 'skipped' | 'stopped';

export interface ReconcilePassResult {
  status: ReconcilePassStatus;
  finishedAt: Date;
  /** The pass's report when it ran (not when skipped or when it threw). */
  report?: ReconcileReport;
}

export interface ReconcileLoopOptions {
  /** Time between the end of one pass and the start of the next. */
  intervalMs: number;
  /** How far back each pass looks (see reconcileWindowMs). */
  windowMs: number;
  /** Only one pass at a time across replicas: the advisory lock of db/advisory-lock.ts. */
  tryExclusive: TryExclusive;
  /** One pass over the window; must stop between events once `signal` is aborted. */
  pass: (window: { since: Date; signal: AbortSignal }) => Promise<ReconcileReport>;
  logger: Logger;
  onPass?: (result: ReconcilePassResult) => void;
  /** Delay before the first pass; 0 (default) reconciles as soon as the process starts. */
  firstDelayMs?: number;
}

export interface ReconcileLoop {
  /** Stops the loop: no new pass starts, a running pass stops after its current event; resolves when it has. */
  close(): Promise<void>;
}

/**
 * Runs a pass, then schedules the next one `intervalMs` after it ended, so passes of one process
 * never overlap; the lock keeps passes of different replicas from overlapping.
 */
export function startReconcileLoop(options: ReconcileLoopOptions): ReconcileLoop {
  const { intervalMs, windowMs, tryExclusive, pass, logger, onPass } = options;
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let closed = false;

  const report = (status: ReconcilePassStatus, passReport?: ReconcileReport) => {
    try {
      onPass?.({ status, finishedAt: new Date(), report: passReport });
    } catch (error) {
      logger.error({ err: error }, 'reconcile: reporting the pass failed');
    }
  };

  const runPass = async (): Promise<void> => {
    const since = new Date(Date.now() - windowMs);
    try {
      const run = await tryExclusive(() => pass({ since, signal: controller.signal }));
      if (!run.acquired) {
        logger.debug('reconcile: another replica holds the lock, pass skipped');
        report('skipped');
        return;
      }
      const { counts, stoppedEarly } = run.result;
      const status: ReconcilePassStatus = run.result.complete ? 'completed' : controller.signal.aborted ? 'stopped' : 'failed';
      const summary = { since: since.toISOString(), ...counts, failures: run.result.failures.map((f) => f.eventId), stoppedEarly };
      if (status === 'failed' || counts.failed > 0) logger.warn(summary, 'reconcile pass');
      else logger.info(summary, 'reconcile pass');
      report(status, run.result);
    } catch (error) {
      // The lock could not be taken (the database is down) or the pass hit a bug: the next pass tries again.
      logger.error({ err: error }, 'reconcile pass failed');
      report(closed ? 'stopped' : 'failed');
    }
  };

  const schedule = (delayMs: number) => {
    if (closed) return;
    timer = setTimeout(() => {
      timer = undefined;
      running = runPass().finally(() => {
        running = undefined;
        schedule(intervalMs);
      });
    }, delayMs);
    // The servers keep the process alive; this timer alone never should.
    timer.unref();
  };

  schedule(options.firstDelayMs ?? 0);
  logger.info({ intervalSeconds: intervalMs / 1000, windowSeconds: windowMs / 1000 }, 'reconcile loop started');

  return {
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      controller.abort();
      await running;
    },
  };
}
