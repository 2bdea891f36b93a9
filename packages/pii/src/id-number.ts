import { provincePrefixes } from '@fundtrace/events';

/**
 * Resident identity numbers (居民身份证号码), GB 11643-1999:
 *
 *   positions 1–6   address code (GB/T 2260 administrative division where the person was first registered)
 *   positions 7–14  birth date YYYYMMDD
 *   positions 15–17 sequence code (odd for men, even for women)
 *   position  18    check digit, ISO 7064 MOD 11-2 over the first 17 digits; 10 is written `X`
 *
 * Validation says which part is wrong, in the order a clerk would look: length, characters, region,
 * birth date, check digit. A wrong check digit almost always means a typo in one of the other 17
 * digits, which is why it is checked last and reported on its own.
 */

export const idNumberLength = 18;

/** Weights W_i = 2^(18-i) mod 11 for positions 1..17 (GB 11643-1999, 4.3.1). */
const checkWeights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
/** Check character for (Σ a_i·W_i) mod 11 = 0..10. */
const checkCharacters = '10X98765432';

/**
 * Province-level codes of GB/T 2260 (the first two digits of every address code) — the one list in
 * @fundtrace/events, which partitions are checked against too — plus 83, used only by the residence
 * permits of Taiwan residents (港澳台居民居住证, whose address code is exactly 810000/820000/830000;
 * 71 is Taiwan's own province prefix). The full county list changes every year and is not shipped here;
 * the province and the shape of the rest are what can be checked without it.
 */
export const provinceCodes: ReadonlySet<string> = new Set([...provincePrefixes, '83']);
const residencePermitProvinces: ReadonlySet<string> = new Set(['81', '82', '83']);

/**
 * GB 11643-1999 was issued in 1999 and earlier 15-digit numbers were converted to it; nobody alive when
 * the 18-digit numbers were issued was born before 1900, so an earlier year is a typo.
 */
export const idBirthYearMin = 1900;

export type IdNumberProblem = 'length' | 'characters' | 'region' | 'birth_date' | 'check_digit';

export interface IdNumberParts {
  /** The number normalised: trimmed, a lower-case `x` check character upper-cased. */
  readonly value: string;
  readonly regionCode: string;
  /** ISO date `YYYY-MM-DD`. */
  readonly birthDate: string;
  readonly sex: 'male' | 'female';
}

export type IdNumberResult =
  | ({ readonly ok: true } & IdNumberParts)
  | { readonly ok: false; readonly reason: IdNumberProblem; readonly message: string };

/** The check character (`0`–`9` or `X`) for the first 17 digits of an identity number. */
export function idCheckCharacter(first17: string): string {
  if (!/^\d{17}$/.test(first17)) {
    throw new Error('idCheckCharacter needs exactly 17 digits');
  }
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    sum += Number(first17.charCodeAt(i) - 48) * checkWeights[i]!;
  }
  return checkCharacters[sum % 11]!;
}

/** Trim and upper-case the check character; nothing else is silently repaired. */
export function normalizeIdNumber(raw: string): string {
  return raw.trim().toUpperCase();
}

export interface IdValidationOptions {
  /**
   * Business date (YYYY-MM-DD) the number is checked against: a birth date after it is impossible.
   * Passed in rather than read from a clock so validation stays a pure function.
   */
  readonly asOf?: string;
}

export function validateIdNumber(raw: string, options: IdValidationOptions = {}): IdNumberResult {
  const value = normalizeIdNumber(raw);
  if (value.length !== idNumberLength) {
    return fail(
      'length',
      `an identity number has ${idNumberLength} characters, this one has ${value.length}` +
        (value.length === 15 ? ' (a first-generation 15-digit number must be converted to 18 digits)' : ''),
    );
  }
  const badAt = firstBadCharacter(value);
  if (badAt >= 0) {
    return fail(
      'characters',
      badAt === 17
        ? 'character 18 (the check digit) must be a digit or X'
        : `character ${badAt + 1} must be a digit (only the 18th may be X)`,
    );
  }
  const regionCode = value.slice(0, 6);
  const regionProblem = checkRegion(regionCode);
  if (regionProblem) {
    return fail('region', `region code ${regionCode} (characters 1–6) ${regionProblem}`);
  }
  const birth = value.slice(6, 14);
  const birthProblem = checkBirthDate(birth, options.asOf);
  if (birthProblem) {
    return fail('birth_date', `birth date ${birth} (characters 7–14) ${birthProblem}`);
  }
  const expected = idCheckCharacter(value.slice(0, 17));
  if (value[17] !== expected) {
    return fail(
      'check_digit',
      `check digit (character 18) is ${value[17]} but the first 17 digits give ${expected}: one of them is mistyped`,
    );
  }
  const sequenceLast = Number(value[16]);
  return {
    ok: true,
    value,
    regionCode,
    birthDate: `${birth.slice(0, 4)}-${birth.slice(4, 6)}-${birth.slice(6, 8)}`,
    sex: sequenceLast % 2 === 1 ? 'male' : 'female',
  };
}

function fail(reason: IdNumberProblem, message: string): IdNumberResult {
  return { ok: false, reason, message };
}

function firstBadCharacter(value: string): number {
  for (let i = 0; i < 17; i++) {
    const c = value.charCodeAt(i);
    if (c < 48 || c > 57) return i;
  }
  const last = value[17]!;
  return /[0-9X]/.test(last) ? -1 : 17;
}

function checkRegion(code: string): string | undefined {
  const province = code.slice(0, 2);
  const rest = code.slice(2);
  if (!provinceCodes.has(province)) {
    return `starts with ${province}, which is no province of GB/T 2260`;
  }
  if (residencePermitProvinces.has(province)) {
    return rest === '0000'
      ? undefined
      : `must be ${province}0000 for a Hong Kong, Macao or Taiwan residence permit`;
  }
  if (rest === '0000') return 'is a province, not the county where a person is registered';
  if (rest.slice(0, 2) === '00') return 'has no prefecture part (characters 3–4 are 00)';
  return undefined;
}

/** True when `YYYY-MM-DD` (or `YYYYMMDD`) names a real calendar day. */
export function isCalendarDate(value: string): boolean {
  const m = /^(\d{4})-?(\d{2})-?(\d{2})$/.exec(value);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12 || day < 1) return false;
  return day <= daysInMonth(year, month);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function checkBirthDate(yyyymmdd: string, asOf: string | undefined): string | undefined {
  if (!isCalendarDate(yyyymmdd)) return 'is no calendar date';
  const year = Number(yyyymmdd.slice(0, 4));
  if (year < idBirthYearMin) return `is before ${idBirthYearMin}`;
  if (asOf !== undefined) {
    const compact = asOf.replaceAll('-', '');
    if (yyyymmdd > compact) return `is after ${asOf}`;
  }
  return undefined;
}
