import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type RawServerDefault,
} from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  isResponseSerializationError,
  jsonSchemaTransform,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { z } from 'zod';
import { $ZodType, safeParse, toJSONSchema } from 'zod/v4/core';
import { authenticator, hooksRequireToken, markRequiresToken, type TokenCacheOptions } from './auth';
import type { LogLevel, TrustProxy } from './config';
import {
  type ErrorResponse,
  internalErrorCode,
  isRejection,
  Rejection,
  type ValidationIssue,
} from './errors';
import { Readiness } from './health';
import { createLogger } from './logger';
import { createMetrics, type ServiceMetrics, unmatchedRoute } from './metrics';
import { securityHeaders } from './security-headers';
import { serializerCompiler, type ZodTypeProvider } from './type-provider';
import { temporaryUnavailability } from './unavailable';

/**
 * Default request body limit. Commands are a few kilobytes; 1 MiB leaves room for a batch of
 * a few thousand rows while refusing a runaway upload early. A roster-import route that needs
 * more declares its own `bodyLimit`.
 */
export const bodyLimitBytesDefault = 1_048_576;

/**
 * Longest a request may take, headers to last byte of body. Large enough for a slow county
 * uplink sending a full roster; small enough that a stalled client cannot hold a socket forever.
 */
export const requestTimeoutMs = 120_000;

/**
 * Issues listed in one validation_failed answer. A batch body (a roster of thousands of rows)
 * can fail on every row; past this many the answer says how many there were instead of growing
 * to megabytes. A client fixing its input works through the first thousand anyway.
 */
export const validationIssuesMax = 1_000;

/** Incoming `x-request-id` values we trust as correlation ids: short, printable, no spaces. */
const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;
export const requestIdHeader = 'x-request-id';

/** The validation order fastify uses; it stops at the first failing part. */
const requestParts = ['params', 'body', 'querystring', 'headers'] as const;
type RequestPart = (typeof requestParts)[number];

export interface AppOptions {
  /** Service name: logs, metrics label, OpenAPI title. */
  name: string;
  version: string;
  /** One paragraph for the OpenAPI document. */
  description: string;
  /** A ready logger; default: {@link createLogger} at `logLevel`. */
  logger?: Logger;
  logLevel?: LogLevel;
  /**
   * `{ secret }` enables bearer tokens (`app.authenticate`, `requireRole`); `false` for public-only
   * services. Verified tokens are remembered for a minute (`tokenCache`, decision 0044); `false`
   * verifies every request's signature.
   */
  auth: { secret: string; tokenCache?: TokenCacheOptions | false } | false;
  bodyLimitBytes?: number;
  /**
   * Which peers may name the client's address in `X-Forwarded-For` (`request.ip`, per-address rate
   * limits, logs): see {@link TrustProxy}. Default `false`: the peer is the client.
   */
  trustProxy?: TrustProxy;
}

export type App = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  ZodTypeProvider
>;

declare module 'fastify' {
  interface FastifyInstance {
    /** Named readiness checks behind `/ready`; plugins and services add theirs. */
    readiness: Readiness;
    /** The service's Prometheus registry and the kit's HTTP metrics. */
    metrics: ServiceMetrics;
    /** Set by runService on the first shutdown signal: `/ready` answers 503 from then on. */
    shuttingDown: boolean;
  }
}

/**
 * Text no request may carry: U+0000, which PostgreSQL cannot store (text, jsonb), and an unpaired
 * UTF-16 surrogate, which has no UTF-8 form and which the canonical event encoding refuses.
 */
const unstorableText = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Where a parsed request part holds unstorable text (in a string or a key), as a JSON-pointer-like
 * path, with the reason; undefined when it holds none. Iterative: a body may be nested far deeper
 * than the call stack.
 */
export function unstorableTextPath(value: unknown): { path: string; nul: boolean } | undefined {
  const found = (text: string, path: string) => {
    const match = unstorableText.exec(text);
    return match === null ? undefined : { path, nul: match[0] === '\u0000' };
  };
  const pending: Array<[unknown, string]> = [[value, '']];
  while (pending.length > 0) {
    const [current, path] = pending.pop()!;
    if (typeof current === 'string') {
      const hit = found(current, path || '/');
      if (hit) return hit;
    } else if (Array.isArray(current)) {
      for (let i = 0; i < current.length; i++) pending.push([current[i], `${path}/${i}`]);
    } else if (current !== null && typeof current === 'object') {
      for (const [key, inner] of Object.entries(current)) {
        const hit = found(key, `${path}/${encodeURIComponent(key.replace(unstorableText, '?'))}`);
        if (hit) return hit;
        pending.push([inner, `${path}/${key}`]);
      }
    }
  }
  return undefined;
}

/** JSON.stringify replacer: a bigint (money in fen) leaves as a string of digits, never as a number. */
function bigintAsDigits(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

function hasResponseSchema(responses: unknown, status: number): boolean {
  if (typeof responses !== 'object' || responses === null) return false;
  return [String(status), `${Math.floor(status / 100)}xx`, 'default'].some((key) =>
    Object.hasOwn(responses, key),
  );
}

function errorBody(code: string, message: string, details: Record<string, unknown> = {}): ErrorResponse {
  // Details come from deciders and may hold bigint amounts; error replies often have no schema.
  return { error: { code, message, details: JSON.parse(JSON.stringify(details, bigintAsDigits)) } };
}

function issuesOf(
  part: string,
  issues: readonly { path: readonly PropertyKey[]; message: string; code: string }[],
) {
  return issues.map(
    (issue): ValidationIssue => ({
      in: part,
      path: `/${issue.path.map(String).join('/')}`,
      message: issue.message,
      code: issue.code,
    }),
  );
}

/**
 * Every issue of the request, not just the first failing part's: fastify stops at the first
 * part that fails, so the parts after it (still raw) are checked here against the same schemas.
 */
function allValidationIssues(request: FastifyRequest, failedPart: string, failed: ValidationIssue[]) {
  const issues = [...failed];
  const schema = request.routeOptions.schema as Partial<Record<RequestPart, unknown>> | undefined;
  const raw: Record<RequestPart, unknown> = {
    params: request.params,
    body: request.body,
    querystring: request.query,
    headers: request.headers,
  };
  const failedIndex = requestParts.indexOf(failedPart as RequestPart);
  for (const part of requestParts.slice(failedIndex + 1)) {
    const partSchema = schema?.[part];
    if (!(partSchema instanceof $ZodType)) continue;
    const result = safeParse(partSchema, raw[part]);
    if (!result.success) issues.push(...issuesOf(part, result.error.issues));
  }
  return issues;
}

/** The refusal of a request carrying text no store can hold, or undefined. */
function unstorableTextRejection(request: FastifyRequest): Rejection | undefined {
  for (const [part, value] of [
    ['params', request.params],
    ['querystring', request.query],
    ['body', request.body],
  ] as const) {
    const hit = unstorableTextPath(value);
    if (hit === undefined) continue;
    const issue: ValidationIssue = hit.nul
      ? {
          in: part,
          path: hit.path,
          message: 'must not contain the character U+0000 (NUL)',
          code: 'nul_character',
        }
      : {
          in: part,
          path: hit.path,
          message: 'must be well-formed Unicode (an unpaired UTF-16 surrogate has no UTF-8 form)',
          code: 'unpaired_surrogate',
        };
    return new Rejection(
      'validation_failed',
      'The request has 1 invalid field(s)',
      { issues: [issue], issuesTotal: 1 },
      400,
    );
  }
  return undefined;
}

const contentTypeCodes: Readonly<Record<string, [code: string, status: number]>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: ['payload_too_large', 413],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ['unsupported_media_type', 415],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ['malformed_request', 400],
  FST_ERR_CTP_EMPTY_JSON_BODY: ['malformed_request', 400],
  FST_ERR_CTP_INVALID_JSON_BODY: ['malformed_request', 400],
};

/** The one error handler: every failure leaves as `{ error: { code, message, details } }`. */
function handleError(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (isRejection(error)) {
    request.log.info({ code: error.code, status: error.status }, 'request rejected');
    return reply
      .status(error.status)
      .headers(error.headers)
      .send(errorBody(error.code, error.message, error.details));
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const part = error.validationContext ?? 'body';
    const failed = error.validation.map(
      (issue): ValidationIssue => ({
        in: part,
        path: issue.instancePath || '/',
        message: issue.message ?? 'is invalid',
        code: issue.keyword,
      }),
    );
    const issues = allValidationIssues(request, part, failed);
    const details =
      issues.length > validationIssuesMax
        ? { issues: issues.slice(0, validationIssuesMax), issuesTotal: issues.length, truncated: true }
        : { issues, issuesTotal: issues.length };
    return reply
      .status(400)
      .send(errorBody('validation_failed', `The request has ${issues.length} invalid field(s)`, details));
  }
  const unavailable = temporaryUnavailability(error);
  if (unavailable) {
    // NATS or PostgreSQL is away or refuses writes (a dropped connection, a frozen server, a
    // read-only database): temporary, and safe to retry; commands keep their command id.
    request.log.warn({ err: error, code: unavailable.code }, 'dependency unavailable');
    return reply
      .status(503)
      .header('retry-after', String(unavailable.retryAfterSeconds))
      .send(errorBody(unavailable.code, unavailable.message));
  }
  if (isResponseSerializationError(error)) {
    // The handler produced something its own contract forbids: a bug, never the client's fault.
    request.log.error({ err: error, issues: error.cause.issues }, 'response does not match its schema');
  } else {
    const known = error.code ? contentTypeCodes[error.code] : undefined;
    if (known) {
      const [code, status] = known;
      const details = code === 'payload_too_large' ? { limitBytes: request.routeOptions.bodyLimit } : {};
      return reply.status(status).send(errorBody(code, error.message, details));
    }
    if (error.statusCode === 429) {
      return reply.status(429).send(errorBody('too_many_requests', 'Too many requests; retry later'));
    }
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      // A client error raised by fastify itself or a plugin (not by our code): its message is for clients.
      return reply.status(error.statusCode).send(errorBody('malformed_request', error.message));
    }
    request.log.error({ err: error }, 'request failed');
  }
  return reply.status(500).send(
    errorBody(internalErrorCode, 'An internal error occurred; quote the request id when reporting it', {
      requestId: request.id,
    }),
  );
}

/**
 * fastify-type-provider-zod documents responses with the schema's *output* side; our serializer
 * encodes, so the wire form is the *input* side (a fen codec is a string of digits on the wire,
 * a bigint in code). Requests go through the library's transform unchanged.
 */
const openApiTransform: typeof jsonSchemaTransform = (input) => {
  const { schema } = input;
  if (!schema?.response || (schema as { hide?: boolean }).hide) return jsonSchemaTransform(input);
  const { response, ...rest } = schema;
  const transformed = jsonSchemaTransform({ ...input, schema: rest } as typeof input);
  const documented: Record<string, unknown> = {};
  for (const [status, responseSchema] of Object.entries(response as Record<string, unknown>)) {
    if (!(responseSchema instanceof $ZodType))
      throw new Error(`Response ${status} of ${input.url} is not a zod schema`);
    const { $schema: _dialect, ...json } = toJSONSchema(responseSchema, {
      io: 'input',
      target: 'draft-2020-12',
      unrepresentable: 'any',
    }) as Record<string, unknown>;
    documented[status] = json;
  }
  return { ...transformed, schema: { ...transformed.schema, response: documented } };
};

const healthResponse = z.object({ status: z.literal('ok'), service: z.string(), version: z.string() });
const readyResponse = z.object({
  status: z.enum(['ready', 'not_ready']),
  checks: z.record(z.string(), z.enum(['ok', 'failed', 'timed_out'])),
  failing: z.array(z.string()),
});

/**
 * The fastify app every service builds on (STYLE 1: `app.ts` builds, `main.ts` listens):
 * zod validation and serialization, OpenAPI at `/openapi.json` and docs at `/docs`, security
 * headers, body limit, request ids, one error format, redacting logs, `/health`, `/ready`,
 * `/metrics`, and bearer auth. Register routes after awaiting it.
 */
export async function createApp(options: AppOptions): Promise<App> {
  const logger = options.logger ?? createLogger({ name: options.name, level: options.logLevel ?? 'info' });
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: options.bodyLimitBytes ?? bodyLimitBytesDefault,
    // A copy: proxy-addr gets a plain array, never the frozen config's.
    trustProxy:
      typeof options.trustProxy === 'object' ? [...options.trustProxy] : (options.trustProxy ?? false),
    requestTimeout: requestTimeoutMs,
    requestIdHeader: false,
    genReqId: (request) => {
      const incoming = request.headers[requestIdHeader];
      return typeof incoming === 'string' && requestIdPattern.test(incoming) ? incoming : randomUUID();
    },
    // A URL that is not valid percent-encoding (a stray %, a lone surrogate) fails before routing,
    // where the error handler never sees it; without this it leaves in fastify's own error format.
    frameworkErrors: (_error, _request, reply) => {
      void (reply as FastifyReply)
        .status(400)
        .send(errorBody('malformed_request', 'The URL is not valid percent-encoded UTF-8'));
    },
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // Replies without a response schema for their status get the same bigint rule; replies with
  // one are encoded by it (setReplySerializer would override the schema's serializer).
  // The kit's hooks take fastify's callback form: an async hook costs every request a promise and
  // a microtask turn per hook (decision 0046).
  app.addHook('preSerialization', (request, reply, payload, done) => {
    if (hasResponseSchema(request.routeOptions.schema?.response, reply.statusCode))
      return done(null, payload);
    let plain: unknown;
    try {
      plain = JSON.parse(JSON.stringify(payload, bigintAsDigits));
    } catch (error) {
      return done(error as Error);
    }
    done(null, plain);
  });
  app.setErrorHandler(handleError);
  // Text PostgreSQL or the canonical encoding cannot hold (U+0000, an unpaired surrogate): a command
  // carrying it was appended and then stopped the projection of its partition for good, or failed
  // in the encoder as a 500. No request may carry it.
  app.addHook('preValidation', (request, _reply, done) => {
    const rejection = unstorableTextRejection(request);
    if (rejection === undefined) done();
    else done(rejection);
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send(
      errorBody('not_found', `No route ${request.method} ${request.url.split('?')[0]}`, {
        method: request.method,
      }),
    ),
  );

  app.decorate('readiness', new Readiness());
  app.decorate('metrics', createMetrics(options.name));
  app.decorate('shuttingDown', false);
  app.decorateRequest('user', null);
  if (options.auth) {
    app.decorate('authenticate', authenticator(options.auth.secret, options.auth.tokenCache));
  } else {
    // Marked too, so a route using it is refused at startup; only a direct call could reach the throw.
    app.decorate(
      'authenticate',
      markRequiresToken(async () => {
        throw new Error(`${options.name} was created without auth, but a route requires a token`);
      }),
    );
  }

  // Routes guarded by app.authenticate / requireRole: documented as needing a bearer token, and
  // impossible in an app without auth (a startup error, not a 500 on the first request).
  app.addHook('onRoute', (route) => {
    if (
      !hooksRequireToken(route.onRequest) &&
      !hooksRequireToken(route.preHandler) &&
      !hooksRequireToken(route.preValidation)
    ) {
      return;
    }
    if (!options.auth)
      throw new Error(`${options.name} has no auth, but ${route.method} ${route.url} requires a token`);
    const schema = (route.schema ?? {}) as { security?: unknown };
    if (schema.security === undefined) route.schema = { ...schema, security: [{ bearerAuth: [] }] };
  });

  app.addHook('onSend', (request, reply, _payload, done) => {
    reply.header(requestIdHeader, request.id);
    // During a graceful shutdown a kept-alive socket would hold server.close() open until the
    // client's idle timeout; telling the client to close it lets in-flight work finish cleanly.
    if (app.shuttingDown) reply.header('connection', 'close');
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    app.metrics.httpRequestDuration.observe(
      {
        method: request.method,
        route: request.is404 ? unmatchedRoute : (request.routeOptions.url ?? unmatchedRoute),
        status_code: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
    done();
  });

  securityHeaders(app);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: options.name, description: options.description, version: options.version },
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
    },
    transform: openApiTransform,
  });
  // staticCSP: the docs page needs swagger-ui's script and style hashes, the rest keeps helmet's policy.
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.get(
    '/health',
    { schema: { summary: 'The process is alive', tags: ['operations'], response: { 200: healthResponse } } },
    async () => ({ status: 'ok' as const, service: options.name, version: options.version }),
  );

  app.get(
    '/ready',
    {
      schema: {
        summary: 'Every dependency answers (NATS, PostgreSQL, service checks)',
        tags: ['operations'],
        response: { 200: readyResponse, 503: readyResponse },
      },
    },
    async (request, reply) => {
      const report = await app.readiness.run();
      if (app.shuttingDown) {
        report.ready = false;
        report.failing = [...report.failing, 'shutting_down'].sort();
      }
      if (!report.ready) {
        request.log.warn({ failing: report.failing, errors: report.errors }, 'not ready');
      }
      return reply.status(report.ready ? 200 : 503).send({
        status: report.ready ? 'ready' : 'not_ready',
        checks: report.checks,
        failing: report.failing,
      });
    },
  );

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const body = await app.metrics.registry.metrics();
    return reply.type(app.metrics.registry.contentType).send(body);
  });

  return app;
}
