import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { isReversalEventType } from '../contract/stripe-event.js';
import type { StripeEventResult } from '../credits/checkout.js';
import type { ReversalEffect } from '../credits/reversals.js';
import type { SpendingEvent } from '../credits/spending-events.js';

export interface CreditsMetrics {
  /** This process's own registry: the edge keeps another, so the two never mix. */
  registry: Registry;
  onCallFinished(method: string, code: string, seconds: number): void;
  /** Told every ApplyCheckout and ApplyStripeEvent result, with the event's type. */
  onEventResult(result: StripeEventResult, eventType: string): void;
  /** Told each reconcile pass of this process (nothing is exported when reconciliation is off). */
  onReconcilePass(pass: ReconcilePassMetrics): void;
  onSpending(event: SpendingEvent): void;
}

/** What the metrics read of one reconcile pass. */
export interface ReconcilePassMetrics {
  /** completed: listed to the end; failed: could not finish; skipped: another replica held the lock; stopped: shutdown. */
  status: 'completed' | 'failed' | 'skipped' | 'stopped';
  finishedAt: Date;
  /** Purchases credited by the pass (outcome applied). */
  applied: number;
  /** Events the pass could not apply (Stripe API, undecodable event, database), retried next pass. */
  failedEvents: number;
}

/** Reservation totals read from the database at scrape time; they are state, not events this process saw. */
export interface ReservationTotals {
  heldCredits: number;
  expiredCredits: number;
}

/** The database pool's state, read at scrape time rather than polled; undefined once closed. */
export interface PoolStats {
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
  max: number;
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface CreditsMetricsOptions {
  pool: () => PoolStats | undefined;
  /** Read at scrape time; a failure (database down) leaves the reservation figures out of that scrape. */
  reservations?: () => Promise<ReservationTotals>;
  /** Whether this process reconciles (RECONCILE_INTERVAL_S): only then are the credits_reconcile_* metrics exported. */
  reconcile?: boolean;
}

export function createCreditsMetrics({ pool, reservations, reconcile = false }: CreditsMetricsOptions): CreditsMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const calls = new Counter({
    name: 'credits_grpc_requests_total',
    help: 'CreditsService calls by method and result code (OK or the stable credits error code)',
    labelNames: ['method', 'code'] as const,
    registers,
  });
  const latency = new Histogram({
    name: 'credits_grpc_request_duration_seconds',
    help: 'CreditsService call latency by method',
    labelNames: ['method'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const outcomes = new Counter({
    name: 'credits_checkout_events_total',
    help: 'ApplyCheckout results by outcome (applied, duplicate, payment_pending, payment_failed, ignored, rejected)',
    labelNames: ['outcome'] as const,
    registers,
  });
  const reversalOutcomes = new Counter({
    name: 'credits_reversal_events_total',
    help: 'Refund and dispute events applied, by event type and outcome (applied, duplicate, purchase_pending, ignored, rejected); those applied with their purchase included',
    labelNames: ['event_type', 'outcome'] as const,
    registers,
  });
  const reversed = new Counter({
    name: 'credits_reversed_total',
    help: 'Credits taken back from balances by refunds and disputes, by kind (refund, dispute)',
    labelNames: ['kind'] as const,
    registers,
  });
  const restored = new Counter({
    name: 'credits_restored_total',
    help: 'Credits given back to balances by won disputes (and closed inquiries)',
    registers,
  });
  const shortfall = new Counter({
    name: 'credits_reversal_shortfall_total',
    help: 'Credits refunds and disputes were due to take back but could not: the user had spent them or reservations held them (see the warning log for the user id)',
    labelNames: ['kind'] as const,
    registers,
  });
  const linkConflicts = new Counter({
    name: 'credits_customer_link_conflicts_total',
    help: 'Purchases whose Stripe customer was already linked to another user than the one the email resolved (link left unchanged; look at the warning log)',
    registers,
  });
  const granted = new Counter({
    name: 'credits_granted_total',
    help: 'Credits added to balances by purchases applied through ApplyCheckout',
    registers,
  });
  const spent = new Counter({
    name: 'credits_spent_total',
    help: 'Credits taken from balances, by how: spend (SpendCredits) or capture (CaptureReservation); replays not counted',
    labelNames: ['via'] as const,
    registers,
  });
  const reserved = new Counter({
    name: 'credits_reserved_total',
    help: 'Credits put on hold by ReserveCredits (replays not counted)',
    registers,
  });
  const released = new Counter({
    name: 'credits_released_total',
    help: 'Held credits given back: by ReleaseReservation, and the part of a partial capture that was not taken',
    labelNames: ['via'] as const,
    registers,
  });
  let totals: Promise<ReservationTotals | undefined> | undefined;
  /** One database read per scrape, shared by the gauges that need it. */
  const readTotals = () => {
    totals ??= (reservations?.() ?? Promise.resolve(undefined)).catch(() => undefined).finally(() => setImmediate(() => (totals = undefined)));
    return totals;
  };
  new Gauge({
    name: 'credits_held',
    help: 'Credits held by live reservations now (status held, expire_time not passed), read from the database at scrape time',
    registers,
    async collect() {
      const read = await readTotals();
      if (read) this.set(read.heldCredits);
    },
  });
  new Gauge({
    name: 'credits_expired_reservations_credits',
    help: 'Credits of all reservations that expired unused, ever (monotonic), read from the database at scrape time',
    registers,
    async collect() {
      const read = await readTotals();
      if (read) this.set(read.expiredCredits);
    },
  });
  new Gauge({
    name: 'credits_db_pool_connections',
    help: 'Database pool connections by state: used (checked out) or free (idle)',
    labelNames: ['state'] as const,
    registers,
    collect() {
      const stats = pool();
      this.set({ state: 'used' }, stats?.numUsed() ?? 0);
      this.set({ state: 'free' }, stats?.numFree() ?? 0);
    },
  });
  new Gauge({
    name: 'credits_db_pool_pending_acquires',
    help: 'Callers waiting for a database connection (sustained > 0: the pool is too small or the database slow)',
    registers,
    collect() {
      this.set(pool()?.numPendingAcquires() ?? 0);
    },
  });
  new Gauge({
    name: 'credits_db_pool_max_connections',
    help: 'Upper bound of the database pool (DB_POOL_MAX)',
    registers,
    collect() {
      this.set(pool()?.max ?? 0);
    },
  });

  const reconcileRegisters = reconcile ? registers : [];
  const reconcileLastSuccess = new Gauge({
    name: 'credits_reconcile_last_success_timestamp_seconds',
    help: 'Unix time at which the last reconcile pass of this process listed every event of its window to the end (0: none yet)',
    registers: reconcileRegisters,
  });
  const reconcileRecovered = new Counter({
    name: 'credits_reconcile_recovered_events_total',
    help: 'Purchases credited by reconcile: events Stripe had that the webhook never delivered (outcome applied)',
    registers: reconcileRegisters,
  });
  const reconcileFailures = new Counter({
    name: 'credits_reconcile_failures_total',
    help: 'Reconcile failures: kind=run a pass that could not finish, kind=event an event a pass could not apply (retried next pass)',
    labelNames: ['kind'] as const,
    registers: reconcileRegisters,
  });
  const reconcileRuns = new Counter({
    name: 'credits_reconcile_runs_total',
    help: 'Reconcile passes by result: completed, failed, skipped (another replica held the lock), stopped (shutdown)',
    labelNames: ['result'] as const,
    registers: reconcileRegisters,
  });
  // Every series from the start, so that rate() and increase() see the first reversal.
  for (const kind of ['refund', 'dispute']) {
    reversed.inc({ kind }, 0);
    shortfall.inc({ kind }, 0);
  }
  const countReversal = (effect: Pick<ReversalEffect, 'eventType' | 'outcome' | 'creditsReversed' | 'creditsRestored' | 'shortfall'>) => {
    reversalOutcomes.inc({ event_type: effect.eventType, outcome: effect.outcome });
    const kind = effect.eventType === 'charge.refunded' ? 'refund' : 'dispute';
    if (effect.creditsReversed > 0) reversed.inc({ kind }, effect.creditsReversed);
    if (effect.shortfall > 0) shortfall.inc({ kind }, effect.shortfall);
    if (effect.creditsRestored > 0) restored.inc(effect.creditsRestored);
  };
  if (reconcile) {
    // Every series from the start, so that rate() and absent() work before the first pass or failure.
    for (const kind of ['run', 'event']) reconcileFailures.inc({ kind }, 0);
    for (const result of ['completed', 'failed', 'skipped', 'stopped']) reconcileRuns.inc({ result }, 0);
  }

  return {
    registry,
    onCallFinished(method, code, seconds) {
      calls.inc({ method, code });
      latency.observe({ method }, seconds);
    },
    onEventResult(result, eventType) {
      if (isReversalEventType(eventType)) countReversal({ ...result, eventType });
      else outcomes.inc({ outcome: result.outcome });
      if (result.outcome === 'applied') granted.inc(result.creditsGranted);
      if (result.customerLink === 'linked_to_another_user') linkConflicts.inc();
      for (const effect of result.reversals) countReversal(effect);
    },
    onReconcilePass(pass) {
      if (!reconcile) return;
      reconcileRuns.inc({ result: pass.status });
      if (pass.status === 'completed') reconcileLastSuccess.set(Math.floor(pass.finishedAt.getTime() / 1000));
      if (pass.status === 'failed') reconcileFailures.inc({ kind: 'run' });
      if (pass.failedEvents > 0) reconcileFailures.inc({ kind: 'event' }, pass.failedEvents);
      if (pass.applied > 0) reconcileRecovered.inc(pass.applied);
    },
    onSpending(event) {
      switch (event.kind) {
        case 'spent':
          spent.inc({ via: 'spend' }, event.credits);
          break;
        case 'reserved':
          reserved.inc(event.credits);
          break;
        case 'captured':
          spent.inc({ via: 'capture' }, event.credits);
          if (event.released > 0) released.inc({ via: 'capture_rest' }, event.released);
          break;
        case 'released':
          released.inc({ via: 'release' }, event.credits);
          break;
      }
    },
  };
}
