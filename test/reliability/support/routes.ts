/**
 * Every route of every running service, read from its `/openapi.json`, plus the routes the
 * documents hide on purpose (operations endpoints and the notice board's HTML pages and form), so a
 * route added later is enumerated without touching the suites. Also: a fast-check arbitrary of
 * valid values for a route's JSON schemas, and example path parameters that name real things of
 * the product's county.
 */
import fc from 'fast-check';
import { encodePathSegment } from './http';
import type { Product, ServiceName } from './services';
import { serviceNames } from './services';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** The subset of JSON Schema (draft 2020-12, as zod emits it) the services' documents use. */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  maxItems?: number;
}

export interface Parameter {
  readonly in: 'path' | 'query' | 'header';
  readonly name: string;
  readonly required: boolean;
  readonly schema: JsonSchema;
}

export interface Route {
  readonly service: ServiceName;
  readonly method: Method;
  /** OpenAPI path template, `{name}` for parameters. */
  readonly path: string;
  readonly parameters: readonly Parameter[];
  /** JSON body schema, or a form body (`form`) for the notice board's objection form. */
  readonly body?: { readonly type: 'json' | 'form'; readonly schema: JsonSchema };
  /** Hidden from the OpenAPI document (operations endpoints, HTML pages). */
  readonly hidden: boolean;
  /** `service METHOD path`: a stable key for tables and records. */
  readonly key: string;
}

const pathParam = (name: string, pattern = '^[A-Za-z0-9_-]{1,64}$'): Parameter => ({
  in: 'path',
  name,
  required: true,
  schema: { type: 'string', pattern },
});

/** Routes every service serves outside its document (createApp hides them). */
const hiddenOperations: ReadonlyArray<{ method: Method; path: string }> = [
  { method: 'GET', path: '/metrics' },
  { method: 'GET', path: '/openapi.json' },
  { method: 'GET', path: '/docs' },
];

/** The notice board's pages and form are HTML for people, hidden from its API document. */
const boardPages: ReadonlyArray<Omit<Route, 'service' | 'hidden' | 'key'>> = [
  { method: 'GET', path: '/', parameters: [] },
  { method: 'GET', path: '/r/{code}', parameters: [pathParam('code', '^[0-9]{6}([0-9]{3}([0-9]{3})?)?$')] },
  {
    method: 'GET',
    path: '/n/{partition}/{noticeId}',
    parameters: [pathParam('partition', '^[0-9]{6}$'), pathParam('noticeId')],
  },
  {
    method: 'POST',
    path: '/n/{partition}/{noticeId}/objections',
    parameters: [pathParam('partition', '^[0-9]{6}$'), pathParam('noticeId')],
    body: {
      type: 'form',
      schema: {
        type: 'object',
        properties: {
          summary: { type: 'string', minLength: 1, maxLength: 500 },
          line: { type: 'string', pattern: '^([1-9][0-9]{0,3})?$' },
        },
        required: ['summary', 'line'],
      },
    },
  },
];

const routeKey = (service: string, method: string, path: string) => `${service} ${method} ${path}`;

interface OpenApiOperation {
  parameters?: Array<{ in: string; name: string; required?: boolean; schema?: JsonSchema }>;
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
}

/** Reads every service's OpenAPI document and returns every route, hidden ones included. */
export async function productRoutes(product: Product): Promise<Route[]> {
  const routes: Route[] = [];
  for (const service of serviceNames) {
    const response = await fetch(`${product.urls[service]}/openapi.json`);
    if (!response.ok) throw new Error(`${service} /openapi.json answered ${response.status}`);
    const doc = (await response.json()) as { paths: Record<string, Record<string, OpenApiOperation>> };
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const upper = method.toUpperCase() as Method;
        const json = operation.requestBody?.content?.['application/json']?.schema;
        routes.push({
          service,
          method: upper,
          path,
          parameters: (operation.parameters ?? []).map((p) => ({
            in: p.in as Parameter['in'],
            name: p.name,
            required: p.required ?? false,
            schema: p.schema ?? { type: 'string' },
          })),
          ...(json === undefined ? {} : { body: { type: 'json' as const, schema: json } }),
          hidden: false,
          key: routeKey(service, upper, path),
        });
      }
    }
    for (const { method, path } of hiddenOperations) {
      routes.push({
        service,
        method,
        path,
        parameters: [],
        hidden: true,
        key: routeKey(service, method, path),
      });
    }
    if (service === 'notice-board') {
      for (const page of boardPages) {
        routes.push({ ...page, service, hidden: true, key: routeKey(service, page.method, page.path) });
      }
    }
  }
  return routes;
}

/**
 * Path parameters that name real things of the county (a registered household, the paid notice,
 * the county's ledger stream …), so an allowed request reaches the handler, not a 404 on the way.
 */
export function exampleParams(product: Product): Record<string, string> {
  const household = product.households[0]!;
  return {
    partition: product.county,
    code: product.county,
    householdId: household.householdId,
    villageCode: product.villages[0]!,
    importId: 'import-1',
    accountId: 'pool',
    key: 'roster-1',
    allocationId: `a-${product.county}`,
    kind: 'household',
    id: household.householdId,
    findingId: 'finding-1',
    stream: `LEDGER_${product.county}`,
    size: '1',
    noticeId: product.notices.open,
    // A line of the notice's published list (the board's 证明 page of that line).
    lineNo: '1',
  };
}

/** Query values for the required query parameters the documents name. */
export const exampleQuery: Readonly<Record<string, string>> = {
  seq: '1',
  from: '1',
  number: '1',
};

/** Fills `{name}` in a path template (each value URL-encoded, lone surrogates too). */
export function fillPath(template: string, params: Record<string, string>): string {
  return template.replace(/\{([^}]+)\}/g, (_m, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`no value for path parameter ${name} of ${template}`);
    return encodePathSegment(value);
  });
}

/** The smallest plausible query string a route needs (its required query parameters). */
export function requiredQuery(route: Route, params: Record<string, string> = exampleQuery): string {
  const query = new URLSearchParams();
  for (const p of route.parameters) {
    if (p.in === 'query' && p.required) query.set(p.name, params[p.name] ?? 'x');
  }
  const text = query.toString();
  return text === '' ? '' : `?${text}`;
}

const dateArbitrary = fc
  .date({ min: new Date('2015-01-01T00:00:00Z'), max: new Date('2030-12-31T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10));

function stringArbitrary(schema: JsonSchema): fc.Arbitrary<string> {
  const minLength = schema.minLength ?? 0;
  const maxLength = Math.min(schema.maxLength ?? 40, 200);
  if (schema.format === 'date') return dateArbitrary;
  if (schema.format === 'date-time') return dateArbitrary.map((d) => `${d}T09:00:00+08:00`);
  if (schema.pattern !== undefined) {
    try {
      const pattern = new RegExp(schema.pattern);
      return fc
        .stringMatching(pattern)
        .filter((s) => s.length >= minLength && s.length <= (schema.maxLength ?? Number.MAX_SAFE_INTEGER));
    } catch {
      // A pattern fast-check cannot generate from: plain strings (the service rejects most).
    }
  }
  return fc.string({ minLength, maxLength: Math.max(minLength, maxLength), unit: 'grapheme' });
}

/** Valid-looking values for a JSON schema (valid by construction, up to cross-field rules). */
export function validValue(schema: JsonSchema, depth = 0): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum !== undefined) return fc.constantFrom(...schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives !== undefined) return fc.oneof(...alternatives.map((s) => validValue(s, depth + 1)));
  if (schema.allOf !== undefined && schema.allOf.length > 0) return validValue(schema.allOf[0]!, depth + 1);
  const type = Array.isArray(schema.type) ? schema.type : schema.type === undefined ? [] : [schema.type];
  if (type.length > 1) return fc.oneof(...type.map((t) => validValue({ ...schema, type: t }, depth + 1)));
  switch (type[0]) {
    case 'string':
      return stringArbitrary(schema);
    case 'integer': {
      const min = schema.minimum ?? (schema.exclusiveMinimum ?? -1_000_001) + 1;
      const max = schema.maximum ?? (schema.exclusiveMaximum ?? 1_000_001) - 1;
      return fc.integer({
        min: Math.max(min, Number.MIN_SAFE_INTEGER),
        max: Math.min(max, Number.MAX_SAFE_INTEGER),
      });
    }
    case 'number':
      return fc.double({
        min: schema.minimum ?? -1e6,
        max: schema.maximum ?? 1e6,
        noNaN: true,
        noDefaultInfinity: true,
      });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const minLength = schema.minItems ?? 0;
      const maxLength = Math.min(schema.maxItems ?? minLength + 3, minLength + (depth > 3 ? 0 : 3));
      return fc.array(validValue(schema.items ?? {}, depth + 1), { minLength, maxLength });
    }
    case 'object': {
      const properties = schema.properties ?? {};
      const required = new Set(schema.required ?? []);
      const record = fc.record(
        Object.fromEntries(Object.entries(properties).map(([k, s]) => [k, validValue(s, depth + 1)])),
        // Optional properties come and go, so both shapes are tried.
        { requiredKeys: [...required].filter((k) => k in properties) },
      );
      const extra = schema.additionalProperties;
      if (typeof extra === 'object' && Object.keys(properties).length === 0) {
        return fc.dictionary(
          schema.propertyNames
            ? stringArbitrary(schema.propertyNames)
            : fc.string({ minLength: 1, maxLength: 8 }),
          validValue(extra, depth + 1),
          { maxKeys: 3 },
        );
      }
      return record;
    }
    default:
      // An unconstrained value ({}): anything JSON.
      return depth > 2 ? fc.constant(null) : fc.jsonValue({ maxDepth: 2 });
  }
}
