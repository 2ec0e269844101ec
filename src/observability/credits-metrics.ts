import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CheckoutResult } from '../credits/checkout.js';
import type { SpendingEvent } from '../credits/spending-events.js';

export interface CreditsMetrics {
  /** This process's own registry: the edge keeps another, so the two never mix. */
  registry: Registry;
  onCallFinished(method: string, code: string, seconds: number): void;
  onCheckoutResult(result: CheckoutResult): void;
  onSpending(event: SpendingEvent): void;
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

export function createCreditsMetrics({
  pool,
  reservations,
}: {
  pool: () => PoolStats | undefined;
  /** Read at scrape time; a failure (database down) leaves the reservation figures out of that scrape. */
  reservations?: () => Promise<ReservationTotals>;
}): CreditsMetrics {
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

  return {
    registry,
    onCallFinished(method, code, seconds) {
      calls.inc({ method, code });
      latency.observe({ method }, seconds);
    },
    onCheckoutResult(result) {
      outcomes.inc({ outcome: result.outcome });
      if (result.outcome === 'applied') granted.inc(result.creditsGranted);
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
