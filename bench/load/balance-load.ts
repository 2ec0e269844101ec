import * as grpc from '@grpc/grpc-js';
import type { CreditsServiceClient } from '../../src/grpc/client';
import { LatencyLog, round, type LatencySummary } from '../support/latency';

export interface BalanceLoadResult {
  target: string;
  concurrency: number;
  calls: number;
  seconds: number;
  callsPerS: number;
  latencyMs: LatencySummary;
  errors: number;
  codes: Record<string, number>;
}

const CALL_DEADLINE_MS = 5_000;

function getBalance(client: CreditsServiceClient, identifier: string): Promise<grpc.status> {
  return new Promise((resolve) => {
    client.GetBalance({ identifier }, { deadline: Date.now() + CALL_DEADLINE_MS }, (error) => resolve(error ? error.code : grpc.status.OK));
  });
}

/** `concurrency` GetBalance calls in flight at all times over the given identifiers, for `durationMs`. */
export async function runBalanceLoad(
  target: string,
  client: CreditsServiceClient,
  identifiers: readonly string[],
  options: { concurrency: number; durationMs: number },
): Promise<BalanceLoadResult> {
  const latency = new LatencyLog();
  const codes: Record<string, number> = {};
  let errors = 0;
  let next = 0;
  const started = performance.now();
  const deadline = started + options.durationMs;
  const worker = async () => {
    while (performance.now() < deadline) {
      const identifier = identifiers[next++ % identifiers.length]!;
      const sent = performance.now();
      const code = await getBalance(client, identifier);
      latency.add(performance.now() - sent);
      const name = grpc.status[code] ?? String(code);
      codes[name] = (codes[name] ?? 0) + 1;
      if (code !== grpc.status.OK) errors++;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  return {
    target,
    concurrency: options.concurrency,
    calls: latency.count,
    seconds: round(seconds),
    callsPerS: round(latency.count / seconds, 1),
    latencyMs: latency.summary(),
    errors,
    codes,
  };
}
