/**
 * Characters that make a spreadsheet treat a cell as a formula (or DDE command)
 * when it opens a CSV: = + - @ and tab / carriage return (OWASP "CSV Injection").
 * The full-width ＝ ＋ － ＠ are included: a Chinese IME types them, and some
 * spreadsheet versions convert them on entry.
 */
const formulaTriggers = new Set(['=', '+', '-', '@', '\t', '\r', '\uFF1D', '\uFF0B', '\uFF0D', '\uFF20']);

/** A negative amount or count ("-1234.56") is data, not a formula, and stays as it is. */
const plainNumber = /^-?[0-9]+(\.[0-9]+)?$/;

/**
 * Makes a CSV cell inert: a cell starting with a formula trigger gets a leading
 * single quote, which spreadsheets show as text and do not execute. Plain
 * numbers are left alone. The quote is visible in the data: the price of
 * safety, and the convention auditors recognise.
 */
export function escapeCsvCell(text: string): string {
  if (text === '' || plainNumber.test(text)) return text;
  return formulaTriggers.has(text[0]!) ? `'${text}` : text;
}

/** Whether a written cell could be executed by a spreadsheet (the property the tests check). */
export function isFormulaLike(text: string): boolean {
  return text !== '' && formulaTriggers.has(text[0]!) && !plainNumber.test(text);
}

/**
 * XML 1.0 forbids most control characters; a cell holding one makes Excel refuse
 * the whole workbook. They cannot be typed in a spreadsheet anyway, so they
 * become U+FFFD (as do unpaired surrogates).
 */
export function xmlSafe(text: string): string {
  return text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|\p{Cs}/gu, '\uFFFD');
}
