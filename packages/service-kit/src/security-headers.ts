import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';

/**
 * The response headers helmet's middleware sets with these options, in the order it sets them,
 * worked out once. Every directive of our configuration is a constant (no per-request nonce or
 * function), so every response gets the same set.
 */
export function helmetHeaders(
  options: Readonly<HelmetOptions> = {},
): ReadonlyArray<readonly [string, string]> {
  const headers = new Map<string, string>();
  const recorder = {
    setHeader(name: string, value: unknown) {
      headers.set(name.toLowerCase(), String(value));
    },
    removeHeader(name: string) {
      headers.delete(name.toLowerCase());
    },
  };
  let called = false;
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error;
    called = true;
  });
  if (!called) throw new Error('helmet did not finish synchronously; its headers depend on the request');
  return [...headers];
}

/**
 * helmet's security headers on every response, set on the raw response in onRequest as
 * @fastify/helmet does (so a later hook or route may still change one). @fastify/helmet rebuilt
 * the thirteen middlewares of `helmet(options)` on every request, behind two hooks (one async);
 * here they are built once and each request sets the ready values (decision 0046).
 */
export function securityHeaders(app: FastifyInstance, options: Readonly<HelmetOptions> = {}): void {
  const headers = helmetHeaders(options);
  app.addHook('onRequest', (_request, reply, done) => {
    const raw = reply.raw;
    for (const [name, value] of headers) raw.setHeader(name, value);
    done();
  });
}
