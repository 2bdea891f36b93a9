import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/**
 * Request-duration buckets in seconds: from a cached read (5 ms) to a 10,000-row roster import
 * (tens of seconds), dense around the 100 ms–1 s range where command latency lives.
 */
export const httpDurationBucketsSeconds: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

/** Route label for requests that matched no route: one series, not one per scanned URL. */
export const unmatchedRoute = 'unmatched';

export interface ServiceMetrics {
  /** The service's registry; services register their own metrics here (`registers: [registry]`). */
  registry: Registry;
  httpRequestDuration: Histogram<'method' | 'route' | 'status_code'>;
}

/**
 * A registry per app (not prom-client's global one), so two apps in one process (tests) do not
 * collide, with default process metrics and the HTTP histogram. Every series carries `service`.
 */
export function createMetrics(service: string): ServiceMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  const httpRequestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route pattern and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [...httpDurationBucketsSeconds],
    registers: [registry],
  });
  return { registry, httpRequestDuration };
}
