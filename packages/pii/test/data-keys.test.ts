import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  decryptField,
  encryptField,
  generateDataKey,
  householdKeyring,
  isDataKeyId,
  type Keyring,
  parseKeyring,
  sealIdNumber,
  unwrapDataKey,
  withoutKeys,
  wrapDataKey,
  wrappedDataKeyBytes,
} from '../src/index';

/** Envelope encryption: data keys per household, wrapped by the configured master keys (decision 0042). */
const b64 = () => randomBytes(32).toString('base64');
const m1 = b64();
const m2 = b64();
const hmac = b64();
const ring = (keys: string, active: string): Keyring =>
  parseKeyring({ keys, activeKeyId: active, hmacKey: hmac });

describe('household data keys', () => {
  it('generates distinct 32-byte keys with ids that fit a field keyId and cannot be master key ids', () => {
    const a = generateDataKey();
    const b = generateDataKey();
    expect(a.key.length).toBe(32);
    expect(a.key.equals(b.key)).toBe(false);
    expect(a.dataKeyId).not.toBe(b.dataKeyId);
    expect(isDataKeyId(a.dataKeyId)).toBe(true);
    expect(a.dataKeyId.length).toBeLessThanOrEqual(32);
    expect(isDataKeyId('k1')).toBe(false);
    expect(() => ring(`hk-mine:${m1}`, 'hk-mine')).toThrow(/household data keys/);
  });

  it('wraps under the active master key and unwraps to the same key', () => {
    const keyring = ring(`m1:${m1}`, 'm1');
    const { dataKeyId, key } = generateDataKey();
    const { masterKeyId, wrapped } = wrapDataKey(dataKeyId, key, keyring);
    expect(masterKeyId).toBe('m1');
    expect(wrapped.length).toBe(wrappedDataKeyBytes);
    expect(wrapped.includes(key)).toBe(false);
    const unwrapped = unwrapDataKey(dataKeyId, wrapped, masterKeyId, keyring);
    expect(unwrapped.ok && unwrapped.key.equals(key)).toBe(true);
  });

  it('re-wraps under a new master key (rotation) and then no longer needs the old one', () => {
    const old = ring(`m1:${m1}`, 'm1');
    const rotated = ring(`m1:${m1},m2:${m2}`, 'm2');
    const { dataKeyId, key } = generateDataKey();
    const first = wrapDataKey(dataKeyId, key, old);
    const opened = unwrapDataKey(dataKeyId, first.wrapped, first.masterKeyId, rotated);
    if (!opened.ok) throw new Error('unwrap failed');
    const second = wrapDataKey(dataKeyId, opened.key, rotated);
    expect(second.masterKeyId).toBe('m2');
    const withoutOld = withoutKeys(rotated, ['m1']);
    const again = unwrapDataKey(dataKeyId, second.wrapped, 'm2', withoutOld);
    expect(again.ok && again.key.equals(key)).toBe(true);
    expect(unwrapDataKey(dataKeyId, first.wrapped, 'm1', withoutOld)).toEqual({
      ok: false,
      reason: 'master_key_missing',
      masterKeyId: 'm1',
    });
  });

  it('refuses a wrapped key moved to another id, or altered, as a broken invariant', () => {
    const keyring = ring(`m1:${m1}`, 'm1');
    const a = generateDataKey();
    const b = generateDataKey();
    const { wrapped } = wrapDataKey(a.dataKeyId, a.key, keyring);
    expect(() => unwrapDataKey(b.dataKeyId, wrapped, 'm1', keyring)).toThrow(/key store was altered/);
    const flipped = Buffer.from(wrapped);
    flipped[20] = flipped[20]! ^ 1;
    expect(() => unwrapDataKey(a.dataKeyId, flipped, 'm1', keyring)).toThrow(/key store was altered/);
    expect(() => unwrapDataKey(a.dataKeyId, wrapped.subarray(1), 'm1', keyring)).toThrow(/bytes/);
  });

  it('seals a household under its data key; without it that household reads key_destroyed, another does not', () => {
    const keyring = ring(`m1:${m1}`, 'm1');
    const mine = generateDataKey();
    const theirs = generateDataKey();
    const mineRing = householdKeyring(keyring, mine.dataKeyId, mine.key);
    const sealed = sealIdNumber('11010519491231002X', mineRing);
    expect(sealed.enc.keyId).toBe(mine.dataKeyId);
    const other = encryptField('name', '张三丰', householdKeyring(keyring, theirs.dataKeyId, theirs.key));
    // The hash does not depend on the data key: matching survives erasure.
    expect(sealed.hash).toBe(sealIdNumber('11010519491231002X', keyring).hash);
    expect(decryptField('id_number', sealed.enc, mineRing)).toEqual({
      ok: true,
      value: '11010519491231002X',
    });
    // The data key destroyed: only the configured keys and the other household's key remain.
    const afterErasure = householdKeyring(keyring, theirs.dataKeyId, theirs.key);
    expect(decryptField('id_number', sealed.enc, afterErasure)).toEqual({
      ok: false,
      reason: 'key_destroyed',
      keyId: mine.dataKeyId,
    });
    expect(decryptField('name', other, afterErasure)).toEqual({ ok: true, value: '张三丰' });
    // A field sealed directly under a period key (before data keys) still opens.
    const legacy = encryptField('phone', '13800138000', keyring);
    expect(decryptField('phone', legacy, afterErasure)).toEqual({ ok: true, value: '13800138000' });
  });
});
