import { type Role, signToken } from '@fundtrace/service-kit';
import { randomToken, recordReliability } from '@fundtrace/testkit';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { formBody } from './support/http';
import { recordLeakCheck } from './support/privacy';
import {
  exampleParams,
  fillPath,
  type Method,
  productRoutes,
  type Route,
  requiredQuery,
  validValue,
} from './support/routes';
import { type ServiceName, useProduct } from './support/services';

/**
 * The authorization matrix: every route of every service (read from the running services'
 * OpenAPI documents, plus the routes they hide) called by every principal, against one policy
 * table. A route without a rule in the table fails the test, so a route added later must be given
 * one. A denial must be 401/403 in the one error shape and must append nothing to any stream.
 */

const product = useProduct();

/** Who calls. Staff tokens are scoped to the county; the last three are the attacks. */
const principals = [
  'none',
  'registry',
  'finance',
  'inspector',
  'expired',
  'forged',
  'other_partition',
] as const;
type Principal = (typeof principals)[number];

/** Where a staff route reads the partition it acts on; `none`: the route is not about one partition. */
type Scope = 'path' | 'stream' | 'body' | 'none';
type Rule = { readonly public: true } | { readonly roles: readonly Role[]; readonly scope: Scope };

const publicRead: Rule = { public: true };
const staff = (roles: readonly Role[], scope: Scope): Rule => ({ roles, scope });

/**
 * THE POLICY (docs/CONVENTIONS.md "Auth", README's services table): one row per route group,
 * the first row that matches a route decides. Public: no token needed, a token (good or bad) is
 * ignored. Staff: the token's role must be listed and, where the route is about a partition, the
 * partition must be in the token's scope — a county's finance officer cannot touch another
 * county's books.
 */
const policy: ReadonlyArray<{
  readonly group: string;
  readonly service: ServiceName | '*';
  readonly method: Method | '*';
  readonly path: RegExp;
  readonly rule: Rule;
}> = [
  {
    group: 'operations (health, readiness, metrics, API document)',
    service: '*',
    method: 'GET',
    path: /^\/(health|ready|metrics|openapi\.json|docs)$/,
    rule: publicRead,
  },
  { group: 'projector lag', service: 'projector', method: 'GET', path: /^\/lag$/, rule: publicRead },
  {
    group: 'notice board: pages, feeds, objection form',
    service: 'notice-board',
    method: '*',
    path: /^\//,
    rule: publicRead,
  },
  {
    group: 'ledger: commands and queries of a partition',
    service: 'ledger-api',
    method: '*',
    path: /^\/v1\/partitions\/\{partition\}\//,
    rule: staff(['finance'], 'path'),
  },
  {
    group: 'registry: reads of a partition',
    service: 'registry-api',
    method: 'GET',
    path: /^\/v1\/partitions\/\{partition\}\/(households(\/\{householdId\})?|villages\/\{villageCode\}\/households)$/,
    rule: staff(['registry', 'finance', 'inspector'], 'path'),
  },
  {
    group: 'registry: find a household by ID number (a read)',
    service: 'registry-api',
    method: 'POST',
    path: /^\/v1\/partitions\/\{partition\}\/households\/search-by-id-number$/,
    rule: staff(['registry', 'finance', 'inspector'], 'path'),
  },
  {
    group: 'registry: writes, imports and reveals of a partition',
    service: 'registry-api',
    method: '*',
    path: /^\/v1\/partitions\/\{partition\}\//,
    rule: staff(['registry'], 'path'),
  },
  {
    group: 'log: evidence bundle with the event itself',
    service: 'log-keeper',
    method: 'GET',
    path: /^\/v1\/streams\/\{stream\}\/bundles\/inclusion$/,
    rule: staff(['inspector', 'finance', 'registry'], 'stream'),
  },
  {
    group: 'log: sign a checkpoint now',
    service: 'log-keeper',
    method: 'POST',
    path: /^\/v1\/checkpoints\/\{stream\}$/,
    rule: staff(['inspector', 'finance'], 'stream'),
  },
  {
    group: 'log: public checkpoints, proofs, verifier key',
    service: 'log-keeper',
    method: 'GET',
    path: /^\/v1\/(verifier-key|streams\/)/,
    rule: publicRead,
  },
  {
    group: 'audit: traces, trails, progress, findings of a partition',
    service: 'audit-api',
    method: '*',
    path: /^\/v1\/partitions\/\{partition\}\//,
    rule: staff(['inspector'], 'path'),
  },
  {
    group: "audit: evidence bundle with the event itself, of a partition's stream",
    service: 'audit-api',
    method: 'GET',
    path: /^\/v1\/streams\/\{stream\}\/bundles\/inclusion$/,
    rule: staff(['inspector'], 'stream'),
  },
  {
    // Hashes and signed checkpoints only: the same the log-keeper serves to anyone.
    group: 'audit: checkpoints, proofs and consistency bundles',
    service: 'audit-api',
    method: 'GET',
    path: /^\/v1\/streams\/\{stream\}\//,
    rule: staff(['inspector'], 'none'),
  },
  {
    group: 'audit: verifier key and rule catalogue',
    service: 'audit-api',
    method: 'GET',
    path: /^\/v1\/(verifier-key|rules)$/,
    rule: staff(['inspector'], 'none'),
  },
  {
    group: 'audit: run the rules over a partition',
    service: 'audit-api',
    method: 'POST',
    path: /^\/v1\/rules\/run$/,
    rule: staff(['inspector'], 'body'),
  },
];

function ruleOf(route: Route): { group: string; rule: Rule } | undefined {
  return policy.find(
    (p) =>
      (p.service === '*' || p.service === route.service) &&
      (p.method === '*' || p.method === route.method) &&
      p.path.test(route.path),
  );
}

/** A county next door: a token for it is the right role for the wrong books. */
const otherCounty = '411326';

type Expected = 'allow' | 401 | 403;

function expectedFor(rule: Rule, principal: Principal): Expected {
  if ('public' in rule) return 'allow';
  if (principal === 'none' || principal === 'expired' || principal === 'forged') return 401;
  if (principal === 'other_partition') return rule.scope === 'none' ? 'allow' : 403;
  return rule.roles.includes(principal) ? 'allow' : 403;
}

let routes: Route[];
/** Every error body, for the privacy grep at the end. */
const errorBodies: Array<{ where: string; text: string }> = [];
const tokens = new Map<string, string>();

async function tokenFor(principal: Principal, rule: Rule): Promise<string | undefined> {
  if (principal === 'none') return undefined;
  // The attacks use a role the route accepts, so only expiry, signature or partition can refuse them.
  const role: Role =
    principal === 'registry' || principal === 'finance' || principal === 'inspector'
      ? principal
      : 'public' in rule
        ? 'finance'
        : rule.roles[0]!;
  const key = `${principal}/${role}`;
  const cached = tokens.get(key);
  if (cached !== undefined) return cached;
  const claims = {
    sub: `matrix-${principal}`,
    role,
    org: '测试单位',
    partitions: [principal === 'other_partition' ? otherCounty : product.county],
  };
  let token: string;
  if (principal === 'expired') {
    // Issued two hours ago for one hour: expired well beyond the 30 s clock tolerance.
    token = await signToken(product.secrets.JWT_SECRET, claims, 3600, new Date(Date.now() - 2 * 3600_000));
  } else if (principal === 'forged') {
    token = await signToken(`another-key-${randomToken(40)}`, claims, 3600);
  } else {
    token = await signToken(product.secrets.JWT_SECRET, claims, 3600);
  }
  tokens.set(key, token);
  return token;
}

/** One plausible body per route: a valid-looking sample of its schema, the county where it names one. */
function bodyFor(route: Route, seed: number): string | undefined {
  if (route.body === undefined) return undefined;
  const [sample] = fc.sample(validValue(route.body.schema), { seed, numRuns: 1 });
  const value = { ...(sample as Record<string, unknown>) };
  if ('partition' in value) value.partition = product.county;
  if ('commandId' in value) value.commandId = `matrix-${randomToken(12)}`;
  if (route.body.type === 'form') {
    return formBody(value);
  }
  return JSON.stringify(value);
}

interface Cell {
  readonly principal: Principal;
  readonly expected: Expected;
  readonly status: number;
  readonly problem?: string;
}

async function call(route: Route, principal: Principal, rule: Rule, seed: number): Promise<Cell> {
  const expected = expectedFor(rule, principal);
  const url = `${product.urls[route.service]}${fillPath(route.path, exampleParams(product))}${requiredQuery(route)}`;
  const token = await tokenFor(principal, rule);
  const body = bodyFor(route, seed);
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (body !== undefined)
    headers['content-type'] =
      route.body?.type === 'form' ? 'application/x-www-form-urlencoded' : 'application/json';
  const before = await product.streamSequences();
  const response = await fetch(url, {
    method: route.method,
    headers,
    ...(body === undefined ? {} : { body }),
  });
  const text = await response.text();
  const status = response.status;
  if (status >= 400) errorBodies.push({ where: `${route.key} as ${principal} → ${status}`, text });
  const problems: string[] = [];
  if (status >= 500) problems.push(`answered ${status}: ${text.slice(0, 300)}`);
  if (expected === 'allow') {
    if (status === 401 || status === 403)
      problems.push(`allowed principal refused with ${status}: ${text.slice(0, 200)}`);
  } else {
    if (status !== expected) problems.push(`expected ${expected}, got ${status}: ${text.slice(0, 200)}`);
    let parsed: { error?: { code?: unknown; message?: unknown } } = {};
    try {
      parsed = JSON.parse(text);
    } catch {}
    const code = expected === 401 ? 'unauthenticated' : 'forbidden';
    if (parsed.error?.code !== code || typeof parsed.error.message !== 'string')
      problems.push(`refusal is not { error: { code: ${code}, message } }: ${text.slice(0, 200)}`);
    const appended = await product.appendedSince(before);
    if (appended.length > 0) problems.push(`a refused request appended: ${appended.join(', ')}`);
  }
  return { principal, expected, status, ...(problems.length > 0 ? { problem: problems.join('; ') } : {}) };
}

beforeAll(async () => {
  routes = await productRoutes(product);
});

describe('authorization matrix', () => {
  it('every route has a rule in the policy table', () => {
    const missing = routes.filter((r) => ruleOf(r) === undefined).map((r) => r.key);
    expect(missing, 'routes without an expected rule: add them to the policy').toEqual([]);
    // The enumeration found the routes the services really have (a broken document would find few).
    expect(routes.filter((r) => r.service === 'ledger-api').length).toBeGreaterThan(20);
  });

  it('every route × every principal is allowed or refused as the policy says, and a refusal appends nothing', async () => {
    const rows: Array<Record<string, unknown>> = [];
    const problems: string[] = [];
    let seed = 1;
    for (const route of routes) {
      const matched = ruleOf(route);
      if (matched === undefined) continue; // reported by the test above
      const row: Record<string, unknown> = { route: route.key, group: matched.group };
      for (const principal of principals) {
        const cell = await call(route, principal, matched.rule, seed++);
        row[principal] = cell.expected === 'allow' ? `allow (${cell.status})` : `deny ${cell.status}`;
        if (cell.problem !== undefined) problems.push(`${route.key} as ${principal}: ${cell.problem}`);
      }
      rows.push(row);
    }
    const cells = rows.length * principals.length;
    recordReliability({
      suite: 'authorization',
      name: 'authorization matrix',
      injected: `every route of the six services (from /openapi.json and the hidden pages) × ${principals.join(', ')}`,
      iterations: cells,
      checked:
        'allowed principals never get 401/403; refusals are 401 unauthenticated or 403 forbidden in the one error shape; no refused request appends to any stream',
      result: problems.length === 0 ? 'passed' : 'failed',
      details: { principals, policyRows: policy.length, rows, problems },
    });
    expect(problems).toEqual([]);
    expect(await product.unhealthy()).toEqual([]);
  }, 600_000);

  it('left no clear personal data or secret in any log, /metrics or error body', async () => {
    expect(await recordLeakCheck(product, 'authorization matrix run', errorBodies)).toEqual([]);
  });
});
