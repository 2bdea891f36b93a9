import { z } from 'zod';

/**
 * How a column's values are written (and formatted in templates):
 * - `text`: kept as typed; templates format the column as text so "0012" and
 *   18-digit ID numbers keep every digit;
 * - `money`: a bigint of fen, written as 元 with two decimals;
 * - `integer`: a whole number (counts, household sizes);
 * - `date`: an ISO date, "2019-05-03".
 */
export type ColumnKind = 'text' | 'money' | 'integer' | 'date';

/** A column an import understands: its canonical field and every header it may appear under. */
export interface ColumnSpec<F extends string = string> {
  readonly field: F;
  /** Accepted header texts, the first one (usually Chinese) used in templates: ['户编号', 'household_no']. */
  readonly headers: readonly [string, ...string[]];
  readonly required?: boolean;
  readonly kind?: ColumnKind;
  /** One line for the template's instructions sheet. */
  readonly description?: string;
}

/** A column an export writes. */
export interface OutputColumn<F extends string = string> {
  readonly field: F;
  readonly header: string;
  readonly kind?: ColumnKind;
}

/**
 * The comparable form of a header: full-width forms to ASCII (Ｎａｍｅ, （元）), all
 * whitespace removed (titles are often spaced out for alignment: "姓　　名"),
 * case folded, and a leading "*" dropped (templates mark required columns "*户编号").
 */
export function normalizeHeader(text: string): string {
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0)!;
    out += code >= 0xff01 && code <= 0xff5e ? String.fromCodePoint(code - 0xfee0) : char;
  }
  return out.replace(/\s+/gu, '').replace(/^\*+/, '').toLowerCase();
}

const columnSpecSchema = z.object({
  field: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'field must be an identifier such as household_no'),
  headers: z.array(z.string().min(1)).min(1),
  required: z.boolean().optional(),
  kind: z.enum(['text', 'money', 'integer', 'date']).optional(),
  description: z.string().optional(),
});

/**
 * Checks a column list written by a programmer: a mistake here (two specs
 * claiming the same header) is a bug, so it throws.
 */
export function assertColumnSpecs(columns: readonly ColumnSpec[]): void {
  if (columns.length === 0) throw new TypeError('at least one column spec is required');
  const fields = new Set<string>();
  const headers = new Map<string, string>();
  for (const column of columns) {
    const parsed = columnSpecSchema.safeParse(column);
    if (!parsed.success) {
      throw new TypeError(
        `invalid column spec ${JSON.stringify(column)}: ${parsed.error.issues[0]?.message}`,
      );
    }
    if (fields.has(column.field)) throw new TypeError(`column field ${column.field} is listed twice`);
    fields.add(column.field);
    for (const header of column.headers) {
      const key = normalizeHeader(header);
      if (key === '') throw new TypeError(`column ${column.field} has a blank header`);
      const owner = headers.get(key);
      if (owner !== undefined && owner !== column.field) {
        throw new TypeError(`header "${header}" is claimed by both ${owner} and ${column.field}`);
      }
      headers.set(key, column.field);
    }
  }
}
