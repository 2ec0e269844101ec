import * as grpc from '@grpc/grpc-js';
import type { CreditsServiceClient } from '../../src/grpc/client';
import { LatencyLog, round, type LatencySummary } from '../support/latency';

export interface UnaryLoadResult {
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

/** One unary call; `n` numbers the calls of a run (a fresh idempotency key per call, a user in turn). */
type UnaryCall = (client: CreditsServiceClient, n: number, done: (error: grpc.ServiceError | null) => void, options: grpc.CallOptions) => void;

/** `concurrency` calls in flight at all times for `durationMs`. */
async function runUnaryLoad(target: string, client: CreditsServiceClient, call: UnaryCall, options: { concurrency: number; durationMs: number }): Promise<UnaryLoadResult> {
  const latency = new LatencyLog();
  const codes: Record<string, number> = {};
  let errors = 0;
  let next = 0;
  const started = performance.now();
  const deadline = started + options.durationMs;
  const once = (n: number) =>
    new Promise<grpc.status>((resolve) => call(client, n, (error) => resolve(error ? error.code : grpc.status.OK), { deadline: Date.now() + CALL_DEADLINE_MS }));
  const worker = async () => {
    while (performance.now() < deadline) {
      const sent = performance.now();
      const code = await once(next++);
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

/** GetBalance over the given identifiers in turn. */
export function runBalanceLoad(target: string, client: CreditsServiceClient, identifiers: readonly string[], options: { concurrency: number; durationMs: number }) {
  return runUnaryLoad(target, client, (c, n, done, callOptions) => c.GetBalance({ identifier: identifiers[n % identifiers.length]! }, callOptions, done), options);
}

/**
 * SpendCredits of 1 credit, each with a fresh idempotency key `${keyPrefix}-<n>`, over the given
 * users in turn. The OK count is what the spend check expects in the ledger.
 */
export function runSpendLoad(
  target: string,
  client: CreditsServiceClient,
  identifiers: readonly string[],
  options: { concurrency: number; durationMs: number; keyPrefix: string },
) {
  return runUnaryLoad(
    target,
    client,
    (c, n, done, callOptions) =>
      c.SpendCredits({ identifier: identifiers[n % identifiers.length]!, amount: '1', idempotency_key: `${options.keyPrefix}-${n}`, description: 'bench' }, callOptions, done),
    options,
  );
}
