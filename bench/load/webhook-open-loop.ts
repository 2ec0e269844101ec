import { setTimeout as sleep } from 'node:timers/promises';
import { LatencyLog, round, type LatencySummary } from '../support/latency';
import { deliver, webhookAgent, type WebhookTarget } from './webhook-client';
import type { Delivery } from './webhook-events';

export interface OpenLoopResult {
  target: string;
  offeredPerS: number;
  sent: number;
  seconds: number;
  answeredPerS: number;
  /** From each request's scheduled send time, so a stalled server cannot hide its queue (no coordinated omission). */
  latencyMs: LatencySummary;
  errors: number;
  statuses: Record<string, number>;
  /** Largest delay between a scheduled send time and the actual send: the load generator's own lag. */
  maxSendLagMs: number;
  /** Most requests that were in flight at once. */
  maxInFlight: number;
}

/** Sends at a fixed rate whatever the answers do, on a timer, measuring from the schedule. */
export async function runWebhookOpenLoop(
  target: WebhookTarget,
  deliveries: readonly Delivery[],
  options: { ratePerS: number; durationMs: number },
): Promise<OpenLoopResult> {
  const total = Math.min(deliveries.length, Math.floor((options.ratePerS * options.durationMs) / 1000));
  const intervalMs = 1000 / options.ratePerS;
  // Never the bottleneck: an open loop opens a connection rather than wait for one.
  const agent = webhookAgent(1024);
  const latency = new LatencyLog();
  const statuses: Record<string, number> = {};
  const pending: Promise<void>[] = [];
  let errors = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let maxSendLagMs = 0;
  const start = performance.now() + 5;
  const send = (index: number, scheduled: number) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    pending.push(
      deliver(agent, target, deliveries[index]!).then((status) => {
        inFlight--;
        latency.add(performance.now() - scheduled);
        statuses[status] = (statuses[status] ?? 0) + 1;
        if (status < 200 || status >= 300) errors++;
      }),
    );
  };
  for (let index = 0; index < total; ) {
    const now = performance.now();
    while (index < total && start + index * intervalMs <= now) {
      const scheduled = start + index * intervalMs;
      maxSendLagMs = Math.max(maxSendLagMs, now - scheduled);
      send(index++, scheduled);
    }
    if (index < total) await sleep(Math.max(0, Math.min(intervalMs, start + index * intervalMs - performance.now())));
  }
  await Promise.all(pending);
  const seconds = (performance.now() - start) / 1000;
  agent.destroy();
  return {
    target: target.name,
    offeredPerS: options.ratePerS,
    sent: total,
    seconds: round(seconds),
    answeredPerS: round((total - errors) / seconds, 1),
    latencyMs: latency.summary(),
    errors,
    statuses,
    maxSendLagMs: round(maxSendLagMs),
    maxInFlight,
  };
}
