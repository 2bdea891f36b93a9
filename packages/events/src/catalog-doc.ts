import { z } from 'zod';
import type { Catalog } from './catalog';
import type { EventDefinition } from './define';

/**
 * docs/events.md, rendered from the catalogue so the documentation cannot drift
 * from the schemas: a test fails when the file is stale, and
 * `pnpm --filter @fundtrace/events run catalog-doc` rewrites it.
 */
export function renderCatalogDoc(events: Catalog): string {
  const lines: string[] = [
    '# Event catalogue',
    '',
    '<!-- Generated from packages/events by `pnpm --filter @fundtrace/events run catalog-doc`; do not edit by hand. -->',
    '',
    'Every event is stored as the canonical JSON of its envelope (docs/decisions/0001-canonical-encoding.md):',
    '`id` (uuid v7), `type`, `version`, `partition`, `occurredAt`, `recordedAt`, `actor`, `commandId`,',
    '`correlationId`, optional `causationId`, and `data`, the payload below. Money is a string of digits',
    '(fen) on the wire. Subjects are `<context>.<partition>.<entity>.<id>`; older versions are upcast to the',
    'latest when read.',
    '',
    '| type | versions | context | entity | description |',
    '| --- | --- | --- | --- | --- |',
  ];
  const byType = new Map<string, EventDefinition[]>();
  for (const definition of events.definitions) {
    byType.set(definition.type, [...(byType.get(definition.type) ?? []), definition]);
  }
  const contextOrder = ['ledger', 'registry', 'audit'];
  const types = [...byType.keys()].sort((a, b) => {
    const ca = contextOrder.indexOf(events.latest(a)!.context);
    const cb = contextOrder.indexOf(events.latest(b)!.context);
    return ca !== cb ? ca - cb : a < b ? -1 : a > b ? 1 : 0;
  });
  for (const type of types) {
    const latest = events.latest(type)!;
    const versions = byType
      .get(type)!
      .map((d) => `v${d.version}`)
      .join(', ');
    lines.push(
      `| [${type}](#${type.toLowerCase()}) | ${versions} | ${latest.context} | ${latest.entity} | ${cell(latest.description)} |`,
    );
  }
  for (const type of types) {
    for (const definition of [...byType.get(type)!].reverse()) {
      const latest = events.latest(type)!.version === definition.version;
      lines.push('', `## ${type}${latest ? '' : ` v${definition.version} (superseded)`}`, '');
      lines.push(
        `Version ${definition.version} · context \`${definition.context}\` · subject \`${definition.context}.<partition>.${definition.entity}.<id>\``,
        '',
        definition.description,
        '',
        '| field | type | required |',
        '| --- | --- | --- |',
        ...fieldRows(definition),
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  description?: string;
}

function fieldRows(definition: EventDefinition): string[] {
  // The wire form ("input"), which is what the bytes hold: money is a string there.
  const schema = z.toJSONSchema(definition.data, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const required = new Set(schema.required ?? []);
  const properties = Object.entries(schema.properties ?? {});
  if (properties.length === 0) return ['| (none) | | |'];
  return properties.map(
    ([name, property]) =>
      `| \`${name}\` | ${cell(describeType(property))} | ${required.has(name) ? 'yes' : 'no'} |`,
  );
}

function describeType(schema: JsonSchema): string {
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.enum !== undefined) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
  const union = schema.anyOf ?? schema.oneOf;
  if (union !== undefined) return union.map(describeType).join(' or ');
  const type = Array.isArray(schema.type) ? schema.type.join(' or ') : schema.type;
  if (type === 'array') return `array of ${schema.items ? describeType(schema.items) : 'any'}`;
  if (type === 'object' && schema.properties !== undefined) {
    return `{ ${Object.keys(schema.properties).join(', ')} }`;
  }
  if (type === 'string' && schema.description?.includes('fen')) return 'fen (string of digits)';
  return type ?? 'any';
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}
