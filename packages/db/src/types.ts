import pg from 'pg';

/**
 * PostgreSQL type OIDs we parse differently from pg's defaults. Values from
 * `select oid, typname from pg_type` (stable across PostgreSQL versions).
 */
const oid = {
  int8: 20,
  int8Array: 1016,
  numeric: 1700,
  numericArray: 1231,
  date: 1082,
  dateArray: 1182,
} as const;

/** pg's lookup with plain numbers: its typings only accept the builtin OID enum. */
const defaultParser = pg.types.getTypeParser as (typeOid: number, format?: string) => unknown;

/** Text-format array parser from pg-types (text[] = 1009): `{a,b,NULL}` → strings and nulls. */
const parseTextArray = defaultParser(1009, 'text') as (value: string) => (string | null)[];

const parseBigint = (value: string): bigint => BigInt(value);

/**
 * Parsers that keep every value exact:
 * - int8 → `bigint`: money is bigint fen and sequences exceed 2^53 in the long run; pg's default
 *   is a string, and a `Number` would silently round.
 * - numeric → string (pg's default for scalars, but numeric[] defaults to lossy floats).
 * - date → 'YYYY-MM-DD' string: a business date (occurredAt, 补发) has no time zone; pg's default
 *   turns it into a `Date` at local midnight, which shifts the day in any zone west of UTC.
 */
const overrides: Readonly<Record<number, (value: string) => unknown>> = {
  [oid.int8]: parseBigint,
  [oid.int8Array]: (value) => parseTextArray(value).map((item) => (item === null ? null : BigInt(item))),
  [oid.numeric]: (value) => value,
  [oid.numericArray]: (value) => parseTextArray(value),
  [oid.date]: (value) => value,
  [oid.dateArray]: (value) => parseTextArray(value),
};

/**
 * A per-pool type parser set (pg's `types` option), so importing this package never changes
 * parsing for any other pg pool in the process (pg.types.setTypeParser is global).
 */
export const exactTypes = {
  getTypeParser(typeOid: number, format?: 'text' | 'binary'): unknown {
    if ((format ?? 'text') === 'text') {
      const parser = overrides[typeOid];
      if (parser) return parser;
    }
    return defaultParser(typeOid, format);
  },
};
