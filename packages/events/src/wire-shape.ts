import type { z } from 'zod';

/**
 * Load-time check that a payload schema can be encoded canonically: it must
 * not contain a one-way `.transform()`/`z.preprocess` (z.encode cannot run it
 * backwards), and its wire side (the input of every codec) may only hold JSON
 * values the canonical encoding accepts: no Date, bigint, Map, Set, undefined
 * or functions, and numbers only as integers (a float has no canonical form;
 * money goes through the fen codecs). Failing here stops startup with the
 * field's path instead of failing the first append that reaches that field.
 */
export function wireShapeProblems(schema: z.ZodType): string[] {
  const problems: string[] = [];
  // Schemas are shared between fields; visit each once per side (wire or code).
  const seen = { wire: new Set<Node>(), code: new Set<Node>() };
  visit(schema as unknown as Node, '', true, seen, problems);
  return problems;
}

interface Node {
  _zod: { def: Record<string, unknown> & { type: string } };
}

const notJson = new Set([
  'date',
  'bigint',
  'map',
  'set',
  'symbol',
  'undefined',
  'void',
  'function',
  'promise',
  'nan',
  'file',
]);
const integerFormats = new Set(['safeint', 'int32', 'uint32']);

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && '_zod' in value;
}

function isIntegerNumber(def: Record<string, unknown>): boolean {
  if (typeof def.format === 'string' && integerFormats.has(def.format)) return true;
  const checks = (def.checks as Node[] | undefined) ?? [];
  return checks.some((check) => {
    const format = check._zod.def.format;
    return typeof format === 'string' && integerFormats.has(format);
  });
}

function visit(
  node: Node,
  path: string,
  wire: boolean,
  seen: { wire: Set<Node>; code: Set<Node> },
  problems: string[],
): void {
  const visited = wire ? seen.wire : seen.code;
  if (visited.has(node)) return;
  visited.add(node);
  const def = node._zod.def;
  const at = path || '/';
  if (def.type === 'transform') {
    problems.push(`${at}: a one-way transform cannot be encoded; use z.codec with both directions`);
    return;
  }
  if (wire && notJson.has(def.type)) {
    problems.push(
      `${at}: a ${def.type} has no canonical JSON form; encode it with a codec (as fenSchema does for bigint)`,
    );
  }
  if (wire && def.type === 'number' && !isIntegerNumber(def)) {
    problems.push(`${at}: numbers must be integers (z.int() or .int()); a float has no canonical form`);
  }
  if (def.type === 'pipe' && 'reverseTransform' in def) {
    // A codec: `in` is the wire form, `out` the form the code sees.
    visit(def.in as Node, path, wire, seen, problems);
    visit(def.out as Node, path, false, seen, problems);
    return;
  }
  if (def.type === 'lazy') {
    visit((def.getter as () => Node)(), path, wire, seen, problems);
    return;
  }
  if (def.type === 'object') {
    for (const [key, child] of Object.entries(def.shape as Record<string, Node>)) {
      visit(child, `${path}/${key}`, wire, seen, problems);
    }
    if (isNode(def.catchall)) visit(def.catchall, `${path}/*`, wire, seen, problems);
    return;
  }
  for (const [key, value] of Object.entries(def)) {
    if (key === 'checks' || key === 'type') continue;
    const step = def.type === 'array' || def.type === 'record' || def.type === 'tuple' ? `${path}/*` : path;
    if (isNode(value)) visit(value, step, wire, seen, problems);
    else if (Array.isArray(value))
      for (const item of value) if (isNode(item)) visit(item, step, wire, seen, problems);
  }
}
