import { randomBytes } from 'node:crypto';
import { decodeEvent, streamName } from '@fundtrace/events';
import { isDataKeyId } from '@fundtrace/pii';
import { ConfigError } from '@fundtrace/service-kit';
import { useTestInfra } from '@fundtrace/testkit';
import { describe, expect, it } from 'vitest';
import { loadRegistryConfig } from '../src/config';
import { auth, type StartedApi, startApi, tokenFor, useBooks } from './api-helpers';
import { sampleHouseholds } from './helpers';

/**
 * Master key rotation and crypto-shredding through the real service, NATS and PostgreSQL: fields are
 * sealed under household data keys wrapped by the master keys (decision 0042). Rotation re-wraps the
 * data keys, so the old master key can then go without losing anything; once no configured master key
 * wraps them, every field reads `keyDestroyed` (never a crash), while the log, the state rebuilt from
 * it and the masked answers stay intact. Erasing one household: erasure.test.ts.
 */
const infra = useTestInfra();
const books = useBooks(infra);
const [h1, h2] = sampleHouseholds(2, 77);
const k1 = randomBytes(32).toString('base64');
const k2 = randomBytes(32).toString('base64');
const k3 = randomBytes(32).toString('base64');
const hmac = randomBytes(32).toString('base64');
const base = '/v1/partitions/411325';

describe('rotation and crypto-shredding', () => {
  it('reads old fields after rotation (keys re-wrapped), and answers keyDestroyed once no configured key wraps them', async () => {
    const token = await tokenFor('registry');
    const reveal = {
      memberNos: [1],
      fields: ['id_number', 'name', 'account_number', 'phone'],
      reason: '核对',
    };

    /** h1's first ID number, revealed in clear by `api`. */
    const expectFirstIdReadable = async (api: StartedApi, commandId: string) => {
      const old = await api.app.inject({
        method: 'POST',
        url: `${base}/households/${h1!.householdId}/reveals`,
        headers: auth(token),
        payload: { commandId, ...reveal },
      });
      expect(old.json().members[0].idNumber).toEqual({
        value: h1!.members[0]!.idNumber,
        keyDestroyed: false,
      });
    };

    const first = await startApi(books, {
      PII_KEYS: `k1:${k1}`,
      PII_ACTIVE_KEY: 'k1',
      PII_HMAC_KEY: hmac,
    });
    try {
      const r = await first.app.inject({
        method: 'POST',
        url: `${base}/households`,
        headers: auth(token),
        payload: { commandId: 'h1', household: h1 },
      });
      expect(r.statusCode).toBe(201);
    } finally {
      await first.app.close();
    }

    const rotated = await startApi(books, {
      PII_KEYS: `k1:${k1},k2:${k2}`,
      PII_ACTIVE_KEY: 'k2',
      PII_HMAC_KEY: hmac,
    });
    try {
      const r = await rotated.app.inject({
        method: 'POST',
        url: `${base}/households`,
        headers: auth(token),
        payload: { commandId: 'h2', household: h2 },
      });
      expect(r.statusCode).toBe(201);
      const seq = r.json().firstSeq as number;
      const raw = await infra.jsm.streams.getMessage(streamName('registry', '411325', infra.ns), { seq });
      const event = decodeEvent(raw!.data);
      expect(
        event.type === 'HouseholdRegistered' && isDataKeyId(event.data.members[0]!.idNumberEnc.keyId),
      ).toBe(true);
      await expectFirstIdReadable(rotated, 'rv-1');
    } finally {
      await rotated.app.close();
    }

    // k1 is gone, but the rotated start re-wrapped every data key under k2: nothing is lost.
    const withoutOld = await startApi(books, {
      PII_KEYS: `k2:${k2}`,
      PII_ACTIVE_KEY: 'k2',
      PII_HMAC_KEY: hmac,
    });
    try {
      await expectFirstIdReadable(withoutOld, 'rv-1b');
    } finally {
      await withoutOld.app.close();
    }

    // No configured master key wraps the data keys any more: every household is shredded.
    const shredded = await startApi(books, {
      PII_KEYS: `k3:${k3}`,
      PII_ACTIVE_KEY: 'k3',
      PII_HMAC_KEY: hmac,
    });
    try {
      const state = shredded.counties.get('411325')!.writer.state;
      expect(state.households.size).toBe(2);
      const view = await shredded.app.inject({
        method: 'GET',
        url: `${base}/households/${h1!.householdId}?minSeq=${state.lastSeq}`,
        headers: auth(token),
      });
      expect(view.statusCode).toBe(200);
      expect(view.json().members[0].idNumberMasked).toBe(
        h1!.members[0]!.idNumber.slice(0, 4) + '*'.repeat(10) + h1!.members[0]!.idNumber.slice(14),
      );
      const gone = await shredded.app.inject({
        method: 'POST',
        url: `${base}/households/${h1!.householdId}/reveals`,
        headers: auth(token),
        payload: { commandId: 'rv-2', ...reveal },
      });
      expect(gone.statusCode).toBe(201);
      const body = gone.json();
      expect(body.members[0].idNumber).toEqual({ value: null, keyDestroyed: true });
      expect(body.members[0].name).toEqual({ value: null, keyDestroyed: true });
      if (h1!.account) expect(body.accountNumber).toEqual({ value: null, keyDestroyed: true });
      expect(body.auditSeq).toBe(state.lastSeq); // the reveal was still audited
      const kept = await shredded.app.inject({
        method: 'POST',
        url: `${base}/households/${h2!.householdId}/reveals`,
        headers: auth(token),
        payload: { commandId: 'rv-3', ...reveal },
      });
      expect(kept.json().members[0].idNumber).toEqual({ value: null, keyDestroyed: true });
      // Matching still works: the keyed hash does not depend on the destroyed key.
      const search = await shredded.app.inject({
        method: 'POST',
        url: `${base}/households/search-by-id-number`,
        headers: auth(token),
        payload: { idNumber: h1!.members[0]!.idNumber, minSeq: state.lastSeq },
      });
      expect(search.json().household.householdId).toBe(h1!.householdId);
    } finally {
      await shredded.app.close();
    }
  });
});

describe('configuration', () => {
  it('reports every problem of the environment and the keys at once, without echoing key material', () => {
    const short = randomBytes(8).toString('base64');
    let error: unknown;
    try {
      loadRegistryConfig({
        JWT_SECRET: 'x',
        REGISTRY_PARTITIONS: '411300,41132',
        PII_KEYS: `k1:${short}`,
        PII_ACTIVE_KEY: 'k9',
        PII_HMAC_KEY: short,
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const text = (error as ConfigError).problems.join('\n');
    expect(text).toMatch(/JWT_SECRET/);
    expect(text).toMatch(/411300 is not a county code/);
    expect(text).toMatch(/41132 is not a county code/);
    expect(text).toMatch(/k1 is not 32 bytes/);
    expect(text).toMatch(/PII_ACTIVE_KEY/);
    expect(text).toMatch(/PII_HMAC_KEY/);
    expect(text).not.toContain(short);
  });

  it('requires the keys', () => {
    expect(() => loadRegistryConfig({ JWT_SECRET: 'x'.repeat(32) })).toThrow(/PII_KEYS: is required/);
  });
});
