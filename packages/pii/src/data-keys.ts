import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ivBytes, tagBytes } from './field-crypto';
import { aesKeyBytes, dataKeyIdPrefix, type Keyring } from './keyring';

/**
 * Envelope encryption: every household's personal fields are sealed under a random data key of its
 * own, and only that data key — wrapped by a master key of the keyring (AES-256-GCM) — is kept, in a
 * key store outside the log. Destroying one household's wrapped key erases that household only
 * (a deletion request under the 个人信息保护法); rotating the master key re-wraps 32-byte data keys
 * and never touches the log. Decision 0042.
 */

/** 18 random bytes = 24 base64url characters: collisions are out of reach, and the id fits a keyId (≤ 32). */
const dataKeyIdRandomBytes = 18;
const dataKeyIdPattern = /^hk-[A-Za-z0-9_-]{24}$/;

/** Wrapped form: IV (12) ‖ encrypted data key (32) ‖ tag (16). */
export const wrappedDataKeyBytes = ivBytes + aesKeyBytes + tagBytes;

export function isDataKeyId(keyId: string): boolean {
  return dataKeyIdPattern.test(keyId);
}

export interface NewDataKey {
  readonly dataKeyId: string;
  /** The clear data key: keep it in memory only, never write it anywhere. */
  readonly key: Buffer;
}

export function generateDataKey(): NewDataKey {
  return {
    dataKeyId: dataKeyIdPrefix + randomBytes(dataKeyIdRandomBytes).toString('base64url'),
    key: randomBytes(aesKeyBytes),
  };
}

/** Binds a wrapped key to its id: a wrapped key copied onto another household's row fails to unwrap. */
function wrapAad(dataKeyId: string): Buffer {
  return Buffer.from(`fundtrace/pii/v1/data-key/${dataKeyId}`, 'utf8');
}

/** Wraps a data key under the keyring's active master key. */
export function wrapDataKey(
  dataKeyId: string,
  key: Buffer,
  keyring: Keyring,
): { readonly masterKeyId: string; readonly wrapped: Buffer } {
  if (key.length !== aesKeyBytes) throw new Error(`a data key must be ${aesKeyBytes} bytes`);
  const master = keyring.keys.get(keyring.activeKeyId);
  if (!master) throw new Error(`master key ${keyring.activeKeyId} is not in the keyring`);
  const iv = randomBytes(ivBytes);
  const cipher = createCipheriv('aes-256-gcm', master, iv, { authTagLength: tagBytes });
  cipher.setAAD(wrapAad(dataKeyId));
  const ct = Buffer.concat([cipher.update(key), cipher.final()]);
  return { masterKeyId: keyring.activeKeyId, wrapped: Buffer.concat([iv, ct, cipher.getAuthTag()]) };
}

export type UnwrapResult =
  | { readonly ok: true; readonly key: Buffer }
  | { readonly ok: false; readonly reason: 'master_key_missing'; readonly masterKeyId: string };

/**
 * Unwraps a data key. A master key that is no longer configured was destroyed (every data key it
 * still wrapped is gone with it): an expected answer. A wrapped key that fails authentication under a
 * master key we hold means the key store was altered: a broken invariant, so it throws.
 */
export function unwrapDataKey(
  dataKeyId: string,
  wrapped: Buffer,
  masterKeyId: string,
  keyring: Keyring,
): UnwrapResult {
  const master = keyring.keys.get(masterKeyId);
  if (!master) return { ok: false, reason: 'master_key_missing', masterKeyId };
  if (wrapped.length !== wrappedDataKeyBytes) {
    throw new Error(
      `the wrapped data key ${dataKeyId} has ${wrapped.length} bytes, not ${wrappedDataKeyBytes}`,
    );
  }
  const decipher = createDecipheriv('aes-256-gcm', master, wrapped.subarray(0, ivBytes), {
    authTagLength: tagBytes,
  });
  decipher.setAAD(wrapAad(dataKeyId));
  decipher.setAuthTag(wrapped.subarray(ivBytes + aesKeyBytes));
  try {
    const key = Buffer.concat([
      decipher.update(wrapped.subarray(ivBytes, ivBytes + aesKeyBytes)),
      decipher.final(),
    ]);
    return { ok: true, key };
  } catch {
    throw new Error(
      `the wrapped data key ${dataKeyId} fails authentication under ${masterKeyId}: the key store was altered`,
    );
  }
}

/**
 * The keyring a household's fields are sealed and opened with: the configured one plus the
 * household's data key, made active so new fields are sealed under it. The matching hash key is
 * the same for everyone (hashes must match across households and counties).
 */
export function householdKeyring(keyring: Keyring, dataKeyId: string, key: Buffer): Keyring {
  const keys = new Map(keyring.keys);
  keys.set(dataKeyId, key);
  return Object.freeze({ activeKeyId: dataKeyId, keys, hmacKey: keyring.hmacKey });
}
