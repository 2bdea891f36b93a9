import { type EncryptedField, encryptField, hmacField } from './field-crypto';
import type { Keyring } from './keyring';
import { currentMaskingPolicy } from './masking';

/**
 * The three forms of a personal-data field as events carry it: encrypted (the only clear-text-capable
 * form, destroyed with its key), a keyed hash (matching without reading), and the staff mask (display).
 * Values must already be validated and normalised (see id-number, bank-account, phone).
 */
export interface SealedField {
  readonly enc: EncryptedField;
  readonly hash: string;
  readonly masked: string;
}

export function sealIdNumber(idNumber: string, keyring: Keyring): SealedField {
  return {
    enc: encryptField('id_number', idNumber, keyring),
    hash: hmacField('id_number', idNumber, keyring.hmacKey),
    masked: currentMaskingPolicy.idNumber(idNumber, 'staff'),
  };
}

export function sealAccountNumber(accountNumber: string, keyring: Keyring): SealedField {
  return {
    enc: encryptField('account_number', accountNumber, keyring),
    hash: hmacField('account_number', accountNumber, keyring.hmacKey),
    masked: currentMaskingPolicy.accountNumber(accountNumber, 'staff'),
  };
}

export function sealPhone(phone: string, keyring: Keyring): SealedField {
  return {
    enc: encryptField('phone', phone, keyring),
    hash: hmacField('phone', phone, keyring.hmacKey),
    masked: currentMaskingPolicy.phone(phone, 'staff'),
  };
}

/**
 * Names are encrypted too, although the issue lists only IDs, accounts, phones and health: a name next
 * to a masked ID is still personal information, and a deletion request (个人信息保护法 art. 47) must be
 * able to erase it. Names get no hash: they are not unique, so matching on them would mislead.
 */
export function sealName(name: string, keyring: Keyring): { enc: EncryptedField; masked: string } {
  return { enc: encryptField('name', name, keyring), masked: currentMaskingPolicy.name(name) };
}

/** Health conditions: encrypted only. No hash (nothing to match) and no mask (never shown). */
export function sealHealth(health: string, keyring: Keyring): EncryptedField {
  return encryptField('health', health, keyring);
}

/** The hash an ID number is looked up by (search by ID, one-county uniqueness). */
export function idNumberHash(idNumber: string, keyring: Keyring): string {
  return hmacField('id_number', idNumber, keyring.hmacKey);
}

export function accountNumberHash(accountNumber: string, keyring: Keyring): string {
  return hmacField('account_number', accountNumber, keyring.hmacKey);
}
