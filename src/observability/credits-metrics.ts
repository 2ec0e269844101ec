import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CheckoutResult } from '../credits/checkout.js';

export interface CreditsMetrics {
  /** This process's own registry: the edge keeps another, so the two never mix. */
  registry: Registry;
  onCallFinished(method: string, code: string, seconds: number): void;
  onCheckoutResult(result: CheckoutResult): void;
}

/** The database pool's state, read at scrape time rather than polled; undefined once closed. */
export interface PoolStats {
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
  max: number;
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createCreditsMetrics({ pool }: { pool: () => PoolStats | undefined }): CreditsMetrics {
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
      if (result.customerLink === 'linked_to_another_user') linkConflicts.inc();
    },
  };
}
