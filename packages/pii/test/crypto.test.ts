import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  decryptField,
  encryptField,
  hmacField,
  type Keyring,
  KeyringConfigError,
  parseKeyring,
  reencryptField,
  sealIdNumber,
  withoutKeys,
} from '../src/index';

const b64 = (bytes: number) => randomBytes(bytes).toString('base64');
const k1 = b64(32);
const k2 = b64(32);
const hmac = b64(32);

function keyring(keys: string, active: string): Keyring {
  return parseKeyring({ keys, activeKeyId: active, hmacKey: hmac });
}

describe('keyring configuration', () => {
  it('parses several keys and the active one', () => {
    const ring = keyring(`k1:${k1}, k2:${k2}`, 'k2');
    expect(ring.activeKeyId).toBe('k2');
    expect([...ring.keys.keys()]).toEqual(['k1', 'k2']);
  });

  it('reports every problem at once and never echoes key material', () => {
    const shortKey = b64(16);
    let error: unknown;
    try {
      parseKeyring({
        keys: `k1:${shortKey},bad id:${k1},k1:${k1},k3:${k2},k3:${k1}`,
        activeKeyId: 'k9',
        hmacKey: b64(8),
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(KeyringConfigError);
    const problems = (error as KeyringConfigError).problems;
    expect(problems).toHaveLength(5);
    expect(problems.join(' ')).toMatch(/k1 is not 32 bytes/);
    expect(problems.join(' ')).toMatch(/entry 2 has no valid key id/);
    expect(problems.join(' ')).toMatch(/k3 twice/);
    expect(problems.join(' ')).toMatch(/PII_ACTIVE_KEY "k9"/);
    expect(problems.join(' ')).toMatch(/PII_HMAC_KEY/);
    expect((error as Error).message).not.toContain(shortKey);
    expect((error as Error).message).not.toContain(k1);
  });

  it('rejects an empty key list and non-base64 material', () => {
    expect(() => keyring('', 'k1')).toThrow(/lists no key/);
    expect(() => keyring('k1:not base64!', 'k1')).toThrow(/not 32 bytes/);
  });
});

describe('field encryption (AES-256-GCM)', () => {
  const ring = keyring(`k1:${k1}`, 'k1');

  it('round-trips a value and records the key id, a 96-bit IV and a 128-bit tag', () => {
    const field = encryptField('id_number', '11010519491231002X', ring);
    expect(field.keyId).toBe('k1');
    expect(Buffer.from(field.iv, 'base64')).toHaveLength(12);
    expect(Buffer.from(field.tag, 'base64')).toHaveLength(16);
    expect(field.ct).not.toContain('1101');
    expect(decryptField('id_number', field, ring)).toEqual({ ok: true, value: '11010519491231002X' });
  });

  it('uses a fresh IV each time, so equal values give different ciphertexts', () => {
    const a = encryptField('name', '张三', ring);
    const b = encryptField('name', '张三', ring);
    expect(a.iv).not.toBe(b.iv);
    expect(a.ct).not.toBe(b.ct);
  });

  it('round-trips the empty string and multi-byte text', () => {
    expect(decryptField('health', encryptField('health', '', ring), ring)).toEqual({ ok: true, value: '' });
    expect(decryptField('name', encryptField('name', '欧阳𠮷', ring), ring)).toEqual({
      ok: true,
      value: '欧阳𠮷',
    });
  });

  it('throws when a ciphertext was altered: that is a broken log, not an expected answer', () => {
    const field = encryptField('phone', '13812345678', ring);
    const ct = Buffer.from(field.ct, 'base64');
    ct[0] = ct[0]! ^ 1;
    expect(() => decryptField('phone', { ...field, ct: ct.toString('base64') }, ring)).toThrow(/altered/);
  });

  it('binds the kind: an ID-number ciphertext does not decrypt as an account number', () => {
    const field = encryptField('id_number', '11010519491231002X', ring);
    expect(() => decryptField('account_number', field, ring)).toThrow(/fails authentication/);
  });

  it('refuses oversized values', () => {
    expect(() => encryptField('health', 'x'.repeat(1001), ring)).toThrow(/longer than 1000/);
  });
});

describe('rotation and crypto-shredding', () => {
  const old = keyring(`k1:${k1}`, 'k1');
  const rotated = keyring(`k1:${k1},k2:${k2}`, 'k2');

  it('decrypts old fields after rotation and encrypts new ones with the active key', () => {
    const before = encryptField('id_number', '11010519491231002X', old);
    expect(decryptField('id_number', before, rotated)).toEqual({ ok: true, value: '11010519491231002X' });
    expect(encryptField('id_number', 'x', rotated).keyId).toBe('k2');
  });

  it('re-encrypts under the active key and leaves fields already under it alone', () => {
    const before = encryptField('name', '李四', old);
    const moved = reencryptField('name', before, rotated);
    expect(moved.ok && moved.field.keyId).toBe('k2');
    expect(moved.ok && decryptField('name', moved.field, withoutKeys(rotated, ['k1']))).toEqual({
      ok: true,
      value: '李四',
    });
    const current = encryptField('name', '李四', rotated);
    const same = reencryptField('name', current, rotated);
    expect(same.ok && same.field).toBe(current);
  });

  it('answers key_destroyed, never a crash, once a key is gone', () => {
    const field = encryptField('account_number', '6228480402564890018', old);
    const shredded = withoutKeys(rotated, ['k1']);
    expect(decryptField('account_number', field, shredded)).toEqual({
      ok: false,
      reason: 'key_destroyed',
      keyId: 'k1',
    });
    expect(reencryptField('account_number', field, shredded)).toEqual({
      ok: false,
      reason: 'key_destroyed',
      keyId: 'k1',
    });
  });
});

describe('keyed hash (HMAC-SHA256)', () => {
  const key = Buffer.from(hmac, 'base64');

  it('is deterministic per kind and key, and separates kinds and keys', () => {
    const h = hmacField('id_number', '11010519491231002X', key);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(hmacField('id_number', '11010519491231002X', key)).toBe(h);
    expect(hmacField('phone', '11010519491231002X', key)).not.toBe(h);
    expect(hmacField('id_number', '11010519491231002X', randomBytes(32))).not.toBe(h);
  });

  it('cannot be confused by moving the separator into the value', () => {
    expect(hmacField('phone', 'x', key)).not.toBe(hmacField('phon' as 'phone', 'e\u0000x', key));
  });

  it('seals an ID number as ciphertext, hash and staff mask', () => {
    const ring = keyring(`k1:${k1}`, 'k1');
    const sealed = sealIdNumber('11010519491231002X', ring);
    expect(sealed.masked).toBe('1101**********002X');
    expect(sealed.hash).toBe(hmacField('id_number', '11010519491231002X', ring.hmacKey));
    expect(decryptField('id_number', sealed.enc, ring)).toEqual({ ok: true, value: '11010519491231002X' });
  });
});
