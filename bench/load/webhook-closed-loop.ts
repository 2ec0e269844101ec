import { LatencyLog, round, type LatencySummary } from '../support/latency';
import { deliver, webhookAgent, type WebhookTarget } from './webhook-client';
import type { Delivery } from './webhook-events';

export interface ClosedLoopResult {
  target: string;
  concurrency: number;
  requests: number;
  seconds: number;
  requestsPerS: number;
  latencyMs: LatencySummary;
  /** Non-2xx answers and requests with no answer. */
  errors: number;
  statuses: Record<string, number>;
  /** The pre-generated deliveries ran out before the duration did; the phase ended early. */
  exhausted: boolean;
}

/**
 * `concurrency` requests in flight at all times for `durationMs`: each worker sends the next
 * delivery as soon as its previous one is answered.
 */
export async function runWebhookClosedLoop(
  target: WebhookTarget,
  deliveries: readonly Delivery[],
  options: { concurrency: number; durationMs: number },
): Promise<ClosedLoopResult> {
  const agent = webhookAgent(options.concurrency);
  const latency = new LatencyLog();
  const statuses: Record<string, number> = {};
  let next = 0;
  let errors = 0;
  const started = performance.now();
  const deadline = started + options.durationMs;
  const worker = async () => {
    while (performance.now() < deadline && next < deliveries.length) {
      const delivery = deliveries[next++]!;
      const sent = performance.now();
      const status = await deliver(agent, target, delivery);
      latency.add(performance.now() - sent);
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status < 200 || status >= 300) errors++;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return {
    target: target.name,
    concurrency: options.concurrency,
    requests: latency.count,
    seconds: round(seconds),
    requestsPerS: round(latency.count / seconds, 1),
    latencyMs: latency.summary(),
    errors,
    statuses,
    exhausted: next >= deliveries.length && performance.now() < deadline,
  };
}
