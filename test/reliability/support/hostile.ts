/**
 * Hostile input for the fuzz suites: values that have broken JSON APIs before (amounts in every
 * spelling a person or a spreadsheet produces, codes and dates that look right, control and
 * direction characters, prototype-pollution keys, markup and SQL), and mutations of a valid body.
 */
import fc from 'fast-check';

/** Amounts: negative, fractional fen, scientific, beyond bigint range of the books, leading zeros, full-width. */
export const hostileAmounts: readonly unknown[] = [
  '-1',
  '-0',
  '1.5',
  '0.01',
  '1e9',
  '1E3',
  '99999999999999999999999999',
  '9223372036854775808',
  '007',
  '１２３',
  '0x10',
  ' 100',
  '100 ',
  '1,000',
  '¥100',
  '',
  'NaN',
  'Infinity',
  -1,
  1.5,
  1e21,
  Number.MAX_SAFE_INTEGER,
];

/** Administrative codes and dates that are almost right. */
export const hostileCodes: readonly string[] = [
  '41132５',
  '000000',
  '999999',
  '41132',
  '4113251',
  '411325 ',
  '../../etc/passwd',
  '411325%00',
  '411325\u0000',
];
export const hostileDates: readonly string[] = [
  '2024-02-30',
  '2023-02-29',
  '2024-13-01',
  '2024-00-10',
  '0000-01-01',
  '9999-12-31',
  '1900-01-01',
  '2024-02-29T25:00:00Z',
  '20240101',
  '2024/01/01',
  '二〇二四年一月一日',
];

/** Strings that test encodings, rendering and injection. */
export const hostileStrings: readonly string[] = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\u202eRTL override\u202c',
  '\u200b\u200d\ufeff',
  '\ud800',
  '👨‍👩‍👧‍👦🏳️‍🌈'.repeat(20),
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  "' OR '1'='1'; DROP TABLE books.events; --",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a log-injection payload, literally
  '${jndi:ldap://x}',
  '{{7*7}}',
  '=HYPERLINK("http://x","y")',
  '%s%n%x',
  '..\\..\\windows',
  'x'.repeat(70_000),
];

export const pollutionKeys: readonly string[] = ['__proto__', 'constructor', 'prototype'];

/** Any hostile leaf value, or a wrong type. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...hostileAmounts),
  fc.constantFrom(...hostileCodes),
  fc.constantFrom(...hostileDates),
  fc.constantFrom(...hostileStrings),
  fc.constantFrom<unknown>(null, true, false, [], {}, 0, -1, 2 ** 53 + 2, [null], { $gt: '' }),
  fc.string({ unit: 'binary', maxLength: 64 }),
  fc.jsonValue({ maxDepth: 3 }),
);

/** Every path (as a list of keys) to a value inside a JSON value, the root included. */
export function pathsOf(value: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []) {
  out.push(prefix);
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) pathsOf(v, [...prefix, i], out);
  } else if (value !== null && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) pathsOf(v, [...prefix, k], out);
  return out;
}

function setAt(value: unknown, path: (string | number)[], leaf: unknown): unknown {
  if (path.length === 0) return leaf;
  const [head, ...rest] = path;
  if (Array.isArray(value)) {
    const copy = [...value];
    copy[head as number] = setAt(copy[head as number], rest, leaf);
    return copy;
  }
  const copy = { ...(value as Record<string, unknown>) };
  copy[head as string] = setAt(copy[head as string], rest, leaf);
  return copy;
}

function deleteAt(value: unknown, path: (string | number)[]): unknown {
  if (path.length === 0 || value === null || typeof value !== 'object') return value;
  const [head, ...rest] = path;
  if (rest.length === 0) {
    if (Array.isArray(value)) return value.filter((_, i) => i !== head);
    const { [head as string]: _gone, ...kept } = value as Record<string, unknown>;
    return kept;
  }
  return setAt(value, [head!], deleteAt((value as Record<string | number, unknown>)[head!], rest));
}

/** A mutation of a valid JSON body, as the text sent (some mutations are only expressible as text). */
export function mutatedBody(valid: unknown): fc.Arbitrary<{ label: string; text: string }> {
  const paths = pathsOf(valid);
  const leafPaths = paths.filter((p) => p.length > 0);
  const anyPath = fc.constantFrom(...paths);
  const text = (label: string, value: unknown) => ({ label, text: JSON.stringify(value) });
  const options: fc.Arbitrary<{ label: string; text: string }>[] = [
    fc
      .tuple(anyPath, hostileValue)
      .map(([p, v]) => text(`hostile value at /${p.join('/')}`, setAt(valid, p, v))),
    fc.tuple(fc.constantFrom(...pollutionKeys, 'extra', 'isAdmin', 'role'), hostileValue).map(([k, v]) => {
      const body = JSON.stringify(valid);
      const injected = `{${JSON.stringify(k)}:${JSON.stringify(v) ?? 'null'}${body.length > 2 && body.startsWith('{') ? `,${body.slice(1)}` : '}'}`;
      return { label: `extra key ${k}`, text: body.startsWith('{') ? injected : body };
    }),
    fc
      .integer({ min: 10, max: 5_000 })
      .map((depth) => ({ label: `nested ${depth} deep`, text: `${'['.repeat(depth)}${']'.repeat(depth)}` })),
  ];
  if (leafPaths.length > 0) {
    options.push(
      fc.constantFrom(...leafPaths).map((p) => text(`missing /${p.join('/')}`, deleteAt(valid, p))),
    );
  }
  return fc.oneof(...options);
}
