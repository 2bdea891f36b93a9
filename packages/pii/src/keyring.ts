/**
 * The keys that protect personal data, read from configuration:
 *
 *   PII_KEYS        keyId:base64(32 bytes),keyId:base64(32 bytes),…   every key that may still decrypt
 *   PII_ACTIVE_KEY  keyId                                            the key new encryptions use
 *   PII_HMAC_KEY    base64(≥ 32 bytes)                               the key of the matching hash
 *
 * Rotation: add a new key to PII_KEYS and make it active; old events still decrypt with the old key.
 * Crypto-shredding: remove a key from PII_KEYS (and from every backup of the configuration); every
 * field encrypted under it becomes a `key_destroyed` result everywhere, without touching the log.
 */

/** AES-256 needs exactly 32 bytes of key. */
export const aesKeyBytes = 32;
/** RFC 2104: an HMAC key shorter than the hash output (32 bytes for SHA-256) weakens it. */
export const hmacKeyBytesMin = 32;
/** Key ids are written into every encrypted field; short, plain ids keep events small and readable. */
const keyIdPattern = /^[A-Za-z0-9_-]{1,32}$/;
/**
 * Household data key ids (data-keys.ts) start with this and master key ids may not, so a field's
 * keyId tells which kind of key sealed it.
 */
export const dataKeyIdPrefix = 'hk-';

export interface Keyring {
  readonly activeKeyId: string;
  readonly keys: ReadonlyMap<string, Buffer>;
  readonly hmacKey: Buffer;
}

export interface KeyringConfig {
  readonly keys: string;
  readonly activeKeyId: string;
  readonly hmacKey: string;
}

export class KeyringConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`personal-data keys are misconfigured: ${problems.join('; ')}`);
    this.name = 'KeyringConfigError';
  }
}

/** Parse the configuration; every problem is reported at once, and the key material never is. */
export function parseKeyring(config: KeyringConfig): Keyring {
  const problems: string[] = [];
  const keys = new Map<string, Buffer>();
  const entries = config.keys
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (entries.length === 0) problems.push('PII_KEYS lists no key');
  entries.forEach((entry, index) => {
    const colon = entry.indexOf(':');
    const id = colon < 0 ? '' : entry.slice(0, colon);
    if (!keyIdPattern.test(id)) {
      problems.push(`PII_KEYS entry ${index + 1} has no valid key id (keyId:base64, id of A-Z a-z 0-9 _ -)`);
      return;
    }
    if (id.startsWith(dataKeyIdPrefix)) {
      problems.push(`PII_KEYS key ${id}: ids starting with ${dataKeyIdPrefix} are household data keys`);
      return;
    }
    const material = decodeBase64(entry.slice(colon + 1));
    if (material?.length !== aesKeyBytes) {
      problems.push(`PII_KEYS key ${id} is not ${aesKeyBytes} bytes of base64`);
      return;
    }
    if (keys.has(id)) {
      problems.push(`PII_KEYS lists key ${id} twice`);
      return;
    }
    keys.set(id, material);
  });
  if (!keys.has(config.activeKeyId) && !problems.some((p) => p.includes(config.activeKeyId))) {
    problems.push(`PII_ACTIVE_KEY ${JSON.stringify(config.activeKeyId)} is not in PII_KEYS`);
  }
  const hmacKey = decodeBase64(config.hmacKey);
  if (hmacKey === undefined || hmacKey.length < hmacKeyBytesMin) {
    problems.push(`PII_HMAC_KEY must be at least ${hmacKeyBytesMin} bytes of base64`);
  }
  if (problems.length > 0) throw new KeyringConfigError(problems);
  return Object.freeze({ activeKeyId: config.activeKeyId, keys, hmacKey: hmacKey! });
}

/** A keyring without some keys: what the system sees after those keys were destroyed. */
export function withoutKeys(keyring: Keyring, destroyed: readonly string[]): Keyring {
  const keys = new Map([...keyring.keys].filter(([id]) => !destroyed.includes(id)));
  return Object.freeze({ ...keyring, keys });
}

function decodeBase64(text: string): Buffer | undefined {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) || trimmed.length % 4 !== 0) return undefined;
  return Buffer.from(trimmed, 'base64');
}
