/**
 * The canonical encoding: the one byte form of an event, stored in JetStream and
 * hashed into the Merkle log. It is RFC 8785 (JSON Canonicalization Scheme)
 * restricted to the values events need, so that every value has exactly one
 * spelling and anyone can re-derive the bytes in any language:
 *
 * - object keys sorted by UTF-16 code units (plain `Array.prototype.sort`), as JCS;
 * - no insignificant whitespace; strings escaped as ECMAScript `JSON.stringify`
 *   does, which is what JCS specifies;
 * - numbers only as safe integers (|n| ≤ 2^53 − 1, not −0): JCS would print a float
 *   in its shortest form, but a float in an event is a bug (money is a string of
 *   digits), and an integer beyond 2^53 does not survive `JSON.parse` elsewhere;
 * - no `undefined`, functions, symbols, bigint (the zod codecs turn money into
 *   strings first), Date or other class instances, and no lone surrogates in
 *   strings (they have no UTF-8 form; RFC 8785 §3.2.2.2 / I-JSON forbid them).
 *
 * See docs/decisions/0001-canonical-encoding.md.
 */

/** A value the canonical encoding accepts. */
export type CanonicalValue =
  | string
  | number
  | boolean
  | null
  | readonly CanonicalValue[]
  | { readonly [key: string]: CanonicalValue };

/**
 * Deepest nesting accepted. Events are a few levels deep (envelope → data →
 * list → item → ref); the bound keeps hostile or cyclic input from overflowing
 * the stack and reports it as what it is.
 */
export const canonicalDepthMax = 32;

export class CanonicalEncodingError extends Error {
  override readonly name = 'CanonicalEncodingError';
  constructor(
    /** JSON-pointer-like path to the offending value, e.g. `/data/amounts/0/amountFen`. */
    readonly path: string,
    readonly problem: string,
  ) {
    super(`cannot encode canonically at ${path || '/'}: ${problem}`);
  }
}

const loneSurrogate = /\p{Cs}/u;

function pointer(path: string, key: string | number): string {
  return `${path}/${String(key).replaceAll('~', '~0').replaceAll('/', '~1')}`;
}

function write(value: unknown, path: string, depth: number, out: string[]): void {
  switch (typeof value) {
    case 'string':
      if (loneSurrogate.test(value)) {
        throw new CanonicalEncodingError(path, 'string contains a lone UTF-16 surrogate');
      }
      out.push(JSON.stringify(value));
      return;
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'number':
      if (!Number.isSafeInteger(value)) {
        throw new CanonicalEncodingError(
          path,
          `number ${value} is not a safe integer (floats, NaN, Infinity and integers beyond 2^53 - 1 are not allowed; money travels as a string of digits)`,
        );
      }
      if (Object.is(value, -0)) throw new CanonicalEncodingError(path, 'number -0 has no canonical form');
      out.push(String(value));
      return;
    case 'bigint':
      throw new CanonicalEncodingError(
        path,
        `bigint ${value} must be encoded to a string by its schema's codec first (z.encode)`,
      );
    case 'undefined':
      throw new CanonicalEncodingError(path, 'undefined has no JSON form (omit the property instead)');
    case 'function':
    case 'symbol':
      throw new CanonicalEncodingError(path, `a ${typeof value} has no JSON form`);
    case 'object':
      break;
  }
  if (value === null) {
    out.push('null');
    return;
  }
  if (depth >= canonicalDepthMax) {
    throw new CanonicalEncodingError(path, `nested deeper than ${canonicalDepthMax} levels (or cyclic)`);
  }
  if (Array.isArray(value)) {
    out.push('[');
    for (let index = 0; index < value.length; index++) {
      if (index > 0) out.push(',');
      // A hole in a sparse array reads as undefined and is rejected like one.
      write(value[index], pointer(path, index), depth + 1, out);
    }
    out.push(']');
    return;
  }
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) {
    const kind = (value as object).constructor?.name ?? 'object';
    throw new CanonicalEncodingError(path, `a ${kind} is not a plain object`);
  }
  const record = value as Record<string, unknown>;
  // Default sort compares UTF-16 code units, exactly the order RFC 8785 §3.2.3 requires.
  const keys = Object.keys(record).sort();
  out.push('{');
  for (let index = 0; index < keys.length; index++) {
    const key = keys[index]!;
    if (loneSurrogate.test(key)) {
      throw new CanonicalEncodingError(pointer(path, key), 'key contains a lone UTF-16 surrogate');
    }
    if (index > 0) out.push(',');
    out.push(JSON.stringify(key), ':');
    write(record[key], pointer(path, key), depth + 1, out);
  }
  out.push('}');
}

/** The canonical JSON text of `value`; throws `CanonicalEncodingError` for anything outside the subset. */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  write(value, '', 0, out);
  return out.join('');
}

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** UTF-8 bytes of `canonicalJson(value)`. */
export function canonicalBytes(value: unknown): Uint8Array {
  return utf8.encode(canonicalJson(value));
}

export type CanonicalParseResult =
  | { readonly ok: true; readonly value: CanonicalValue; readonly text: string }
  | { readonly ok: false; readonly problem: string };

/**
 * Parses bytes that must be canonical: valid UTF-8 (no BOM), valid JSON, and
 * byte-for-byte what `canonicalBytes` makes of the parsed value. The last check
 * refuses duplicate keys, unsorted keys, whitespace, floats, `1.0`, `1e3`,
 * escaped-but-printable characters and integers that JSON.parse would round, so
 * one event never has two byte forms (and two leaf hashes).
 */
export function parseCanonical(bytes: Uint8Array): CanonicalParseResult {
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    return { ok: false, problem: 'bytes are not valid UTF-8' };
  }
  if (text.charCodeAt(0) === 0xfeff) return { ok: false, problem: 'bytes start with a byte order mark' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, problem: `not JSON: ${(error as Error).message}` };
  }
  let again: string;
  try {
    again = canonicalJson(value);
  } catch (error) {
    return { ok: false, problem: `not canonical: ${(error as Error).message}` };
  }
  if (again !== text) {
    return { ok: false, problem: `not canonical: ${firstDifference(text, again)}` };
  }
  return { ok: true, value: value as CanonicalValue, text };
}

function firstDifference(actual: string, canonical: string): string {
  let index = 0;
  while (index < actual.length && actual[index] === canonical[index]) index++;
  const around = (text: string) => JSON.stringify(text.slice(Math.max(0, index - 10), index + 10));
  return `differs from the canonical form at character ${index}: ${around(actual)} instead of ${around(canonical)}`;
}
