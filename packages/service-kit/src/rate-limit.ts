import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';

/** The kit's endpoints for monitoring: one scraper probes them often, from one address. */
export const operationsRoutes: ReadonlySet<string> = new Set(['/health', '/ready', '/metrics']);

/** The window of {@link limitPerAddress}: limits read as "requests per minute". */
export const rateLimitWindowMs = 60_000;

/**
 * Limits every route of a public service to `perMinute` requests per client address, operations
 * endpoints excepted; beyond it the one error handler answers 429 `too_many_requests` (with
 * `retry-after`). A route may set its own, lower limit in `config.rateLimit` (the objection form).
 * Behind a reverse proxy the proxy must pass the client's address and the service must trust it
 * (`TRUST_PROXY`, createApp's `trustProxy`), or all readers share the proxy's one budget.
 */
export async function limitPerAddress(app: FastifyInstance, perMinute: number): Promise<void> {
  if (!Number.isInteger(perMinute) || perMinute < 1)
    throw new RangeError('perMinute must be a positive integer');
  await app.register(rateLimit, {
    global: true,
    max: perMinute,
    timeWindow: rateLimitWindowMs,
    allowList: (request) => operationsRoutes.has(request.routeOptions.url ?? ''),
  });
}
