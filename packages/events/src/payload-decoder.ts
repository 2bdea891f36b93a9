import type { z } from 'zod';
import type { EventDefinition } from './define';
import { checksOf, type Node, nativeLeaf, rewrites } from './zod-leaves';

/**
 * Decoding a payload without zod's per-field runs where it can vouch for the answer: what
 * `z.safeDecode(definition.data, data)` answers for a payload it accepts, or undefined (then
 * `z.safeDecode` decides, and names every problem).
 *
 * The payload schema is compiled once: objects, arrays, nullable and optional are walked by
 * compiled code that builds the output as zod's parse builds it (a new object with the shape's
 * keys in the shape's order, unknown keys left out, a strict object's unknown key not vouched
 * for); a leaf whose checks are a length, a pattern, a safe integer or a bound (nativeLeaf) and an
 * enum are decided in place; every other node (the fen codecs, dates, administrative codes, unions,
 * refinements …) is run by zod's own `_zod.run` for that node, forward, as zod's parse runs it.
 * Array checks (lengths, uniqueness refinements) run on the output array, as in zod's parse.
 * test/decode-equivalence.test.ts holds it to `z.safeDecode` on generated payloads of every type.
 */
export type PayloadDecoder = (data: unknown) => { readonly value: unknown } | undefined;

/** Thrown inside a compiled reader when it cannot vouch for a value; never escapes. */
const notFast = Symbol('not fast');

type Reader = (value: unknown) => unknown;

// As z.safeDecode runs a schema: forward, synchronous.
const forward = { async: false };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function delegate(node: Node): Reader {
  return (value) => {
    const result = node._zod.run({ value, issues: [] }, forward) as { value: unknown; issues: unknown[] };
    if (result instanceof Promise || result.issues.length > 0) throw notFast;
    return result.value;
  };
}

/** Runs `checks` on `value` as zod's runChecks does; true when none adds an issue. */
function passes(checks: readonly Node[], value: unknown): boolean {
  const payload = { value, issues: [] as unknown[] };
  for (const check of checks) {
    const when = check._zod.def.when as ((p: unknown) => boolean) | undefined;
    if (when !== undefined && !when(payload)) continue;
    const result = (check._zod as unknown as { check(p: unknown): unknown }).check(payload);
    if (result instanceof Promise || payload.issues.length > 0) return false;
  }
  return true;
}

function compile(node: Node): Reader {
  const def = node._zod.def;
  switch (def.type) {
    case 'nullable': {
      if (checksOf(node).length > 0) return delegate(node);
      const inner = compile(def.innerType as Node);
      return (value) => (value === null ? null : inner(value));
    }
    case 'optional': {
      const innerNode = def.innerType as Node & { _zod: { optin?: string } };
      // optional(default(…)) and friends decide undefined themselves: zod's job.
      if (checksOf(node).length > 0 || innerNode._zod.optin === 'optional') return delegate(node);
      const inner = compile(innerNode);
      return (value) => (value === undefined ? undefined : inner(value));
    }
    case 'array':
      return compileArray(node);
    case 'object':
      return compileObject(node);
    case 'enum': {
      const values = (node._zod as unknown as { values: ReadonlySet<unknown> }).values;
      if (checksOf(node).length > 0) return delegate(node);
      return (value) => {
        if (!values.has(value)) throw notFast;
        return value;
      };
    }
    default: {
      const native = rewrites(node) ? undefined : nativeLeaf(node);
      if (native === undefined) return delegate(node);
      return (value) => {
        if (!native(value)) throw notFast;
        return value;
      };
    }
  }
}

function compileArray(node: Node): Reader {
  if (rewrites(node)) return delegate(node);
  const element = compile(node._zod.def.element as Node);
  const checks = checksOf(node);
  return (value) => {
    if (!Array.isArray(value)) throw notFast;
    const out = new Array<unknown>(value.length);
    for (let index = 0; index < value.length; index++) out[index] = element(value[index]);
    if (checks.length > 0 && !passes(checks, out)) throw notFast;
    return out;
  };
}

function compileObject(node: Node): Reader {
  const def = node._zod.def;
  // Object-level refinements and catch-alls other than strict's: zod's.
  if (checksOf(node).length > 0) return delegate(node);
  const catchall = def.catchall as Node | undefined;
  const strict = catchall !== undefined && catchall._zod.def.type === 'never';
  if (catchall !== undefined && !strict) return delegate(node);
  const shape = def.shape as Record<string, Node>;
  const keys = Object.keys(shape);
  const known = new Set(keys);
  const fields = keys.map((key) => ({ key, read: compile(shape[key]!) }));
  return (value) => {
    if (!isObject(value)) throw notFast;
    if (strict) for (const key of Object.keys(value)) if (!known.has(key)) throw notFast;
    const out: Record<string, unknown> = {};
    for (const { key, read } of fields) {
      const item = read(value[key]);
      // As zod: a key whose answer is undefined is kept only when the input has it.
      if (item !== undefined) out[key] = item;
      else if (key in value) out[key] = undefined;
    }
    return out;
  };
}

const decoders = new WeakMap<EventDefinition, PayloadDecoder>();

/** The compiled decoder of `definition`'s payload (built on first use, kept per definition). */
export function payloadDecoder(definition: EventDefinition): PayloadDecoder {
  let decoder = decoders.get(definition);
  if (decoder === undefined) {
    const read = compile(definition.data as z.ZodType as unknown as Node);
    decoder = (data) => {
      try {
        return { value: read(data) };
      } catch (error) {
        if (error === notFast) return undefined;
        throw error;
      }
    };
    decoders.set(definition, decoder);
  }
  return decoder;
}
