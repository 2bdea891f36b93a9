import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, createApp, createLogger, requireRole, signToken, validationIssuesMax } from '../src/index';
import { helmetHeaders } from '../src/security-headers';
import { type logCapture, sampleApp, secret } from './sample-app';

let app: App;
let logs: ReturnType<typeof logCapture>;
let seen: { amountFen?: bigint };
let token: string;
const url = '/partitions/411325/payments';

beforeAll(async () => {
  ({ app, logs, seen } = await sampleApp());
  token = await signToken(
    secret,
    { sub: 'u1', role: 'finance', org: '内乡县财政局', partitions: ['411325'] },
    600,
  );
});
afterAll(async () => app.close());

const post = (body: unknown, path = url, headers: Record<string, string> = {}) =>
  app.inject({
    method: 'POST',
    url: path,
    headers: { authorization: `Bearer ${token}`, ...headers },
    payload: body as object,
  });

describe('zod routes', () => {
  it('decodes money strings to bigint for the handler, encodes bigint back, and strips undeclared fields', async () => {
    // 2^62 fen survives the trip into the handler exactly (and is then refused as too large).
    const huge = await post({ householdId: 'h-1', amountFen: '4611686018427387904', purpose: 'housing' });
    expect(huge.statusCode).toBe(409);
    expect(seen.amountFen).toBe(4611686018427387904n);

    const small = await post({ householdId: 'h-1', amountFen: '999999', purpose: 'housing' });
    expect(small.statusCode).toBe(201);
    expect(small.json()).toEqual({ paymentId: 'p-1', amountFen: '999999' });
    expect(small.body).not.toContain('internalNote');
  });
});

describe('bigint without a schema', () => {
  it('writes bigint as digits in schema-less replies and in rejection details', async () => {
    const money = await app.inject({ method: 'GET', url: '/schemaless-money' });
    expect(money.statusCode).toBe(200);
    expect(money.body).toBe('{"balanceFen":"4611686018427387904"}');
    const refused = await app.inject({ method: 'GET', url: '/refuse-with-bigint' });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.details).toEqual({ availableFen: '12', neededFen: '4611686018427387904' });
  });
});

describe('error mapping', () => {
  it('maps a declared rejection to its status and the error body', async () => {
    const response = await post({ householdId: 'h-1', amountFen: '1000001', purpose: 'housing' });
    expect(response.statusCode).toBe(409);
    expect(response.json()).toEqual({
      error: {
        code: 'insufficient_funds',
        message: 'The account holds less than the amount',
        details: { availableFen: '1000000' },
      },
    });
  });

  it('lists every validation issue, across body and querystring, with path and message', async () => {
    const response = await post(
      { householdId: '', amountFen: '12.50', purpose: 'beer' },
      `${url}?dryRun=maybe`,
    );
    expect(response.statusCode).toBe(400);
    const body = response.json();
    expect(body.error.code).toBe('validation_failed');
    const issues = body.error.details.issues as { in: string; path: string; message: string }[];
    expect(issues.map((issue) => `${issue.in} ${issue.path}`).sort()).toEqual([
      'body /amountFen',
      'body /householdId',
      'body /purpose',
      'querystring /dryRun',
    ]);
    expect(issues.find((issue) => issue.path === '/amountFen')?.message).toBe('must be a string of digits');
    expect(body.error.message).toBe('The request has 4 invalid field(s)');
  });

  it('lists at most validationIssuesMax issues and says how many there were', async () => {
    const rows = (n: number) => Array.from({ length: n }, () => ({ amountFen: 'x' }));
    const exactly = await app.inject({
      method: 'POST',
      url: '/batch',
      payload: { rows: rows(validationIssuesMax) },
    });
    expect(exactly.json().error.details).toMatchObject({ issuesTotal: validationIssuesMax });
    expect(exactly.json().error.details.issues).toHaveLength(validationIssuesMax);
    expect(exactly.json().error.details.truncated).toBeUndefined();
    const over = await app.inject({
      method: 'POST',
      url: '/batch',
      payload: { rows: rows(validationIssuesMax + 1) },
    });
    expect(over.statusCode).toBe(400);
    expect(over.json().error.details).toMatchObject({
      issuesTotal: validationIssuesMax + 1,
      truncated: true,
    });
    expect(over.json().error.details.issues).toHaveLength(validationIssuesMax);
    expect(over.json().error.details.issues[0]).toMatchObject({ in: 'body', path: '/rows/0/amountFen' });
  });

  it('reports a missing body field and a non-object body', async () => {
    const missing = await post({ householdId: 'h', purpose: 'housing' });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error.details.issues).toEqual([
      expect.objectContaining({ in: 'body', path: '/amountFen', code: 'invalid_type' }),
    ]);
    const array = await post([1, 2]);
    expect(array.statusCode).toBe(400);
    expect(array.json().error.details.issues[0]).toMatchObject({ in: 'body', path: '/' });
  });

  it('answers 404 not_found for an unknown route or method', async () => {
    for (const [method, path] of [
      ['GET', '/nope?idNumber=1'],
      ['DELETE', url],
    ] as const) {
      const response = await app.inject({ method, url: path });
      expect(response.statusCode).toBe(404);
      expect(response.json().error.code).toBe('not_found');
    }
  });

  it('refuses U+0000 and unpaired surrogates anywhere in a request (unstorable: appended, they stopped the projection)', async () => {
    const body = await post({ householdId: 'H1', note: { lines: ['ok', 'a\u0000b'] } });
    expect(body.statusCode).toBe(400);
    expect(body.json().error.code).toBe('validation_failed');
    expect(body.json().error.details.issues).toEqual([
      expect.objectContaining({ in: 'body', path: '/note/lines/1', code: 'nul_character' }),
    ]);
    const query = await app.inject({
      method: 'GET',
      url: '/nope-too?after=%00',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(query.statusCode).not.toBe(500);
    const key = await post('{"a\\u0000":1}', url, { 'content-type': 'application/json' });
    expect(key.statusCode).toBe(400);
    expect(key.json().error.details.issues[0].code).toBe('nul_character');
    const surrogate = await post({ householdId: 'H1', note: 'a\ud800b' });
    expect(surrogate.statusCode).toBe(400);
    expect(surrogate.json().error.details.issues[0]).toMatchObject({
      path: '/note',
      code: 'unpaired_surrogate',
    });
    // A well-formed pair (an emoji) is text like any other.
    expect(
      (await post({ householdId: 'H1', note: '👨‍👩‍👧' })).json().error?.details?.issues?.[0]?.code,
    ).not.toBe('unpaired_surrogate');
    // A body nested far deeper than the call stack is scanned without overflowing it.
    const deep = await post(`${'['.repeat(100_000)}${']'.repeat(100_000)}`, url, {
      'content-type': 'application/json',
    });
    expect(deep.statusCode).toBe(400);
    expect(deep.json().error.code).toBe('validation_failed');
  });

  it('answers 400 malformed_request in the one error shape for a URL that is not valid percent-encoding', async () => {
    for (const path of ['/partitions/%ED%A0%80/payments', '/partitions/41%/payments']) {
      const response = await app.inject({ method: 'GET', url: path });
      expect(response.statusCode).toBe(400);
      expect(response.json().error).toMatchObject({ code: 'malformed_request', details: {} });
    }
  });

  it('answers 400 malformed_request for broken JSON and 415 for an unsupported media type', async () => {
    const broken = await post('{"householdId": ', url, { 'content-type': 'application/json' });
    expect(broken.statusCode).toBe(400);
    expect(broken.json().error.code).toBe('malformed_request');
    const xml = await post('<payment/>', url, { 'content-type': 'application/xml' });
    expect(xml.statusCode).toBe(415);
    expect(xml.json().error.code).toBe('unsupported_media_type');
  });

  it('answers 500 internal_error without leaking the cause, and logs it with the request id', async () => {
    const response = await app.inject({
      method: 'GET',
      url: '/boom',
      headers: { 'x-request-id': 'req-boom-1' },
    });
    expect(response.statusCode).toBe(500);
    expect(response.json()).toEqual({
      error: {
        code: 'internal_error',
        message: 'An internal error occurred; quote the request id when reporting it',
        details: { requestId: 'req-boom-1' },
      },
    });
    expect(response.body).not.toContain('hunter2');
    const logged = logs.lines().find((line) => line.reqId === 'req-boom-1' && line.msg === 'request failed');
    expect(logged).toBeDefined();
    expect((logged?.err as { message: string }).message).toContain('hunter2');
  });

  it('treats a reply that breaks its own response schema as an internal error', async () => {
    const response = await app.inject({ method: 'GET', url: '/broken-contract' });
    expect(response.statusCode).toBe(500);
    expect(response.json().error.code).toBe('internal_error');
    expect(response.body).not.toContain('not a number');
  });
});

describe('body limit', () => {
  it('answers 413 payload_too_large with the limit, before validation', async () => {
    const small = await sampleApp({ bodyLimitBytes: 256 });
    try {
      const response = await small.app.inject({
        method: 'POST',
        url,
        headers: { authorization: `Bearer ${token}` },
        payload: { householdId: 'h'.repeat(300), amountFen: '1', purpose: 'housing' },
      });
      expect(response.statusCode).toBe(413);
      expect(response.json().error).toMatchObject({
        code: 'payload_too_large',
        details: { limitBytes: 256 },
      });
      const fits = await small.app.inject({
        method: 'POST',
        url,
        headers: { authorization: `Bearer ${token}` },
        payload: { householdId: 'h', amountFen: '1', purpose: 'housing' },
      });
      expect(fits.statusCode).toBe(201);
    } finally {
      await small.app.close();
    }
  });
});

describe('apps without auth', () => {
  it('refuse a guarded route at startup instead of failing its requests', async () => {
    const open = await createApp({
      name: 'open',
      version: '0',
      description: 'no auth',
      logger: createLogger({ name: 'open', level: 'silent' }),
      auth: false,
    });
    try {
      expect(() => open.get('/guarded', { onRequest: requireRole(['inspector']) }, async () => ({}))).toThrow(
        /open has no auth, but GET \/guarded requires a token/,
      );
      expect(() => open.get('/also', { preHandler: [open.authenticate] }, async () => ({}))).toThrow(
        /no auth/,
      );
      expect(() => open.get('/fine', async () => ({}))).not.toThrow();
    } finally {
      await open.close();
    }
  });
});

describe('request ids and security headers', () => {
  it('echoes a well-formed x-request-id and replaces a malformed one', async () => {
    const kept = await app.inject({ method: 'GET', url: '/public', headers: { 'x-request-id': 'abc-123' } });
    expect(kept.headers['x-request-id']).toBe('abc-123');
    const replaced = await app.inject({
      method: 'GET',
      url: '/public',
      headers: { 'x-request-id': 'bad id\twith spaces' },
    });
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const generated = await app.inject({ method: 'GET', url: '/public' });
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('sends helmet security headers', async () => {
    const response = await app.inject({ method: 'GET', url: '/public' });
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['content-security-policy']).toContain("default-src 'self'");
    expect(response.headers['strict-transport-security']).toBeDefined();
  });

  it('sends exactly the headers @fastify/helmet sent, on answers, refusals and 404s; the docs keep their own CSP', async () => {
    // What @fastify/helmet 13 (global) sent before the kit set helmet's headers itself (decision 0046).
    const before: Record<string, string> = {
      'content-security-policy':
        "default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action 'self';frame-ancestors 'self';img-src 'self' data:;object-src 'none';script-src 'self';script-src-attr 'none';style-src 'self' https: 'unsafe-inline';upgrade-insecure-requests",
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-resource-policy': 'same-origin',
      'origin-agent-cluster': '?1',
      'referrer-policy': 'no-referrer',
      'strict-transport-security': 'max-age=31536000; includeSubDomains',
      'x-content-type-options': 'nosniff',
      'x-dns-prefetch-control': 'off',
      'x-download-options': 'noopen',
      'x-frame-options': 'SAMEORIGIN',
      'x-permitted-cross-domain-policies': 'none',
      'x-xss-protection': '0',
    };
    expect(Object.fromEntries(helmetHeaders())).toEqual(before);
    const answers = [
      await app.inject({ method: 'GET', url: '/public' }),
      await app.inject({ method: 'GET', url: '/no-such-route' }),
      await post({ householdId: 'h-1', amountFen: '1000001', purpose: 'housing' }),
      await post({ householdId: 'h-1', amountFen: '999999', purpose: 'housing' }),
    ];
    expect(answers.map((a) => a.statusCode)).toEqual([200, 404, 409, 201]);
    for (const answer of answers) {
      for (const [name, value] of Object.entries(before)) expect(answer.headers[name]).toBe(value);
      expect(answer.headers['x-powered-by']).toBeUndefined();
    }
    const docs = await app.inject({ method: 'GET', url: '/docs/static/index.html' });
    expect(docs.headers['content-security-policy']).toContain('validator.swagger.io');
    expect(docs.headers['x-frame-options']).toBe('SAMEORIGIN');
  });
});

describe('OpenAPI and docs', () => {
  it('serves OpenAPI 3.1 with the sample route and its zod-derived schemas', async () => {
    const response = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(response.statusCode).toBe(200);
    const doc = response.json();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: 'sample', version: '1.2.3' });
    const operation = doc.paths['/partitions/{partition}/payments'].post;
    expect(operation.summary).toBe('Pay a household');
    expect(operation.parameters).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ in: 'path', name: 'partition', required: true }),
        expect.objectContaining({ in: 'query', name: 'dryRun' }),
      ]),
    );
    const body = operation.requestBody.content['application/json'].schema;
    expect(body.required).toEqual(['householdId', 'amountFen', 'purpose']);
    expect(body.properties.amountFen).toMatchObject({ type: 'string', pattern: '^\\d{1,19}$' });
    expect(body.properties.purpose.enum).toEqual(['housing', 'minimum_living']);
    const created = operation.responses['201'].content['application/json'].schema;
    expect(created.properties.amountFen).toMatchObject({ type: 'string' }); // the wire form, not bigint
    const refused = operation.responses['409'].content['application/json'].schema;
    expect(refused.properties.error.properties.code.enum).toEqual([
      'insufficient_funds',
      'purpose_not_allowed',
    ]);
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(operation.security).toEqual([{ bearerAuth: [] }]); // guarded by requireRole
    expect(doc.paths['/public'].get.security).toBeUndefined();
    expect(doc.paths['/metrics']).toBeUndefined();
    expect(doc.paths['/health']).toBeDefined();
  });

  it('serves readable docs at /docs', async () => {
    let response = await app.inject({ method: 'GET', url: '/docs' });
    if (response.statusCode === 302)
      response = await app.inject({ method: 'GET', url: response.headers.location! });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('text/html');
    expect(response.body).toContain('swagger-ui');
  });
});

describe('health, readiness and metrics', () => {
  it('answers /health while the process lives', async () => {
    const response = await app.inject({ method: 'GET', url: '/health' });
    expect(response.json()).toEqual({ status: 'ok', service: 'sample', version: '1.2.3' });
  });

  it('answers /ready 503 naming the failing check, and logs why without serving it', async () => {
    const { app: probed, logs: probedLogs } = await sampleApp();
    try {
      let healthy = true;
      probed.readiness.add('postgres', async () => {});
      probed.readiness.add('projector_lag', async () => {
        if (!healthy) throw new Error('lag 5000 events behind LEDGER_411325');
      });
      const ready = await probed.inject({ method: 'GET', url: '/ready' });
      expect(ready.statusCode).toBe(200);
      expect(ready.json()).toEqual({
        status: 'ready',
        checks: { postgres: 'ok', projector_lag: 'ok' },
        failing: [],
      });

      healthy = false;
      const notReady = await probed.inject({ method: 'GET', url: '/ready' });
      expect(notReady.statusCode).toBe(503);
      expect(notReady.json()).toEqual({
        status: 'not_ready',
        checks: { postgres: 'ok', projector_lag: 'failed' },
        failing: ['projector_lag'],
      });
      expect(notReady.body).not.toContain('LEDGER_411325');
      expect(probedLogs.text()).toContain('lag 5000 events behind');

      probed.shuttingDown = true;
      healthy = true;
      const closing = await probed.inject({ method: 'GET', url: '/ready' });
      expect(closing.statusCode).toBe(503);
      expect(closing.json().failing).toEqual(['shutting_down']);
    } finally {
      await probed.close();
    }
  });

  it('refuses a duplicate or badly named readiness check', async () => {
    expect(() => app.readiness.add('Bad Name', async () => {})).toThrow(/snake_case/);
    app.readiness.add('once', async () => {});
    expect(() => app.readiness.add('once', async () => {})).toThrow(/already registered/);
  });

  it('exposes default and HTTP metrics labelled by route pattern and status', async () => {
    await app.inject({ method: 'GET', url: '/public' });
    await app.inject({ method: 'GET', url: '/no/such/route/12345' });
    const response = await app.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('text/plain');
    expect(response.body).toContain('process_cpu_user_seconds_total');
    expect(response.body).toMatch(
      /http_request_duration_seconds_count\{service="sample",method="GET",route="\/public",status_code="200"\} [1-9]/,
    );
    expect(response.body).toMatch(/route="\/partitions\/:partition\/payments",status_code="409"/);
    expect(response.body).toContain('route="unmatched",status_code="404"');
    expect(response.body).not.toContain('/no/such/route');
  });
});
