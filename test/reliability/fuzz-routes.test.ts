import type { Role } from '@fundtrace/service-kit';
import { recordReliability, reliabilityIterations } from '@fundtrace/testkit';
import fc from 'fast-check';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  hostileAmounts,
  hostileCodes,
  hostileDates,
  hostileStrings,
  hostileValue,
  mutatedBody,
  pathsOf,
  pollutionKeys,
} from './support/hostile';
import { formBody, rawRequest } from './support/http';
import { recordLeakCheck } from './support/privacy';
import {
  exampleParams,
  exampleQuery,
  fillPath,
  productRoutes,
  type Route,
  validValue,
} from './support/routes';
import { type ServiceName, serviceNames, useProduct } from './support/services';

/**
 * Route fuzzing: every route of every service (from the running services' OpenAPI documents),
 * called with valid-looking and hostile requests derived from its schemas: wrong types, missing and
 * extra fields, prototype-pollution keys, 10 MB bodies, deep nesting, control and direction
 * characters, content types and charsets that lie, huge headers, amounts in every wrong spelling,
 * codes and dates that are almost right. Every answer must be 2xx or 4xx (never a 5xx, never a
 * dropped connection), a 4xx must say what was wrong in the one error shape, a 4xx must append
 * nothing to any stream, and the service must still be healthy afterwards.
 *
 * Quick form: the fixed hostile cases plus a few random requests per route. FUNDTRACE_LONG=1:
 * hundreds of random requests per route and a 10 MB body on every route.
 */

// The per-address limits are tested in security-public; here every request must reach its handler.
const product = useProduct({
  env: {
    'notice-board': { NOTICE_PAGES_PER_MINUTE: '1000000000' },
    'log-keeper': { LOG_REQUESTS_PER_MINUTE: '1000000000' },
  },
});
const randomRuns = reliabilityIterations(4, 200);
const long = process.env.FUNDTRACE_LONG === '1';
/** A body far above every route's limit (the roster import takes the most, a few MiB). */
const hugeBodyBytes = 10 * 1024 * 1024;
const requestTimeoutMs = 60_000;

/** The token each service's routes are fuzzed with: a role that passes its guards, national scope. */
const fuzzRole: Partial<Record<ServiceName, Role>> = {
  'ledger-api': 'finance',
  'registry-api': 'registry',
  'audit-api': 'inspector',
  'log-keeper': 'finance',
};

interface Attempt {
  readonly label: string;
  readonly params?: Record<string, string>;
  readonly query?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Uint8Array;
  /** The answer must be a refusal (4xx), not merely "not a 5xx". */
  readonly mustRefuse?: boolean;
}

const snakeCase = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;
let routes: Route[];
/** Every error body, for the privacy grep at the end. */
const errorBodies: Array<{ where: string; text: string }> = [];
const tokens = new Map<ServiceName, string>();

function jsonHeaders(): Record<string, string> {
  return { 'content-type': 'application/json' };
}

/** What a 4xx must look like: the one JSON error shape, or (pages for people) a non-empty HTML page. */
function errorShapeProblem(status: number, contentType: string, text: string): string | undefined {
  // Node's HTTP parser answers 431 itself, before any application code, with an empty body.
  if (status === 431) return undefined;
  if (contentType.includes('text/html')) return text.includes('<') ? undefined : 'an empty HTML error page';
  let parsed: { error?: { code?: unknown; message?: unknown; details?: unknown } };
  try {
    parsed = JSON.parse(text);
  } catch {
    return `a ${status} whose body is not JSON: ${text.slice(0, 120)}`;
  }
  const error = parsed.error;
  if (
    error === undefined ||
    typeof error.code !== 'string' ||
    !snakeCase.test(error.code) ||
    typeof error.message !== 'string' ||
    error.message.trim().length < 5 ||
    typeof error.details !== 'object' ||
    error.details === null
  ) {
    return `a ${status} not in the shape { error: { code, message, details } }: ${text.slice(0, 200)}`;
  }
  return undefined;
}

interface Tally {
  requests: number;
  ok: number;
  refused: number;
  statuses: Record<string, number>;
}

async function send(route: Route, attempt: Attempt, tally: Tally): Promise<string | undefined> {
  const params = { ...exampleParams(product), ...attempt.params };
  let path: string;
  try {
    path = fillPath(route.path, params);
  } catch (error) {
    return (error as Error).message;
  }
  const url = `${product.urls[route.service]}${path}${attempt.query ?? ''}`;
  const headers: Record<string, string> = { ...attempt.headers };
  const token = tokens.get(route.service);
  if (token !== undefined && headers.authorization === undefined) headers.authorization = `Bearer ${token}`;
  const before = await product.streamSequences();
  let status: number;
  let text: string;
  let contentType: string;
  try {
    const response = await rawRequest(url, {
      method: route.method,
      headers,
      ...(attempt.body === undefined || route.method === 'GET' ? {} : { body: attempt.body }),
      timeoutMs: requestTimeoutMs,
    });
    ({ status, text } = response);
    contentType = String(response.headers['content-type'] ?? '');
  } catch (error) {
    return `no answer (${(error as Error).message})`;
  }
  tally.requests++;
  tally.statuses[String(status)] = (tally.statuses[String(status)] ?? 0) + 1;
  if (status >= 500) return `answered ${status}: ${text.slice(0, 300)}`;
  if (status < 400) {
    tally.ok++;
    if (attempt.mustRefuse) return `accepted (${status}) what it must refuse: ${text.slice(0, 200)}`;
    return undefined;
  }
  tally.refused++;
  errorBodies.push({ where: `${route.key} [${attempt.label}] → ${status}`, text });
  const shape = errorShapeProblem(status, contentType, text);
  if (shape !== undefined) return shape;
  const appended = await product.appendedSince(before);
  if (appended.length > 0) return `a ${status} appended: ${appended.join(', ')}`;
  return undefined;
}

function sampleBody(route: Route, seed: number): unknown {
  if (route.body === undefined) return undefined;
  return fc.sample(validValue(route.body.schema), { seed, numRuns: 1 })[0];
}

function encodeBody(route: Route, value: unknown): string {
  if (route.body?.type === 'form' && value !== null && typeof value === 'object') {
    return formBody(value);
  }
  return JSON.stringify(value);
}

function contentTypeOf(route: Route): string {
  return route.body?.type === 'form' ? 'application/x-www-form-urlencoded' : 'application/json';
}

/** Fields of a body by what they hold: amounts (…Fen), dates, administrative codes. */
function fieldsLike(value: unknown, test: (key: string) => boolean): (string | number)[][] {
  return pathsOf(value).filter(
    (p) => p.length > 0 && typeof p.at(-1) === 'string' && test(p.at(-1) as string),
  );
}

function withAt(value: unknown, path: (string | number)[], leaf: unknown): unknown {
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let cursor: Record<string | number, unknown> = copy;
  for (const key of path.slice(0, -1)) cursor = cursor[key] as Record<string | number, unknown>;
  cursor[path.at(-1)!] = leaf;
  return copy;
}

/** The fixed hostile cases of a route: the same every run, so a regression is caught every time. */
function fixedAttempts(route: Route, hugeBody: boolean): Attempt[] {
  const attempts: Attempt[] = [
    { label: 'huge header (64 KiB)', headers: { 'x-fuzz': 'a'.repeat(65_536) } },
    { label: 'long Authorization', headers: { authorization: `Bearer ${'a'.repeat(9_000)}` } },
    { label: 'garbage Accept and If-None-Match', headers: { accept: '\u00ff/\u00fe', 'if-none-match': '"' } },
  ];
  for (const p of route.parameters) {
    const hostile =
      p.in === 'path'
        ? [...hostileCodes, 'x'.repeat(2_000), '%', '..']
        : [
            '-1',
            '1e9',
            '2147483648',
            '99999999999999999999',
            'abc',
            '2024-02-30',
            '0000-01-01',
            '',
            '１',
            'a\u0000b',
          ];
    for (const value of hostile) {
      if (p.in === 'path')
        attempts.push({
          label: `path ${p.name}=${JSON.stringify(value.slice(0, 20))}`,
          params: { [p.name]: value },
        });
      else if (p.in === 'query') {
        const query = new URLSearchParams(exampleQueryFor(route));
        query.set(p.name, value);
        attempts.push({ label: `query ${p.name}=${JSON.stringify(value)}`, query: `?${query}` });
      }
    }
  }
  if (route.body === undefined || route.method === 'GET') return attempts;
  const valid = sampleBody(route, 7);
  const validText = encodeBody(route, valid);
  const json = jsonHeaders();
  attempts.push(
    { label: 'empty body', headers: { 'content-type': contentTypeOf(route) }, body: '' },
    { label: 'truncated JSON', headers: json, body: validText.slice(0, Math.max(1, validText.length >> 1)) },
    { label: 'JSON null', headers: json, body: 'null' },
    { label: 'JSON array', headers: json, body: '[]' },
    { label: 'JSON string', headers: json, body: '"x"' },
    { label: 'BOM before JSON', headers: json, body: `\ufeff${JSON.stringify(valid)}` },
    { label: 'content-type text/plain', headers: { 'content-type': 'text/plain' }, body: validText },
    { label: 'content-type xml', headers: { 'content-type': 'application/xml' }, body: '<a/>' },
    {
      label: 'content-type multipart lie',
      headers: { 'content-type': 'multipart/form-data; boundary=x' },
      body: validText,
    },
    { label: 'no content-type', headers: {}, body: validText },
    {
      label: 'charset=gbk with GBK bytes',
      headers: { 'content-type': `${contentTypeOf(route)}; charset=gbk` },
      body: iconv.encode(validText.replace(/"([^"]*)"/, '"内乡县$1"'), 'gbk'),
    },
    {
      label: 'charset=utf-16le',
      headers: { 'content-type': `${contentTypeOf(route)}; charset=utf-16le` },
      body: iconv.encode(validText, 'utf16le'),
    },
    { label: 'nested 100,000 deep', headers: json, body: `${'['.repeat(100_000)}${']'.repeat(100_000)}` },
    {
      label: 'nested objects 10,000 deep',
      headers: json,
      body: `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`,
    },
    {
      label: 'prototype pollution keys',
      headers: json,
      body: `{"__proto__":{"isAdmin":true,"role":"finance"},"constructor":{"prototype":{"polluted":1}},${validText.startsWith('{') && validText.length > 2 ? validText.slice(1) : '"x":1}'}`,
    },
  );
  if (hugeBody) {
    const field = 'x'.repeat(hugeBodyBytes);
    attempts.push({ label: '10 MB field', headers: json, body: `{"commandId":"huge","summary":"${field}"}` });
  }
  if (route.body.type === 'json') {
    for (const path of fieldsLike(valid, (k) => /Fen$/.test(k))) {
      for (const amount of hostileAmounts) {
        attempts.push({
          label: `amount /${path.join('/')}=${JSON.stringify(amount)}`,
          headers: json,
          body: JSON.stringify(withAt(valid, path, amount)),
          mustRefuse: true,
        });
      }
    }
    for (const path of fieldsLike(valid, (k) => /(On|Date|At)$/.test(k))) {
      for (const date of hostileDates) {
        attempts.push({
          label: `date /${path.join('/')}=${date}`,
          headers: json,
          body: JSON.stringify(withAt(valid, path, date)),
        });
      }
    }
    for (const path of fieldsLike(valid, (k) => /(^partition|Partition|villageCode)$/.test(k))) {
      for (const code of hostileCodes) {
        attempts.push({
          label: `code /${path.join('/')}=${JSON.stringify(code)}`,
          headers: json,
          body: JSON.stringify(withAt(valid, path, code)),
          mustRefuse: true,
        });
      }
    }
    // Text PostgreSQL and the canonical encoding cannot hold: appended, it stopped the projection.
    for (const [label, bad] of [
      ['NUL in every string', '\u0000'],
      ['unpaired surrogate in every string', '\ud800'],
    ] as const) {
      let hostile: unknown = valid;
      for (const path of pathsOf(valid).filter((p) => p.length > 0)) {
        const leaf = path.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], valid);
        if (typeof leaf === 'string') hostile = withAt(hostile, path, `${leaf}${bad}`);
      }
      if (hostile !== valid)
        attempts.push({ label, headers: json, body: JSON.stringify(hostile), mustRefuse: true });
    }
    for (const key of pollutionKeys) {
      attempts.push({
        label: `key ${key} holding a string`,
        headers: json,
        body: JSON.stringify({ ...(valid as object), [key]: hostileStrings[4] }),
      });
    }
  }
  return attempts;
}

function exampleQueryFor(route: Route): Record<string, string> {
  const query: Record<string, string> = {};
  for (const p of route.parameters)
    if (p.in === 'query' && p.required) query[p.name] = exampleQuery[p.name] ?? '1';
  return query;
}

/** Random requests: schema-valid or mutated bodies, parameters from the schema or hostile, lying headers. */
function randomAttempt(route: Route): fc.Arbitrary<Attempt> {
  const example = exampleParams(product);
  const paramArbs: Record<string, fc.Arbitrary<string>> = {};
  for (const p of route.parameters) {
    if (p.in !== 'path') continue;
    paramArbs[p.name] = fc.oneof(
      { weight: 4, arbitrary: fc.constant(example[p.name] ?? 'x') },
      { weight: 1, arbitrary: validValue(p.schema).map(String) },
      { weight: 1, arbitrary: fc.constantFrom(...hostileCodes, ...hostileStrings.slice(0, 12)) },
    );
  }
  const queryArbs = route.parameters
    .filter((p) => p.in === 'query')
    .map((p) =>
      fc
        .option(
          fc.oneof(
            validValue(p.schema).map(String),
            hostileValue.map((v) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? ''))),
          ),
          { nil: undefined, freq: 2 },
        )
        .map((v) => [p.name, v ?? (p.required ? (exampleQuery[p.name] ?? '1') : undefined)] as const),
    );
  const body: fc.Arbitrary<{ label: string; text: string } | undefined> =
    route.body === undefined || route.method === 'GET'
      ? fc.constant(undefined)
      : validValue(route.body.schema).chain((valid) =>
          fc.oneof(
            fc.constant({ label: 'schema-valid body', text: encodeBody(route, valid) }),
            mutatedBody(valid),
          ),
        );
  const contentType = fc.oneof(
    { weight: 6, arbitrary: fc.constant(contentTypeOf(route)) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        'text/plain',
        'application/json; charset=latin1',
        'application/x-www-form-urlencoded',
        'application/json;;',
        '',
      ),
    },
  );
  return fc
    .record({ params: fc.record(paramArbs), query: fc.tuple(...queryArbs), body, contentType })
    .map(({ params, query, body: b, contentType: type }) => {
      const search = new URLSearchParams();
      for (const [name, value] of query) if (value !== undefined) search.set(name, value);
      const text = search.toString();
      return {
        label: `random: ${b?.label ?? 'no body'}${type === contentTypeOf(route) ? '' : `, content-type ${JSON.stringify(type)}`}`,
        params,
        query: text === '' ? '' : `?${text}`,
        headers: (b === undefined || type === '' ? {} : { 'content-type': type }) as Record<string, string>,
        ...(b === undefined ? {} : { body: b.text }),
      };
    });
}

beforeAll(async () => {
  routes = await productRoutes(product);
  for (const [service, role] of Object.entries(fuzzRole) as [ServiceName, Role][]) {
    tokens.set(service, await product.token(role, ['*']));
  }
});

/** What every route was sent and answered, across the per-service tests, for RELIABILITY.md. */
const perRoute: Array<Record<string, unknown>> = [];
const problems: string[] = [];

describe('route fuzzing', () => {
  // One test per service, so a slow machine times out one service's routes, not the whole run.
  for (const service of serviceNames) {
    it(`${service}: every route answers hostile requests with 2xx or a named 4xx, appends nothing on a 4xx and stays healthy`, async () => {
      const found: string[] = [];
      let hugeBodyDone = false;
      for (const route of routes.filter((r) => r.service === service)) {
        const tally: Tally = { requests: 0, ok: 0, refused: 0, statuses: {} };
        // A 10 MB body on one body-taking route per service in the quick form, on every one in the long.
        const hugeBody = route.body !== undefined && (long || !hugeBodyDone);
        if (hugeBody) hugeBodyDone = true;
        for (const attempt of fixedAttempts(route, hugeBody)) {
          const problem = await send(route, attempt, tally);
          if (problem !== undefined) found.push(`${route.key} [${attempt.label}]: ${problem}`);
        }
        await fc.assert(
          fc.asyncProperty(randomAttempt(route), async (attempt) => {
            const problem = await send(route, attempt, tally);
            if (problem !== undefined) found.push(`${route.key} [${attempt.label}]: ${problem}`);
          }),
          { numRuns: randomRuns, endOnFailure: true },
        );
        const unhealthy = await product.unhealthy();
        if (unhealthy.length > 0) found.push(`after ${route.key}: unhealthy ${unhealthy.join(', ')}`);
        perRoute.push({ route: route.key, ...tally });
      }
      problems.push(...found);
      expect(found).toEqual([]);
    }, 600_000);
  }

  afterAll(() => {
    recordReliability({
      suite: 'bad-input',
      name: 'route fuzzing (HTTP)',
      injected:
        'per route: hostile path/query parameters, huge and lying headers, bodies that are empty, truncated, of the wrong JSON type, BOM-prefixed, GBK/UTF-16, 100,000 deep, prototype-polluting, 10 MB; every amount, date and code field set to hostile spellings; plus random schema-valid and mutated requests (fast-check)',
      iterations: perRoute.reduce((n, r) => n + (r.requests as number), 0),
      checked:
        'never a 5xx or a dropped connection; a 4xx is { error: { code, message, details } } (HTML page on the board); hostile amounts and codes are refused; no 4xx appends; every service healthy after every route',
      result: problems.length === 0 && perRoute.length === routes.length ? 'passed' : 'failed',
      details: { randomRunsPerRoute: randomRuns, routes: perRoute, problems: problems.slice(0, 200) },
    });
  });

  it('left no clear personal data or secret in any log, /metrics or error body', async () => {
    expect(await recordLeakCheck(product, 'route fuzzing run', errorBodies)).toEqual([]);
  });
});
