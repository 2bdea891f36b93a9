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
/** Cheap pre-check: only strings with a surrogate code unit need the Unicode-aware test. */
const anySurrogate = /[\uD800-\uDFFF]/;

/** True when `text` holds a UTF-16 surrogate without its pair (no UTF-8 form, so no canonical form). */
export function hasLoneSurrogate(text: string): boolean {
  return anySurrogate.test(text) && loneSurrogate.test(text);
}

/**
 * The path to the current value, kept as a stack of keys and turned into a
 * JSON pointer only when there is an error to report (building strings for
 * every value would dominate the cost of encoding).
 */
type Path = (string | number)[];

function pointer(path: Path): string {
  return path.map((key) => `/${String(key).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

function fail(path: Path, problem: string): never {
  throw new CanonicalEncodingError(pointer(path), problem);
}

function write(value: unknown, path: Path): string {
  if (typeof value === 'string') {
    if (hasLoneSurrogate(value)) fail(path, 'string contains a lone UTF-16 surrogate');
    return JSON.stringify(value);
  }
  if (typeof value === 'boolean') {
    return value ? 'true' : 'false';
  }
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      fail(
        path,
        `number ${value} is not a safe integer (floats, NaN, Infinity and integers beyond 2^53 - 1 are not allowed; money travels as a string of digits)`,
      );
    }
    if (Object.is(value, -0)) fail(path, 'number -0 has no canonical form');
    return String(value);
  }
  if (typeof value === 'bigint') {
    fail(path, `bigint ${value} must be encoded to a string by its schema's codec first (z.encode)`);
  }
  if (value === undefined) fail(path, 'undefined has no JSON form (omit the property instead)');
  if (typeof value !== 'object') fail(path, `a ${typeof value} has no JSON form`);
  if (value === null) {
    return 'null';
  }
  if (path.length >= canonicalDepthMax)
    fail(path, `nested deeper than ${canonicalDepthMax} levels (or cyclic)`);
  if (Array.isArray(value)) {
    // String concatenation: V8 builds ropes, faster here than collecting parts and joining.
    let text = '[';
    for (let index = 0; index < value.length; index++) {
      if (index > 0) text += ',';
      path.push(index);
      // A hole in a sparse array reads as undefined and is rejected like one.
      text += write(value[index], path);
      path.pop();
    }
    return `${text}]`;
  }
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) {
    fail(path, `a ${(value as object).constructor?.name ?? 'object'} is not a plain object`);
  }
  const record = value as Record<string, unknown>;
  // Default sort compares UTF-16 code units, exactly the order RFC 8785 §3.2.3 requires.
  const keys = Object.keys(record).sort();
  let text = '{';
  for (let index = 0; index < keys.length; index++) {
    const key = keys[index]!;
    path.push(key);
    if (hasLoneSurrogate(key)) fail(path, 'key contains a lone UTF-16 surrogate');
    if (index > 0) text += ',';
    text += `${JSON.stringify(key)}:${write(record[key], path)}`;
    path.pop();
  }
  return `${text}}`;
}

/** The canonical JSON text of `value`; throws `CanonicalEncodingError` for anything outside the subset. */
export function canonicalJson(value: unknown): string {
  return write(value, []);
}

/**
 * The canonical JSON text of `value` found `depth` levels inside a larger value
 * (the nesting limit counts from the outer value's root). For writers that
 * render parts of an event separately (fast-encode.ts); error paths start at
 * the part.
 */
export function canonicalJsonAtDepth(value: unknown, depth: number): string {
  return write(
    value,
    Array.from({ length: depth }, () => '…'),
  );
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
  // Most bytes are canonical: confirm that without building the canonical text again (below). Text
  // without a backslash is read against the value in place; text with one is re-stringified.
  if (
    text.indexOf('\\') === -1
      ? spelledCanonically(value, text, 0, 0) === text.length
      : JSON.stringify(value) === text && canonicalAsParsed(value, 0)
  ) {
    return { ok: true, value: value as CanonicalValue, text };
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

/**
 * True when `canonicalJson(value)` would be `JSON.stringify(value)`, for a value `JSON.parse` made:
 * every object's keys (in the order JSON.parse kept them, which JSON.stringify writes) already
 * sorted by UTF-16 code units and free of lone surrogates, every string free of lone surrogates,
 * every number a safe integer, nesting within `canonicalDepthMax`. Strings, keys, safe integers,
 * booleans and null are then written identically by both, so `JSON.stringify(value) === text`
 * proves the text canonical at a third of the cost of re-encoding it. Any `false` (integer-like
 * keys, which V8 lists in numeric order, included) falls back to the full check, which also
 * names the problem.
 */
function canonicalAsParsed(value: unknown, depth: number): boolean {
  if (typeof value === 'string') return !hasLoneSurrogate(value);
  if (typeof value === 'number') return Number.isSafeInteger(value) && !Object.is(value, -0);
  if (value === null || typeof value === 'boolean') return true;
  if (typeof value !== 'object' || depth >= canonicalDepthMax) return false;
  if (Array.isArray(value)) {
    for (const item of value) if (!canonicalAsParsed(item, depth + 1)) return false;
    return true;
  }
  const record = value as Record<string, unknown>;
  let previous: string | undefined;
  for (const key of Object.keys(record)) {
    if ((previous !== undefined && !(previous < key)) || hasLoneSurrogate(key)) return false;
    if (!canonicalAsParsed(record[key], depth + 1)) return false;
    previous = key;
  }
  return true;
}

const quote = 0x22;
const comma = 0x2c;
const colon = 0x3a;
const minus = 0x2d;
const digit0 = 0x30;
const digit9 = 0x39;
/** Longest spelling of a safe integer's magnitude (2^53 − 1 has 16 digits). */
const safeIntegerDigitsMax = 16;

/**
 * Where the canonical spelling of `value` ends in `text` when `text` spells it canonically from
 * `at` on, else -1. Only for a `text` that JSON.parse read into the value being checked, is valid
 * UTF-8 and holds no backslash. Then no string in it has an escape: a string (or key) is its
 * characters between quotes, none of them a quote, a control character (JSON.parse refused those)
 * or a lone surrogate (strict UTF-8 has none), so its canonical spelling is `"` + string + `"` and
 * is compared in place. Every other piece is compared exactly too (punctuation, `true`, `false`,
 * `null`, an integer's digits against its value), keys must come strictly sorted and numbers must be
 * safe integers other than -0, nesting within `canonicalDepthMax`: the walk of `canonicalAsParsed`
 * and the comparison of `JSON.stringify(value)` with the text in one pass, without building a string.
 * A text with duplicate keys ends with pieces left over and is refused. Any -1 falls back to the
 * full check (which names the problem).
 */
function spelledCanonically(value: unknown, text: string, at: number, depth: number): number {
  if (typeof value === 'string') {
    const end = at + 1 + value.length;
    if (text.charCodeAt(at) !== quote || text.charCodeAt(end) !== quote) return -1;
    return text.slice(at + 1, end) === value ? end + 1 : -1;
  }
  if (typeof value === 'number') return spelledInteger(value, text, at);
  if (value === null) return text.startsWith('null', at) ? at + 4 : -1;
  if (value === true) return text.startsWith('true', at) ? at + 4 : -1;
  if (value === false) return text.startsWith('false', at) ? at + 5 : -1;
  if (typeof value !== 'object' || depth >= canonicalDepthMax) return -1;
  let next = at + 1;
  if (Array.isArray(value)) {
    if (text.charCodeAt(at) !== 0x5b) return -1; // [
    for (let index = 0; index < value.length; index++) {
      if (index > 0) {
        if (text.charCodeAt(next) !== comma) return -1;
        next++;
      }
      next = spelledCanonically(value[index], text, next, depth + 1);
      if (next < 0) return -1;
    }
    return text.charCodeAt(next) === 0x5d ? next + 1 : -1; // ]
  }
  if (text.charCodeAt(at) !== 0x7b) return -1; // {
  const record = value as Record<string, unknown>;
  let previous: string | undefined;
  for (const key of Object.keys(record)) {
    if (previous !== undefined) {
      if (!(previous < key) || text.charCodeAt(next) !== comma) return -1;
      next++;
    }
    next = spelledCanonically(key, text, next, depth);
    if (next < 0 || text.charCodeAt(next) !== colon) return -1;
    next = spelledCanonically(record[key], text, next + 1, depth + 1);
    if (next < 0) return -1;
    previous = key;
  }
  return text.charCodeAt(next) === 0x7d ? next + 1 : -1; // }
}

/** Where `value`'s canonical digits end in `text` when they start at `at`, else -1. */
function spelledInteger(value: number, text: string, at: number): number {
  if (!Number.isSafeInteger(value) || Object.is(value, -0)) return -1;
  let next = at;
  if (text.charCodeAt(next) === minus) next++;
  const first = next;
  let magnitude = 0;
  for (let code = text.charCodeAt(next); code >= digit0 && code <= digit9; code = text.charCodeAt(++next)) {
    magnitude = magnitude * 10 + (code - digit0);
  }
  const digits = next - first;
  if (digits === 0 || digits > safeIntegerDigitsMax) return -1;
  // One spelling per integer: no leading zero, and a minus sign only before a magnitude above 0.
  if (digits > 1 && text.charCodeAt(first) === digit0) return -1;
  return (first > at ? -magnitude : magnitude) === value && !(first > at && magnitude === 0) ? next : -1;
}

function firstDifference(actual: string, canonical: string): string {
  let index = 0;
  while (index < actual.length && actual[index] === canonical[index]) index++;
  const around = (text: string) => JSON.stringify(text.slice(Math.max(0, index - 10), index + 10));
  return `differs from the canonical form at character ${index}: ${around(actual)} instead of ${around(canonical)}`;
}
