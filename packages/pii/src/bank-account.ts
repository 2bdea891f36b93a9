/**
 * 一卡通 account numbers: a sanity check, not a bank lookup. What is checked and why:
 *
 * - `card` (借记卡, a UnionPay debit card): 16–19 digits, the ISO/IEC 7812 card-number lengths the
 *   UnionPay rules allow, and a Luhn (mod 10) check digit, which every ISO/IEC 7812 card number carries.
 *   One mistyped digit or one swap of neighbouring digits always fails it.
 * - `passbook` (存折 / 一折通, the passbook accounts many counties paid subsidies into): the account
 *   number is the bank's internal one. Lengths differ between banks' core systems and there is no
 *   published check digit, so only the characters and a plausible length range are checked; a Luhn
 *   check would reject real accounts.
 *
 * The bank must be one of the banks the county pays through: the payment file sent to a bank is per
 * bank, so an unknown bank name could never be paid.
 */

export const banks = {
  ABC: '中国农业银行',
  PSBC: '中国邮政储蓄银行',
  RCC: '农村信用合作社',
  RCB: '农村商业银行',
  ICBC: '中国工商银行',
  CCB: '中国建设银行',
  BOC: '中国银行',
  BOCOM: '交通银行',
  VB: '村镇银行',
} as const;
export type BankCode = keyof typeof banks;
export const bankCodes = Object.keys(banks) as BankCode[];

export const accountMediums = ['card', 'passbook'] as const;
export type AccountMedium = (typeof accountMediums)[number];

/** ISO/IEC 7812 allows up to 19 digits; UnionPay debit cards are 16–19. */
export const cardDigitsMin = 16;
export const cardDigitsMax = 19;
/** The shortest and longest passbook account numbers of the banks above, with a margin. */
export const passbookDigitsMin = 10;
export const passbookDigitsMax = 25;

export type AccountProblem = 'unknown_bank' | 'unknown_medium' | 'characters' | 'length' | 'luhn';

export type AccountResult =
  | { readonly ok: true; readonly bank: BankCode; readonly medium: AccountMedium; readonly number: string }
  | { readonly ok: false; readonly reason: AccountProblem; readonly message: string };

/** Spaces and dashes are how people write card numbers on forms; they are not part of the number. */
export function normalizeAccountNumber(raw: string): string {
  return raw.replace(/[\s-]/g, '');
}

export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** The Luhn check digit that completes `payload` (used by the data generator). */
export function luhnCheckDigit(payload: string): string {
  for (let d = 0; d <= 9; d++) {
    if (luhnValid(payload + d)) return String(d);
  }
  throw new Error('unreachable: one of ten digits always completes a Luhn sum');
}

export function validateBankAccount(bank: string, medium: string, raw: string): AccountResult {
  if (!Object.hasOwn(banks, bank)) {
    return {
      ok: false,
      reason: 'unknown_bank',
      message: `bank ${bank} is not one of ${bankCodes.join(', ')}`,
    };
  }
  if (!(accountMediums as readonly string[]).includes(medium)) {
    return { ok: false, reason: 'unknown_medium', message: `account medium must be card or passbook` };
  }
  const number = normalizeAccountNumber(raw);
  if (!/^\d+$/.test(number)) {
    return { ok: false, reason: 'characters', message: 'an account number has digits only' };
  }
  const [min, max] =
    medium === 'card' ? [cardDigitsMin, cardDigitsMax] : [passbookDigitsMin, passbookDigitsMax];
  if (number.length < min || number.length > max) {
    return {
      ok: false,
      reason: 'length',
      message: `a ${medium} number has ${min}–${max} digits, this one has ${number.length}`,
    };
  }
  if (medium === 'card' && !luhnValid(number)) {
    return {
      ok: false,
      reason: 'luhn',
      message:
        'the last digit of a card number is a Luhn check digit and does not match: a digit is mistyped',
    };
  }
  return { ok: true, bank: bank as BankCode, medium: medium as AccountMedium, number };
}
