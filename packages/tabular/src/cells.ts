import type { CellProblemCode } from './errors';

/** What a reader saw in one cell: its text, or why it has none. */
export type RawCell = string | { readonly problem: CellProblemCode; readonly message: string };

export interface RawRow {
  /** The spreadsheet's own row number (1 = first line / row). */
  readonly rowNumber: number;
  /** By zero-based column index; holes are empty cells. */
  readonly cells: readonly (RawCell | undefined)[];
}

/**
 * Excel keeps 15 significant decimal digits: it shows 1234.56 for a cell whose
 * stored double is 1234.5599999999999 (written so by other tools, or the result
 * of =0.1+0.2), and staff check that display. So a number becomes the decimal
 * text of its value rounded to 15 significant digits, in plain notation (never
 * "1e-7"), without trailing zeros: 1234.5599999999999 → "1234.56", 1e21 →
 * "1000000000000000000000". Every amount ≤ fenMax (10^13 元 with 2 decimals, at
 * most 15 significant digits) survives a trip through a double this way.
 * Identity numbers typed as numbers lost their digits beyond 15 inside Excel
 * already; templates format such columns as text.
 */
export function numberToText(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`not a finite number: ${value}`);
  if (value === 0) return '0';
  const precise = value.toPrecision(15);
  const negative = precise.startsWith('-');
  const [mantissa, exponentText] = (negative ? precise.slice(1) : precise).split('e');
  const [whole, fraction = ''] = mantissa!.split('.');
  const digits = whole! + fraction;
  const point = whole!.length + (exponentText === undefined ? 0 : Number(exponentText));
  let text: string;
  if (point <= 0) text = `0.${'0'.repeat(-point)}${digits}`;
  else if (point >= digits.length) text = digits + '0'.repeat(point - digits.length);
  else text = `${digits.slice(0, point)}.${digits.slice(point)}`;
  if (text.includes('.')) text = text.replace(/0+$/, '').replace(/\.$/, '');
  text = text.replace(/^0+(?=[0-9])/, '');
  return negative ? `-${text}` : text;
}

/**
 * An Excel date as ISO text. Excel dates have no time zone (exceljs hands them
 * over as UTC): a whole day becomes "2019-05-03", a date with a time
 * "2019-05-03T08:30:00" (no zone, it is the clock on the office wall). Rounded to
 * the second: serial numbers are doubles and carry sub-millisecond noise.
 */
export function dateToText(date: Date): string | undefined {
  const time = date.getTime();
  if (!Number.isFinite(time)) return undefined;
  const rounded = new Date(Math.round(time / 1000) * 1000);
  const year = rounded.getUTCFullYear();
  if (year < 1000 || year > 9999) return undefined;
  const iso = rounded.toISOString();
  const day = iso.slice(0, 10);
  const clock = iso.slice(11, 19);
  return clock === '00:00:00' ? day : `${day}T${clock}`;
}

/** Excel serial day number → Date (as exceljs does for plain date cells). */
export function excelSerialToDate(serial: number, date1904: boolean): Date {
  const unixEpochSerial = 25569; // 1970-01-01 in the 1900 date system
  const offset1904 = 1462; // days between the 1900 and 1904 systems
  return new Date(Math.round((serial - unixEpochSerial + (date1904 ? offset1904 : 0)) * 86_400_000));
}

/**
 * Whether a number format shows a date or time ("yyyy-mm-dd", 'yyyy"年"m"月"d"日"',
 * "[$-804]yyyy/m/d"): quoted literals, bracketed sections and escaped characters
 * removed, what remains contains y, m, d, h or s. "General", "0.00" and "#,##0"
 * contain none of them.
 */
export function isDateFormat(numFmt: string | undefined): boolean {
  if (!numFmt) return false;
  const stripped = numFmt
    .replace(/"[^"]*"/g, '')
    .replace(/\[[^\]]*]/g, '')
    .replace(/\\./g, '')
    .replace(/_./g, '');
  return /[ymdhs]/i.test(stripped) && !/^general$/i.test(stripped.trim());
}
