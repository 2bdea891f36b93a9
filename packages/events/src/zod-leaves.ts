/**
 * What fast-encode.ts (encoding) and payload-decoder.ts (decoding) know of zod's internals: a
 * schema node, its checks, and the few leaf checks decided without a zod run. Internal to the
 * package: both paths hand anything else to zod itself.
 */

export interface Node {
  readonly _zod: {
    readonly def: Record<string, unknown> & { readonly type: string };
    readonly traits: ReadonlySet<string>;
    run(payload: { value: unknown; issues: unknown[] }, ctx: object): unknown;
  };
}

export function checksOf(node: Node): readonly Node[] {
  return ((node._zod.def.checks as Node[] | undefined) ?? []).concat(
    node._zod.traits.has('$ZodCheck') ? [node] : [],
  );
}

/** A check that rewrites the value (trim, toLowerCase …) cannot be run on the side. */
export function rewrites(node: Node): boolean {
  return checksOf(node).some((check) => check._zod.def.check === 'overwrite');
}

/**
 * The few check kinds the catalogue's leaves use, decided here without a zod
 * run (the run allocates payloads and issue arrays, most of a leaf's cost):
 * exactly the comparisons zod's checks make (zod/v4/core checks.js), on exactly
 * the types zod's parse accepts. Any other check, a coercing schema, or another
 * type: undefined, and zod runs the leaf.
 */
type Test = (value: never) => boolean;

export function nativeLeaf(node: Node): ((value: unknown) => boolean) | undefined {
  const def = node._zod.def as Node['_zod']['def'] & { coerce?: boolean };
  const type = def.type;
  if (def.coerce || (type !== 'string' && type !== 'number' && type !== 'bigint')) return undefined;
  const tests: Test[] = [];
  for (const check of checksOf(node)) {
    const c = check._zod.def as Record<string, unknown> & { check?: string };
    if (c.when !== undefined && c.check !== 'min_length' && c.check !== 'max_length') return undefined;
    switch (c.check) {
      case 'min_length': {
        const minimum = c.minimum as number;
        if (type !== 'string') return undefined;
        tests.push((v: string) => v.length >= minimum);
        break;
      }
      case 'max_length': {
        const maximum = c.maximum as number;
        if (type !== 'string') return undefined;
        tests.push((v: string) => v.length <= maximum);
        break;
      }
      case 'string_format': {
        const pattern = c.pattern;
        if (c.format !== 'regex' || !(pattern instanceof RegExp) || type !== 'string') return undefined;
        tests.push((v: string) => {
          pattern.lastIndex = 0;
          return pattern.test(v);
        });
        break;
      }
      case 'number_format':
        if (c.format !== 'safeint' || type !== 'number') return undefined;
        tests.push((v: number) => Number.isSafeInteger(v));
        break;
      case 'greater_than': {
        const bound = c.value as number | bigint;
        if (typeof bound !== (type === 'bigint' ? 'bigint' : 'number') || type === 'string') return undefined;
        tests.push(c.inclusive ? (v: number) => v >= bound : (v: number) => v > bound);
        break;
      }
      case 'less_than': {
        const bound = c.value as number | bigint;
        if (typeof bound !== (type === 'bigint' ? 'bigint' : 'number') || type === 'string') return undefined;
        tests.push(c.inclusive ? (v: number) => v <= bound : (v: number) => v < bound);
        break;
      }
      default:
        return undefined;
    }
  }
  const isType =
    type === 'string'
      ? (v: unknown) => typeof v === 'string'
      : type === 'number'
        ? (v: unknown) => typeof v === 'number' && Number.isFinite(v)
        : (v: unknown) => typeof v === 'bigint';
  return (value) => {
    if (!isType(value)) return false;
    for (const test of tests) if (!test(value as never)) return false;
    return true;
  };
}
