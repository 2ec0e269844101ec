import type { BenchOptions } from '../options';
import { phaseCpu, type CpuMeter, type PhaseCpu } from '../support/cpu';
import { deliver, webhookAgent, type WebhookTarget } from './webhook-client';
import { runWebhookClosedLoop, type ClosedLoopResult } from './webhook-closed-loop';
import { planDeliveries, settleBook, signDelivery, type Buyer, type WebhookBook } from './webhook-events';
import { runWebhookOpenLoop, type OpenLoopResult } from './webhook-open-loop';

export interface WebhookLoad {
  target: WebhookTarget;
  book: WebhookBook;
  buyers: readonly Buyer[];
  secret: string;
  random: () => number;
  options: BenchOptions;
  log: (message: string) => void;
  cpu: CpuMeter;
  /** The process groups that serve this target (plus the load generator, 'bench'). */
  cpuGroups: string[];
}

const plan = (load: WebhookLoad, count: number) =>
  planDeliveries(load.book, { count, buyers: load.buyers, secret: load.secret, redeliveryRate: load.options.redeliveryRate, random: load.random });

/**
 * A warm-up, then the timed closed loop. The warm-up's rate sizes the timed phase's
 * pre-generated deliveries, so a slow target does not hold hundreds of MB of unused bodies.
 */
export async function closedLoopPhase(load: WebhookLoad): Promise<ClosedLoopResult & { cpu: PhaseCpu }> {
  const { options, target } = load;
  let expected = 500;
  if (options.warmupS > 0) {
    const warm = await runWebhookClosedLoop(target, plan(load, Math.max(1_000, options.warmupS * 3_000)), {
      concurrency: options.concurrency,
      durationMs: options.warmupS * 1000,
    });
    load.log(`  ${target.name}: warm-up ${warm.requestsPerS} req/s`);
    settleBook(load.book);
    expected = Math.max(expected, warm.requestsPerS);
  }
  const deliveries = plan(load, Math.ceil(expected * options.durationS * 1.6) + 1_000);
  const measured = load.cpu.start();
  const result = await runWebhookClosedLoop(target, deliveries, { concurrency: options.concurrency, durationMs: options.durationS * 1000 });
  const cpu = phaseCpu(measured(), result.requests, load.cpuGroups);
  settleBook(load.book);
  load.log(`  ${target.name}: closed loop ${result.requestsPerS} req/s, p99 ${result.latencyMs.p99} ms, ${result.errors} errors, CPU ms/request ${JSON.stringify(cpu.msPerRequest)}`);
  return { ...result, cpu };
}

/** A warm-up at the offered rate (connections, JIT), then the timed open loop. */
export async function openLoopPhase(load: WebhookLoad): Promise<OpenLoopResult & { cpu: PhaseCpu }> {
  const { options, target } = load;
  if (options.warmupS > 0) {
    await runWebhookOpenLoop(target, plan(load, Math.ceil(options.rate * options.warmupS)), { ratePerS: options.rate, durationMs: options.warmupS * 1000 });
    settleBook(load.book);
  }
  const deliveries = plan(load, Math.ceil(options.rate * options.durationS));
  const measured = load.cpu.start();
  const result = await runWebhookOpenLoop(target, deliveries, { ratePerS: options.rate, durationMs: options.durationS * 1000 });
  const cpu = phaseCpu(measured(), result.sent, load.cpuGroups);
  settleBook(load.book);
  load.log(`  ${target.name}: open loop ${result.answeredPerS}/s answered, p99 ${result.latencyMs.p99} ms, ${result.errors} errors`);
  return { ...result, cpu };
}

/** As Stripe would: events never answered 2xx are delivered again (freshly signed) until they are. */
export async function redeliverUnanswered(load: WebhookLoad, rounds = 3): Promise<number> {
  const agent = webhookAgent(8);
  let resent = 0;
  try {
    for (let round = 0; round < rounds; round++) {
      const unanswered = [...load.book.values()].filter((event) => !event.answered);
      if (unanswered.length === 0) break;
      for (const event of unanswered) {
        await deliver(agent, load.target, signDelivery(event, load.secret));
        resent++;
      }
    }
  } finally {
    agent.destroy();
  }
  return resent;
}
