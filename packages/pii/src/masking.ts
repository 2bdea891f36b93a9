/**
 * Masking policy, versioned: a projection or a page records which version masked its data, and a new
 * rule is a new version, never an edit (a notice already printed must keep meaning what it said).
 *
 * Audiences: `staff` (finance, registry, inspector roles in the APIs) and `public` (notice boards).
 * National rules for public notices forbid publishing ID numbers, phone numbers, bank accounts and
 * health conditions, so the public sees none of them; staff see just enough to tell people apart.
 */

export type Audience = 'staff' | 'public';

export interface MaskingPolicy {
  readonly version: number;
  /** 张三丰 → 张*丰, 张三 → 张*, 欧阳小明 → 欧**明; the same for every audience. */
  readonly name: (name: string) => string;
  /** Staff: 4101**********1234; public: every character hidden. */
  readonly idNumber: (idNumber: string, audience: Audience) => string;
  /** ****1234 for staff, hidden for the public. */
  readonly accountNumber: (accountNumber: string, audience: Audience) => string;
  /** 138****5678 for staff, hidden for the public. */
  readonly phone: (phone: string, audience: Audience) => string;
  /** Health conditions are never shown: there is no masked form, only the encrypted one. */
  readonly health: () => null;
}

const star = '*';
/** What the public sees instead of a value it may not see; one fixed string leaks no length. */
export const hiddenMark = '******';

function maskName(name: string): string {
  const chars = Array.from(name.trim());
  if (chars.length <= 1) return star;
  if (chars.length === 2) return chars[0] + star;
  return chars[0] + star.repeat(chars.length - 2) + chars[chars.length - 1];
}

function maskIdNumber(id: string, audience: Audience): string {
  if (audience === 'public' || id.length !== 18) return hiddenMark;
  return id.slice(0, 4) + star.repeat(10) + id.slice(14);
}

function maskAccountNumber(account: string, audience: Audience): string {
  if (audience === 'public' || account.length < 8) return hiddenMark;
  return star.repeat(4) + account.slice(-4);
}

function maskPhone(phone: string, audience: Audience): string {
  if (audience === 'public' || phone.length < 10) return hiddenMark;
  return phone.slice(0, 3) + star.repeat(phone.length - 7) + phone.slice(-4);
}

export const maskingPolicyV1: MaskingPolicy = Object.freeze({
  version: 1,
  name: maskName,
  idNumber: maskIdNumber,
  accountNumber: maskAccountNumber,
  phone: maskPhone,
  health: () => null,
});

/** The policy new data is masked with. */
export const currentMaskingPolicy = maskingPolicyV1;
