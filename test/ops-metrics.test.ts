import { Metadata } from '@grpc/grpc-js';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config';
import { startCreditsRuntime, type CreditsRuntime } from '../src/app/credits';
import { createCreditsClient, type CreditsServiceClient } from '../src/grpc/client';
import { call } from './support/credits-harness';
import { createTestDatabase, type TestDatabase } from './support/database';
import { captureLogs } from './support/log-capture';
import { applyCheckoutRequestFor, checkoutSession, stripeEvent } from './support/stripe-events';

const TOKEN = 'metrics-test-token-0123456789';
let database: TestDatabase;
let runtime: CreditsRuntime;
let client: CreditsServiceClient;

beforeAll(async () => {
  database = await createTestDatabase();
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: database.url,
    DB_POOL_MAX: '4',
    GRPC_PORT: '0',
    METRICS_PORT: '0',
    CREDITS_API_TOKEN: TOKEN,
    SHUTDOWN_GRACE_MS: '1000',
  });
  runtime = await startCreditsRuntime({ config, logger: captureLogs().logger, migrate: true, database: { url: database.url, stop: async () => {} } });
  client = createCreditsClient(`127.0.0.1:${runtime.server.port}`, { token: TOKEN });
});
afterAll(async () => {
  client?.close();
  await runtime?.close();
  await database?.drop();
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The Prometheus text format, enough of it for these assertions. */
function parse(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match) throw new Error(`unparsed metrics line: ${line}`);
      const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
      return { name: match[1]!, labels, value: Number(match[3]) };
    });
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([key, v]) => s.labels[key] === v))?.value;
}

async function scrape(): Promise<Sample[]> {
  const response = await fetch(`http://127.0.0.1:${runtime.metrics.port}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/plain');
  return parse(await response.text());
}

describe('credits metrics', () => {
  it('when a few gRPC calls were made, then calls, latency, outcomes, credits and pool usage are exported', async () => {
    const event = stripeEvent('checkout.session.completed', checkoutSession({ email: 'metrics@example.com', metadata: { credits: '75' } }));
    const request = applyCheckoutRequestFor(event);
    const none = new Metadata();
    expect(await call(client, client.ApplyCheckout, request, none)).toMatchObject({ ok: true, response: { outcome: 'APPLY_CHECKOUT_OUTCOME_APPLIED' } });
    expect(await call(client, client.ApplyCheckout, request, none)).toMatchObject({ ok: true, response: { outcome: 'APPLY_CHECKOUT_OUTCOME_DUPLICATE' } });
    expect(await call(client, client.GetBalance, { identifier: 'metrics@example.com' }, none)).toMatchObject({ ok: true, response: { balance: '75' } });
    expect(await call(client, client.GetBalance, { identifier: 'nobody@example.com' }, none)).toMatchObject({ ok: false, errorCode: 'USER_NOT_FOUND' });

    const samples = await scrape();
    expect(value(samples, 'credits_grpc_requests_total', { method: 'ApplyCheckout', code: 'OK' })).toBe(2);
    expect(value(samples, 'credits_grpc_requests_total', { method: 'GetBalance', code: 'OK' })).toBe(1);
    expect(value(samples, 'credits_grpc_requests_total', { method: 'GetBalance', code: 'USER_NOT_FOUND' })).toBe(1);
    expect(value(samples, 'credits_grpc_request_duration_seconds_count', { method: 'ApplyCheckout' })).toBe(2);
    expect(value(samples, 'credits_grpc_request_duration_seconds_count', { method: 'GetBalance' })).toBe(2);
    expect(value(samples, 'credits_grpc_request_duration_seconds_bucket', { method: 'GetBalance', le: '+Inf' })).toBe(2);
    expect(value(samples, 'credits_grpc_request_duration_seconds_sum', { method: 'ApplyCheckout' })).toBeGreaterThan(0);
    expect(value(samples, 'credits_checkout_events_total', { outcome: 'applied' })).toBe(1);
    expect(value(samples, 'credits_checkout_events_total', { outcome: 'duplicate' })).toBe(1);
    expect(value(samples, 'credits_granted_total')).toBe(75);
    expect(value(samples, 'credits_db_pool_max_connections')).toBe(4);
    // Between calls nobody waits; the health monitor's SELECT 1 may hold one connection at scrape time.
    const used = value(samples, 'credits_db_pool_connections', { state: 'used' })!;
    const free = value(samples, 'credits_db_pool_connections', { state: 'free' })!;
    expect(used + free).toBeGreaterThanOrEqual(1);
    expect(used + free).toBeLessThanOrEqual(4);
    expect(value(samples, 'credits_db_pool_pending_acquires')).toBe(0);
    // The default process metrics, on this registry.
    expect(value(samples, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(value(samples, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(samples.some((s) => s.name.startsWith('http_') || s.name.startsWith('edge_'))).toBe(false);
    // RECONCILE_INTERVAL_S is unset: this process does not reconcile, so it exports no reconcile metrics.
    expect(samples.some((s) => s.name.startsWith('credits_reconcile_'))).toBe(false);
  });

  it('when credits are spent, reserved, captured, released and left to expire, then the credits of each are exported', async () => {
    const none = new Metadata();
    const event = stripeEvent('checkout.session.completed', checkoutSession({ email: 'metrics-spender@example.com', metadata: { credits: '200' } }));
    expect(await call(client, client.ApplyCheckout, applyCheckoutRequestFor(event), none)).toMatchObject({ ok: true });
    const identifier = 'metrics-spender@example.com';
    const spend = { identifier, amount: '11', idempotency_key: 'metrics-spend-1' };
    expect(await call(client, client.SpendCredits, spend, none)).toMatchObject({ ok: true, response: { replayed: false } });
    expect(await call(client, client.SpendCredits, spend, none)).toMatchObject({ ok: true, response: { replayed: true } });
    const reserve = async (key: string, amount: number) => {
      const result = await call(client, client.ReserveCredits, { identifier, amount: String(amount), idempotency_key: key }, none);
      if (!result.ok) throw new Error(`ReserveCredits failed: ${result.errorCode}`);
      return (result.response as { reservation: { id: string } }).reservation.id;
    };
    const captured = await reserve('metrics-r1', 30);
    expect(await call(client, client.CaptureReservation, { reservation_id: captured, amount: '20' }, none)).toMatchObject({ ok: true });
    const released = await reserve('metrics-r2', 15);
    expect(await call(client, client.ReleaseReservation, { reservation_id: released }, none)).toMatchObject({ ok: true });
    const expired = await reserve('metrics-r3', 7);
    await reserve('metrics-r4', 9); // still held at scrape time
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    await admin.query(`UPDATE credit_reservations SET expire_time = now() - interval '1 second' WHERE id = $1`, [expired]);
    await admin.end();

    const samples = await scrape();
    expect(value(samples, 'credits_spent_total', { via: 'spend' })).toBe(11);
    expect(value(samples, 'credits_spent_total', { via: 'capture' })).toBe(20);
    expect(value(samples, 'credits_reserved_total')).toBe(30 + 15 + 7 + 9);
    expect(value(samples, 'credits_released_total', { via: 'release' })).toBe(15);
    expect(value(samples, 'credits_released_total', { via: 'capture_rest' })).toBe(10);
    expect(value(samples, 'credits_held')).toBe(9);
    expect(value(samples, 'credits_expired_reservations_credits')).toBe(7);
    expect(value(samples, 'credits_grpc_requests_total', { method: 'SpendCredits', code: 'OK' })).toBe(2);
  });

  it('when another path or method is asked, then 404 and 405', async () => {
    const base = `http://127.0.0.1:${runtime.metrics.port}`;
    expect((await fetch(`${base}/`)).status).toBe(404);
    const post = await fetch(`${base}/metrics`, { method: 'POST' });
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
  });
});
