import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CanonicalEncodingError,
  canonicalBytes,
  canonicalDepthMax,
  canonicalJson,
  parseCanonical,
} from '../src';

const utf8 = new TextEncoder();

/** JSON values the canonical subset accepts: no floats, no -0. */
const canonicalValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string({ unit: 'grapheme' }),
    fc.string({ unit: 'binary' }).filter((s) => !/\p{Cs}/u.test(s)),
    fc.boolean(),
    fc.constant(null),
    fc.maxSafeInteger().filter((n) => !Object.is(n, -0)),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(
      fc.string({ unit: 'binary' }).filter((s) => !/\p{Cs}/u.test(s)),
      tie('value'),
      { maxKeys: 5, noNullPrototype: true },
    ),
  ),
})).value;

function shuffleKeys(value: unknown, seed: number): unknown {
  if (Array.isArray(value)) return value.map((item) => shuffleKeys(item, seed));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  // Deterministic rotation by seed: a different insertion order, same content.
  const rotated = entries.map((_, i) => entries[(i + seed) % entries.length]!).reverse();
  return Object.fromEntries(rotated.map(([k, v]) => [k, shuffleKeys(v, seed + 1)]));
}

/** What parseCanonical decided before it had a fast path: re-encode the parsed value and compare. */
function reencodes(text: string): boolean {
  try {
    return canonicalJson(JSON.parse(text)) === text;
  } catch {
    return false;
  }
}

function safeCanonical(value: unknown): string | undefined {
  try {
    return canonicalJson(value);
  } catch {
    return undefined;
  }
}

/** [1, <hole>, 2]: a hole reads as undefined. */
function sparse(): unknown[] {
  const array: unknown[] = [1];
  array[2] = 2;
  return array;
}

describe('canonicalJson', () => {
  it('sorts keys by UTF-16 code units, as the RFC 8785 §3.2.3 example', () => {
    // From RFC 8785: by code point the emoji (U+1F600) would sort after U+FB33; by UTF-16 units (D83D) it sorts before.
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    expect(canonicalJson(input)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","ö":"Latin Small Letter O With Diaeresis","€":"Euro Sign","😀":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it('writes no whitespace and sorts nested objects, keeping array order', () => {
    expect(canonicalJson({ b: [3, { z: 1, a: 2 }, 1], a: { d: null, c: true } })).toBe(
      '{"a":{"c":true,"d":null},"b":[3,{"a":2,"z":1},1]}',
    );
    expect(canonicalJson({})).toBe('{}');
    expect(canonicalJson([])).toBe('[]');
  });

  it('escapes strings as JCS does: short escapes, lower-case \\u00xx for other controls, nothing else', () => {
    expect(canonicalJson('\b\t\n\f\r"\\')).toBe('"\\b\\t\\n\\f\\r\\"\\\\"');
    expect(canonicalJson('\u0000\u001f\u007f')).toBe('"\\u0000\\u001f\u007f"');
    expect(canonicalJson('/ 内乡县 €')).toBe('"/ 内乡县 €"');
    expect(canonicalBytes('内')).toEqual(utf8.encode('"内"'));
  });

  it('keeps a surrogate pair and rejects a lone surrogate in a value or a key', () => {
    expect(canonicalJson('😀')).toBe('"😀"');
    expect(() => canonicalJson('\ud83d')).toThrow(CanonicalEncodingError);
    expect(() => canonicalJson({ '\ude00': 1 })).toThrow(/lone UTF-16 surrogate/);
  });

  it('accepts safe integers up to ±(2^53 - 1) and rejects floats, -0, NaN, Infinity and beyond', () => {
    expect(canonicalJson(Number.MAX_SAFE_INTEGER)).toBe('9007199254740991');
    expect(canonicalJson(Number.MIN_SAFE_INTEGER)).toBe('-9007199254740991');
    expect(canonicalJson(0)).toBe('0');
    for (const bad of [
      0.5,
      1.1,
      -0,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      2 ** 53,
    ]) {
      expect(() => canonicalJson({ amount: bad }), String(bad)).toThrow(CanonicalEncodingError);
    }
  });

  it('rejects values JSON cannot carry exactly, naming the path', () => {
    const cases: [unknown, RegExp][] = [
      [{ a: { b: 1n } }, /\/a\/b: bigint 1 must be encoded/],
      [{ a: undefined }, /\/a: undefined/],
      [[1, undefined], /\/1: undefined/],
      [sparse(), /\/1: undefined/],
      [{ at: new Date(0) }, /\/at: a Date is not a plain object/],
      [{ m: new Map() }, /a Map is not a plain object/],
      [{ f: () => 1 }, /a function/],
      [{ s: Symbol('x') }, /a symbol/],
      [undefined, /undefined/],
    ];
    for (const [value, message] of cases) {
      expect(() => canonicalJson(value)).toThrow(message);
    }
  });

  it('escapes "/" and "~" in error paths as JSON pointers do', () => {
    expect(() => canonicalJson({ 'a/b': { '~': 0.5 } })).toThrow(/at \/a~1b\/~0:/);
  });

  it('accepts objects without prototype', () => {
    const bare = Object.create(null) as Record<string, unknown>;
    bare.b = 1;
    bare.a = 2;
    expect(canonicalJson(bare)).toBe('{"a":2,"b":1}');
  });

  it(`refuses nesting deeper than ${canonicalDepthMax} levels and cycles`, () => {
    let deep: unknown = 1;
    for (let i = 0; i < canonicalDepthMax; i++) deep = [deep];
    expect(() => canonicalJson(deep)).not.toThrow();
    expect(() => canonicalJson([deep])).toThrow(/nested deeper/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(/nested deeper than 32 levels \(or cyclic\)/);
  });

  it('does not depend on key insertion order (property)', () => {
    fc.assert(
      fc.property(canonicalValue, fc.nat(10), (value, seed) => {
        expect(canonicalJson(shuffleKeys(value, seed))).toBe(canonicalJson(value));
      }),
    );
  });

  it('is JSON that parses back to the same value and re-encodes to the same text (property)', () => {
    fc.assert(
      fc.property(canonicalValue, (value) => {
        const text = canonicalJson(value);
        expect(JSON.parse(text)).toStrictEqual(value);
        expect(canonicalJson(JSON.parse(text))).toBe(text);
        expect(text).toBe(JSON.stringify(JSON.parse(text), sortedReplacer));
      }),
    );
  });
});

/** An independent oracle: JSON.stringify with keys re-inserted in sorted order. */
function sortedReplacer(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

describe('parseCanonical', () => {
  it('accepts exactly what canonicalBytes produces', () => {
    fc.assert(
      fc.property(canonicalValue, (value) => {
        const result = parseCanonical(canonicalBytes(value));
        expect(result.ok).toBe(true);
        if (result.ok) expect(result.value).toStrictEqual(value);
      }),
    );
  });

  it.each([
    ['whitespace', '{"a": 1}'],
    ['unsorted keys', '{"b":1,"a":2}'],
    ['a duplicate key', '{"a":1,"a":1}'],
    ['a float', '{"a":1.5}'],
    ['an integer written as 1.0', '{"a":1.0}'],
    ['an exponent', '{"a":1e3}'],
    ['an integer JSON.parse would round', '{"a":9007199254740993}'],
    ['-0', '{"a":-0}'],
    ['an escaped printable character', '{"a":"\\u0041"}'],
    ['an escaped solidus', '{"a":"\\/"}'],
    ['a trailing newline', '{"a":1}\n'],
    ['an escaped lone surrogate', '{"a":"\\ud800"}'],
  ])('refuses %s', (_what, text) => {
    const result = parseCanonical(utf8.encode(text));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem).toMatch(/not canonical/);
  });

  it.each([
    ['integer-like keys, which V8 lists in numeric order', '{"10":1,"2":2}'],
    ['an escaped lone surrogate in a key', '{"\\udc00":1}'],
    [
      `nesting deeper than ${canonicalDepthMax} levels`,
      `${'['.repeat(canonicalDepthMax + 1)}${']'.repeat(canonicalDepthMax + 1)}`,
    ],
  ])('decides %s as re-encoding does', (_what, text) => {
    expect(parseCanonical(utf8.encode(text)).ok).toBe(reencodes(text));
  });

  // The fast acceptance (JSON.stringify plus a walk, no re-encoding) must accept exactly what
  // re-encoding accepts: any JSON text, canonical or not, floats, -0, unsorted and integer-like
  // keys, lone surrogates and deep nesting included.
  it('accepts a text exactly when re-encoding its value gives the same text (property)', () => {
    const anyKey = fc.oneof(fc.string({ unit: 'binary' }), fc.nat(20).map(String), fc.constant('__proto__'));
    const anyValue = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.string({ unit: 'binary' }),
        fc.double(),
        fc.integer(),
        fc.constant(-0),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(anyKey, tie('value'), { maxKeys: 4, noNullPrototype: true }),
      ),
    })).value;
    fc.assert(
      fc.property(anyValue, fc.boolean(), (value, sorted) => {
        const text = sorted ? (safeCanonical(value) ?? JSON.stringify(value)) : JSON.stringify(value);
        if (text === undefined) return;
        expect(parseCanonical(utf8.encode(text)).ok).toBe(reencodes(text));
      }),
      { numRuns: 2_000 },
    );
  });

  it('refuses bytes that are not JSON, not UTF-8, or start with a byte order mark', () => {
    const notJson = parseCanonical(utf8.encode('{"a":'));
    expect(notJson.ok === false && notJson.problem).toMatch(/^not JSON/);
    const badUtf8 = parseCanonical(new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x7d]));
    expect(badUtf8.ok === false && badUtf8.problem).toMatch(/UTF-8/);
    const bom = parseCanonical(new Uint8Array([0xef, 0xbb, 0xbf, ...utf8.encode('{}')]));
    expect(bom.ok === false && bom.problem).toMatch(/byte order mark/);
    const empty = parseCanonical(new Uint8Array());
    expect(empty.ok).toBe(false);
  });
});
