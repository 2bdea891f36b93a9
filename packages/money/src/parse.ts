import { type Fen, fenDigitsMax, fenMax } from './fen';

/** Why a text is not an acceptable amount of 元; stable codes for API errors and import reports. */
export type YuanRejectionCode =
  | 'empty'
  | 'too_long'
  | 'not_a_number'
  | 'scientific_notation'
  | 'misplaced_separator'
  | 'leading_zeros'
  | 'too_many_decimals'
  | 'wan_not_allowed'
  | 'plus_sign_not_allowed'
  | 'negative_not_allowed'
  | 'zero_not_allowed'
  | 'too_large';

export type ParseYuanResult =
  | { readonly ok: true; readonly fen: Fen }
  | { readonly ok: false; readonly code: YuanRejectionCode; readonly message: string };

export interface ParseYuanOptions {
  /** Accept "1.2万" / "1.2万元" (amounts in plans are written in 万元). Default false. */
  readonly allowWan?: boolean;
  /** Accept a leading minus (reversals, adjustments). Default false. */
  readonly allowNegative?: boolean;
  /** Accept zero. Default false: a payment or allocation of 0 is a mistake. */
  readonly allowZero?: boolean;
}

/**
 * The longest amount text we look at, after trimming: "-¥1,000,000,000,000.000000万元"
 * is 30 characters; 64 leaves room for trailing zeros and still refuses a pasted
 * paragraph (or a 10 MB cell) before any work is done on it.
 */
export const yuanTextLengthMax = 64;

/** Decimals of 元 we keep: 分 is the smallest unit of the books. */
const yuanDecimals = 2;
/** Decimals of 万 that are still whole fen (1 万 = 10^6 fen). */
const wanDecimals = 6;

/**
 * Parses an amount of 元 as finance staff type it, into fen, exactly (no floats):
 * "1,234.56", "1234.5", "1234", "¥1,234.56", "1234.56元", full-width digits and
 * punctuation ("１，２３４．５６"), and with `allowWan` "1.2万" or "1.23456万元".
 *
 * Refused, each with a code and a message naming the problem: more than two
 * decimals of 元 (a fraction of a fen: "1.234"), misplaced thousands separators
 * ("1,23"), scientific notation ("1e5", what a spreadsheet shows for big numbers),
 * NaN/Infinity, leading zeros ("0012", usually an id pasted in the wrong column),
 * a "+" sign, a minus unless allowed, zero unless allowed, above `fenMax`.
 *
 * Trailing zeros beyond two decimals ("1.2300", a cell formatted with four
 * decimals) are accepted: they are exact and lose nothing.
 */
export function parseYuan(text: string, options: ParseYuanOptions = {}): ParseYuanResult {
  if (typeof text !== 'string') return reject('not_a_number', `expected text, got ${typeof text}`);
  const trimmed = text.trim();
  if (trimmed === '') return reject('empty', 'amount is empty');
  if (trimmed.length > yuanTextLengthMax) {
    return reject('too_long', `amount text is ${trimmed.length} characters, more than ${yuanTextLengthMax}`);
  }
  const shown = trimmed;
  let rest = toHalfWidth(trimmed);

  // Unit suffix: 万元 / 万 / 元, optionally separated by spaces.
  let wan = false;
  if (rest.endsWith('万元')) {
    wan = true;
    rest = rest.slice(0, -2).trimEnd();
  } else if (rest.endsWith('万')) {
    wan = true;
    rest = rest.slice(0, -1).trimEnd();
  } else if (rest.endsWith('元')) {
    rest = rest.slice(0, -1).trimEnd();
  }

  // Sign and currency symbol in either order: "-¥12", "¥-12".
  let negative = false;
  let plus = false;
  let currency = false;
  for (let i = 0; i < 2; i += 1) {
    if (!currency && rest.startsWith('¥')) {
      currency = true;
      rest = rest.slice(1).trimStart();
    }
    if (!negative && !plus && (rest.startsWith('-') || rest.startsWith('+'))) {
      negative = rest.startsWith('-');
      plus = !negative;
      rest = rest.slice(1);
    }
  }

  if (/^(nan|[+-]?inf(inity)?)$/i.test(rest)) {
    return reject('not_a_number', `${shown} is not a number of 元`);
  }
  if (/^[0-9.,]*[0-9][eE][+-]?[0-9]+$/.test(rest)) {
    return reject('scientific_notation', `scientific notation is not accepted, write the digits: ${shown}`);
  }
  if (!/^[0-9.,]+$/.test(rest) || !/[0-9]/.test(rest)) {
    return reject('not_a_number', `not an amount of 元: ${shown}`);
  }
  const parts = rest.split('.');
  if (parts.length > 2) return reject('not_a_number', `more than one decimal point: ${shown}`);
  const integerPart = parts[0]!;
  const fractionPart = parts[1];
  if (fractionPart?.includes(',')) {
    return reject('misplaced_separator', `thousands separator after the decimal point: ${shown}`);
  }
  if (integerPart === '' || fractionPart === '') {
    return reject('not_a_number', `a decimal point needs digits on both sides: ${shown}`);
  }
  if (integerPart.includes(',') && !/^[0-9]{1,3}(,[0-9]{3})+$/.test(integerPart)) {
    return reject('misplaced_separator', `misplaced thousands separator: ${shown}`);
  }
  const integerDigits = integerPart.replaceAll(',', '');
  if (integerDigits.length > 1 && integerDigits.startsWith('0')) {
    return reject('leading_zeros', `leading zeros are not accepted: ${shown}`);
  }
  if (wan && !options.allowWan) {
    return reject('wan_not_allowed', `amounts in 万 are not accepted here, write 元: ${shown}`);
  }
  if (plus) return reject('plus_sign_not_allowed', `write the amount without a "+" sign: ${shown}`);

  const scale = wan ? wanDecimals : yuanDecimals;
  const fraction = (fractionPart ?? '').replace(/0+$/, '');
  if (fraction.length > scale) {
    return reject(
      'too_many_decimals',
      wan
        ? `more than six decimal places of 万 (finer than one fen): ${shown}`
        : `more than two decimal places: ${shown}`,
    );
  }
  // Cheap bound before BigInt: fenMax has fenDigitsMax digits of fen.
  if (integerDigits.length + scale > fenDigitsMax) {
    return reject('too_large', `${shown} is above the largest accepted amount`);
  }
  const magnitude = BigInt(integerDigits) * 10n ** BigInt(scale) + BigInt(fraction.padEnd(scale, '0') || '0');
  if (magnitude > fenMax) return reject('too_large', `${shown} is above the largest accepted amount`);
  if (negative && !options.allowNegative) {
    return reject('negative_not_allowed', `negative amounts are not accepted here: ${shown}`);
  }
  if (magnitude === 0n && !options.allowZero)
    return reject('zero_not_allowed', `amount must not be zero: ${shown}`);
  return { ok: true, fen: negative ? -magnitude : magnitude };
}

function reject(code: YuanRejectionCode, message: string): ParseYuanResult {
  return { ok: false, code, message };
}

/**
 * Full-width forms (Ｕ+FF01–FF5E, typed with a Chinese IME: "１，２３４．５６") to
 * ASCII, ￥ to ¥, the ideographic space to a space and U+2212 (minus sign, from
 * some spreadsheets) to "-". Deliberately not NFKC: that would also turn "²" or
 * "①" into digits.
 */
function toHalfWidth(text: string): string {
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (code >= 0xff01 && code <= 0xff5e) out += String.fromCodePoint(code - 0xfee0);
    else if (code === 0xffe5) out += '¥';
    else if (code === 0x3000) out += ' ';
    else if (code === 0x2212) out += '-';
    else out += char;
  }
  return out;
}
