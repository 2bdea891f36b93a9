/**
 * Contact phone numbers of households: mainland mobile numbers (11 digits, 1[3-9]…, the ranges the
 * MIIT numbering plan assigns to mobile networks) or fixed lines with their area code (0 + 2–3 digits,
 * then a 7–8 digit local number), because many rural households have only a fixed line.
 */

export type PhoneProblem = 'characters' | 'length' | 'prefix';
export type PhoneResult =
  | { readonly ok: true; readonly kind: 'mobile' | 'landline'; readonly number: string }
  | { readonly ok: false; readonly reason: PhoneProblem; readonly message: string };

/** Spaces, dashes and a +86 country prefix are accepted on input and dropped. */
export function normalizePhone(raw: string): string {
  const compact = raw.replace(/[\s-]/g, '');
  return compact.startsWith('+86') ? compact.slice(3) : compact;
}

export function validatePhone(raw: string): PhoneResult {
  const number = normalizePhone(raw);
  if (!/^\d+$/.test(number))
    return { ok: false, reason: 'characters', message: 'a phone number has digits only' };
  if (number.startsWith('1')) {
    if (number.length !== 11) {
      return {
        ok: false,
        reason: 'length',
        message: `a mobile number has 11 digits, this one has ${number.length}`,
      };
    }
    if (!/^1[3-9]/.test(number)) {
      return { ok: false, reason: 'prefix', message: 'a mobile number starts with 13–19' };
    }
    return { ok: true, kind: 'mobile', number };
  }
  if (number.startsWith('0')) {
    // Area codes are 010/02x (3 digits) or 0xxx (4 digits); local numbers 7–8 digits: 10–12 in all.
    if (number.length < 10 || number.length > 12) {
      return {
        ok: false,
        reason: 'length',
        message: `a fixed line with area code has 10–12 digits, this one has ${number.length}`,
      };
    }
    return { ok: true, kind: 'landline', number };
  }
  return { ok: false, reason: 'prefix', message: 'a phone number starts with 1 (mobile) or 0 (area code)' };
}
