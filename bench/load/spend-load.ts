import * as grpc from '@grpc/grpc-js';
import type { CreditsServiceClient } from '../../src/grpc/client';
import { LatencyLog, round } from '../support/latency';
import type { BalanceLoadResult } from './balance-load';

export interface SpendLoadResult extends BalanceLoadResult {
  /** Idempotency keys of the spends answered OK, for the spend check. */
  okKeys: number;
}

const CALL_DEADLINE_MS = 5_000;

function spendOne(client: CreditsServiceClient, identifier: string, key: string): Promise<grpc.status> {
  return new Promise((resolve) => {
    client.SpendCredits({ identifier, amount: '1', idempotency_key: key, description: 'bench' }, { deadline: Date.now() + CALL_DEADLINE_MS }, (error) =>
      resolve(error ? error.code : grpc.status.OK),
    );
  });
}

/**
 * `concurrency` SpendCredits calls of 1 credit in flight at all times for `durationMs`, each with a
 * fresh idempotency key `${keyPrefix}-<n>`, spread over the given users in turn.
 */
export async function runSpendLoad(
  target: string,
  client: CreditsServiceClient,
  identifiers: readonly string[],
  options: { concurrency: number; durationMs: number; keyPrefix: string },
): Promise<SpendLoadResult> {
  const latency = new LatencyLog();
  const codes: Record<string, number> = {};
  let errors = 0;
  let next = 0;
  const started = performance.now();
  const deadline = started + options.durationMs;
  const worker = async () => {
    while (performance.now() < deadline) {
      const n = next++;
      const sent = performance.now();
      const code = await spendOne(client, identifiers[n % identifiers.length]!, `${options.keyPrefix}-${n}`);
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
    okKeys: codes.OK ?? 0,
  };
}
