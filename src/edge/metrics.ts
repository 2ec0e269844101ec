import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export interface EdgeMetrics {
  /** The edge's own registry: several apps in one process (tests) never share or clash. */
  registry: Registry;
  webhooks: Counter<'event_type' | 'outcome' | 'status'>;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  grpcDuration: Histogram<'method' | 'code'>;
}

export function createEdgeMetrics(): EdgeMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    webhooks: new Counter({
      name: 'edge_webhooks_total',
      help: 'Stripe webhook deliveries by event type, outcome and HTTP status answered',
      labelNames: ['event_type', 'outcome', 'status'],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'edge_http_request_duration_seconds',
      help: 'HTTP request duration by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    grpcDuration: new Histogram({
      name: 'edge_credits_grpc_duration_seconds',
      help: 'CreditsService call duration as seen by the edge, per attempt, by method and gRPC code',
      labelNames: ['method', 'code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
  };
}
