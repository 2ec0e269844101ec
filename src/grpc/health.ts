import { status as grpcStatus, type ServerUnaryCall, type ServerWritableStream, type sendUnaryData } from '@grpc/grpc-js';
import type { HealthCheckRequest__Output } from '../contract/generated/grpc/health/v1/HealthCheckRequest.js';
import type { HealthCheckResponse } from '../contract/generated/grpc/health/v1/HealthCheckResponse.js';
import type { HealthHandlers } from '../contract/generated/grpc/health/v1/Health.js';

export type ServingStatus = 'SERVING' | 'NOT_SERVING';

/** grpc.health.v1 for the server-wide name '' and each service name registered. */
export class HealthService {
  private readonly statuses = new Map<string, ServingStatus>();
  private readonly watchers = new Map<string, Set<ServerWritableStream<HealthCheckRequest__Output, HealthCheckResponse>>>();

  constructor(serviceNames: readonly string[]) {
    for (const name of ['', ...serviceNames]) this.statuses.set(name, 'NOT_SERVING');
  }

  /** Sets every registered name at once: this server's services live or die with its database. */
  setAll(status: ServingStatus): void {
    for (const name of this.statuses.keys()) {
      if (this.statuses.get(name) === status) continue;
      this.statuses.set(name, status);
      for (const call of this.watchers.get(name) ?? []) call.write({ status });
    }
  }

  get(service = ''): ServingStatus | undefined {
    return this.statuses.get(service);
  }

  readonly handlers: HealthHandlers = {
    Check: (call: ServerUnaryCall<HealthCheckRequest__Output, HealthCheckResponse>, callback: sendUnaryData<HealthCheckResponse>) => {
      const status = this.statuses.get(call.request.service);
      if (status === undefined) {
        callback({ code: grpcStatus.NOT_FOUND, details: `unknown service ${call.request.service}` });
        return;
      }
      callback(null, { status });
    },
    Watch: (call: ServerWritableStream<HealthCheckRequest__Output, HealthCheckResponse>) => {
      const name = call.request.service;
      const watchers = this.watchers.get(name) ?? new Set();
      this.watchers.set(name, watchers);
      watchers.add(call);
      call.on('cancelled', () => watchers.delete(call));
      call.write({ status: this.statuses.get(name) ?? 'SERVICE_UNKNOWN' });
    },
  };

  /** Ends open Watch streams so a closing server is not held open by them. */
  endWatches(): void {
    for (const watchers of this.watchers.values()) {
      for (const call of watchers) call.end();
      watchers.clear();
    }
  }
}
