import type { z } from 'zod';
import { auditEvents, auditUpcasters } from './audit';
import { type Context, contexts, type EventDefinition } from './define';
import { type EventEnvelope, eventTypeSchema, eventVersionSchema } from './envelope';
import { ledgerEvents } from './ledger';
import { registryEvents } from './registry';
import { entityNameSchema } from './subjects';
import type { Upcaster } from './upcasters';
import { wireShapeProblems } from './wire-shape';

/**
 * Every event definition of every context, all versions. Adding a definition
 * to `ledgerEvents`, `registryEvents` or `auditEvents` is all it takes for it
 * to be decoded and to appear in `EventType` and `AnyEvent`.
 */
export const eventDefinitions = [...ledgerEvents, ...registryEvents, ...auditEvents] as const;

/**
 * Every upcaster. A context that publishes a second version of a type adds its
 * upcaster list here; loading fails until each superseded version has one.
 */
export const upcasters: readonly Upcaster[] = [...auditUpcasters];

type AnyDefinition = (typeof eventDefinitions)[number];

/** Every event type name in the catalogue. */
export type EventType = AnyDefinition['type'];

// ── "Latest version" at the type level ──
// Versions are small integer literals (≤ eventVersionMax), so comparing them by
// building tuples is cheap and exact.
type Tuple<N extends number, Acc extends unknown[] = []> = number extends N
  ? unknown[]
  : Acc['length'] extends N
    ? Acc
    : Tuple<N, [...Acc, unknown]>;
type GreaterThan<A extends number, B extends number> = Tuple<A> extends [...Tuple<B>, unknown, ...unknown[]]
  ? true
  : false;
type AnyGreater<U extends EventDefinition, V extends number> = true extends (
  U extends EventDefinition
    ? GreaterThan<U['version'], V>
    : never
)
  ? true
  : false;
type LatestAmong<U extends EventDefinition, All extends EventDefinition = U> = U extends EventDefinition
  ? AnyGreater<All, U['version']> extends true
    ? never
    : U
  : never;

/** The latest definition of `T`. */
export type LatestDefinition<T extends EventType> = LatestAmong<Extract<AnyDefinition, { type: T }>>;

/** The definition of `T` at version `V`. */
export type DefinitionAt<T extends EventType, V extends number> = Extract<
  AnyDefinition,
  { type: T; version: V }
>;

/** The decoded payload of the latest version of `T`. */
export type EventData<T extends EventType> = z.output<LatestDefinition<T>['data']>;

/** An event of type `T` as decoding returns it: latest version, decoded payload (money as bigint). */
export type EventOf<T extends EventType> = EventEnvelope<T, LatestDefinition<T>['version'], EventData<T>>;

/** Any event in the catalogue; narrow it with `switch (event.type)`. */
export type AnyEvent = { [T in EventType]: EventOf<T> }[EventType];

// ── Runtime registry ──

/** A consistent set of definitions and upcasters, checked when it is built. */
export interface Catalog {
  readonly definitions: readonly EventDefinition[];
  /** Type names, sorted. */
  readonly types: readonly string[];
  definition(type: string, version: number): EventDefinition | undefined;
  latest(type: string): EventDefinition | undefined;
  upcaster(type: string, fromVersion: number): Upcaster | undefined;
}

/** Thrown while loading: the catalogue itself is inconsistent, which is a bug that must stop startup. */
export class CatalogError extends Error {
  override readonly name = 'CatalogError';
}

const key = (type: string, version: number) => `${type}@${version}`;

/**
 * Indexes `definitions` by (type, version) and checks what decoding relies on:
 * names are well formed, payloads can be encoded canonically (`wireShapeProblems`),
 * no (type, version) is defined twice, each type's
 * versions are 1..n without gaps and keep one context and entity (so its
 * subjects never move), and every superseded version has exactly one upcaster.
 */
export function buildCatalog(
  definitions: readonly EventDefinition[],
  upcasterList: readonly Upcaster[] = [],
): Catalog {
  const byKey = new Map<string, EventDefinition>();
  const versionsByType = new Map<string, EventDefinition[]>();
  for (const definition of definitions) {
    const where = `${definition.type} v${definition.version}`;
    if (!eventTypeSchema.safeParse(definition.type).success) {
      throw new CatalogError(`event type ${JSON.stringify(definition.type)} must be PascalCase`);
    }
    if (!eventVersionSchema.safeParse(definition.version).success) {
      throw new CatalogError(`${where}: version must be an integer from 1`);
    }
    if (!(contexts as readonly string[]).includes(definition.context)) {
      throw new CatalogError(`${where}: unknown context ${JSON.stringify(definition.context)}`);
    }
    if (!entityNameSchema.safeParse(definition.entity).success) {
      throw new CatalogError(
        `${where}: entity ${JSON.stringify(definition.entity)} must be lower-case snake_case`,
      );
    }
    if (definition.description.trim() === '') throw new CatalogError(`${where}: description is empty`);
    const shape = wireShapeProblems(definition.data);
    if (shape.length > 0)
      throw new CatalogError(`${where}: payload cannot be encoded canonically: ${shape.join('; ')}`);
    if (byKey.has(key(definition.type, definition.version))) {
      throw new CatalogError(`${where} is defined twice`);
    }
    byKey.set(key(definition.type, definition.version), definition);
    const versions = versionsByType.get(definition.type) ?? [];
    versions.push(definition);
    versionsByType.set(definition.type, versions);
  }

  const latestByType = new Map<string, EventDefinition>();
  for (const [type, versions] of versionsByType) {
    versions.sort((a, b) => a.version - b.version);
    versions.forEach((definition, index) => {
      if (definition.version !== index + 1) {
        throw new CatalogError(
          `${type}: versions must run 1..n without gaps, found v${definition.version} as #${index + 1}`,
        );
      }
      const first = versions[0]!;
      if (definition.context !== first.context || definition.entity !== first.entity) {
        throw new CatalogError(
          `${type} v${definition.version} is ${definition.context}/${definition.entity} but v1 is ${first.context}/${first.entity}`,
        );
      }
    });
    latestByType.set(type, versions[versions.length - 1]!);
  }

  const upcasterByKey = new Map<string, Upcaster>();
  for (const upcaster of upcasterList) {
    const where = `upcaster ${upcaster.type} v${upcaster.fromVersion}→v${upcaster.fromVersion + 1}`;
    if (upcasterByKey.has(key(upcaster.type, upcaster.fromVersion)))
      throw new CatalogError(`${where} is defined twice`);
    const latest = latestByType.get(upcaster.type);
    if (latest === undefined || !byKey.has(key(upcaster.type, upcaster.fromVersion))) {
      throw new CatalogError(`${where} upcasts a version that is not in the catalogue`);
    }
    if (upcaster.fromVersion >= latest.version) {
      throw new CatalogError(`${where} upcasts the latest version (v${latest.version})`);
    }
    upcasterByKey.set(key(upcaster.type, upcaster.fromVersion), upcaster);
  }
  for (const [type, latest] of latestByType) {
    for (let version = 1; version < latest.version; version++) {
      if (!upcasterByKey.has(key(type, version))) {
        throw new CatalogError(
          `${type} v${version} is superseded by v${latest.version} but has no upcaster to v${version + 1}`,
        );
      }
    }
  }

  const ordered = [...definitions].sort((a, b) =>
    a.type === b.type ? a.version - b.version : a.type < b.type ? -1 : 1,
  );
  return Object.freeze({
    definitions: Object.freeze(ordered),
    types: Object.freeze([...latestByType.keys()].sort()),
    definition: (type: string, version: number) => byKey.get(key(type, version)),
    latest: (type: string) => latestByType.get(type),
    upcaster: (type: string, fromVersion: number) => upcasterByKey.get(key(type, fromVersion)),
  });
}

/** The product's catalogue: built (and checked) once, when the module loads. */
export const catalog: Catalog = buildCatalog(eventDefinitions, upcasters);

/** The latest definition of `type`, typed; throws for a type that is not in the catalogue. */
export function latestDefinition<T extends EventType>(type: T): LatestDefinition<T> {
  const definition = catalog.latest(type);
  if (definition === undefined) throw new CatalogError(`event type ${type} is not in the catalogue`);
  return definition as LatestDefinition<T>;
}

export function contextOf(type: EventType): Context {
  return latestDefinition(type).context;
}
