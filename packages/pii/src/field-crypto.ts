import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import type { Keyring } from './keyring';

/**
 * Field-level encryption of personal data (AES-256-GCM) and the keyed hash used to match it
 * (HMAC-SHA256). Each kind of field is its own domain: the kind is bound into the ciphertext as
 * additional authenticated data, so an ID-number ciphertext cannot be replayed as an account number,
 * and it separates the hashes, so equal strings of different kinds never hash alike.
 */

export const piiKinds = ['name', 'id_number', 'account_number', 'phone', 'health'] as const;
export type PiiKind = (typeof piiKinds)[number];

/** NIST SP 800-38D: 96-bit IVs are the recommended size for GCM. */
export const ivBytes = 12;
/** The full 128-bit tag; truncated tags weaken GCM's integrity guarantee. */
export const tagBytes = 16;
/** Fields are short strings (an address is the longest); anything larger is a bug upstream. */
export const fieldCharsMax = 1000;

/** An encrypted field as it is stored in an event; every binary part is base64. */
export interface EncryptedField {
  readonly keyId: string;
  readonly iv: string;
  readonly ct: string;
  readonly tag: string;
}

export type DecryptResult =
  | { readonly ok: true; readonly value: string }
  | { readonly ok: false; readonly reason: 'key_destroyed'; readonly keyId: string };

/** Typed result for a field whose key was destroyed (crypto-shredded). */
export type KeyDestroyed = Extract<DecryptResult, { ok: false }>;

const formatVersion = 'v1';
function aad(kind: PiiKind): Buffer {
  return Buffer.from(`fundtrace/pii/${formatVersion}/${kind}`, 'utf8');
}

/**
 * Encrypt with the active key and a fresh random IV. The IV comes from the crypto RNG: with random
 * 96-bit IVs, one key stays within GCM's safety bound (2^32 encryptions) for any registry we serve.
 */
export function encryptField(kind: PiiKind, value: string, keyring: Keyring): EncryptedField {
  return encryptWith(kind, value, keyring.activeKeyId, keyring);
}

function encryptWith(kind: PiiKind, value: string, keyId: string, keyring: Keyring): EncryptedField {
  if (value.length > fieldCharsMax)
    throw new Error(`a ${kind} field longer than ${fieldCharsMax} characters`);
  const key = keyring.keys.get(keyId);
  if (!key) throw new Error(`encryption key ${keyId} is not in the keyring`);
  const iv = randomBytes(ivBytes);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: tagBytes });
  cipher.setAAD(aad(kind));
  const ct = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
  return {
    keyId,
    iv: iv.toString('base64'),
    ct: ct.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
  };
}

/**
 * Decrypt a field. A key that is no longer in the keyring was destroyed on purpose (crypto-shredding):
 * that is an expected answer, `key_destroyed`, never a crash. A ciphertext that fails authentication
 * with a key we hold means the log was altered or the kind is wrong: a broken invariant, so it throws.
 */
export function decryptField(kind: PiiKind, field: EncryptedField, keyring: Keyring): DecryptResult {
  const key = keyring.keys.get(field.keyId);
  if (!key) return { ok: false, reason: 'key_destroyed', keyId: field.keyId };
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(field.iv, 'base64'), {
    authTagLength: tagBytes,
  });
  decipher.setAAD(aad(kind));
  decipher.setAuthTag(Buffer.from(field.tag, 'base64'));
  try {
    const clear = Buffer.concat([decipher.update(Buffer.from(field.ct, 'base64')), decipher.final()]);
    return { ok: true, value: clear.toString('utf8') };
  } catch {
    throw new Error(
      `a ${kind} field under key ${field.keyId} fails authentication: the stored data was altered`,
    );
  }
}

/**
 * Rotation helper: the same clear text under the active key (a no-op for fields already under it).
 * Events are immutable, so this serves snapshots and re-encrypted copies, never edits of the log.
 */
export function reencryptField(
  kind: PiiKind,
  field: EncryptedField,
  keyring: Keyring,
): { ok: true; field: EncryptedField } | KeyDestroyed {
  if (field.keyId === keyring.activeKeyId) return { ok: true, field };
  const clear = decryptField(kind, field, keyring);
  if (!clear.ok) return clear;
  return { ok: true, field: encryptField(kind, clear.value, keyring) };
}

/**
 * Keyed hash for matching (the same ID number in two households, one account in several households).
 * Lower-case hex of HMAC-SHA256(key, "fundtrace/pii/v1/<kind>" 0x00 value). The caller passes the
 * normalised value (see `normalizeForKind`) so that spelling variants hash alike.
 */
export function hmacField(kind: PiiKind, value: string, hmacKey: Buffer): string {
  return createHmac('sha256', hmacKey)
    .update(`fundtrace/pii/${formatVersion}/${kind}`, 'utf8')
    .update(Buffer.of(0))
    .update(value, 'utf8')
    .digest('hex');
}

/** The length of `hmacField`'s output: 32 bytes as hex. */
export const hashHexLength = 64;
