import { randomBytes } from 'node:crypto';
import { rebuildBooks, registryHousehold, waitForRegistrySeq } from '@fundtrace/books';
import { createDb } from '@fundtrace/db';
import { silentLogger } from '@fundtrace/eventlog';
import { decodeEvent, streamName } from '@fundtrace/events';
import { generateDataKey, isDataKeyId, parseKeyring, wrapDataKey } from '@fundtrace/pii';
import { useTestInfra } from '@fundtrace/testkit';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { decide } from '../src/households/decide';
import { DataKeyStore, keyStoreSchema } from '../src/keys/key-store';
import { commandDigest } from '../src/writer/digest';
import { auth, type StartedApi, startApi, tokenFor, useBooks } from './api-helpers';
import { sampleHouseholds } from './helpers';

/**
 * Per-household crypto-shredding (decision 0042) through the real service, NATS and PostgreSQL:
 * each household's fields are sealed under its own data key, kept wrapped in the key store; erasing
 * one household destroys its key only. Everything else — other households, the log, hashes, masks,
 * a rebuild from the log — stays as it was; master key rotation re-wraps keys without touching the
 * log; fields sealed directly under a period key (before data keys) keep working.
 */
const infra = useTestInfra();
const books = useBooks(infra);
const [h1, h2, h3, legacy] = sampleHouseholds(4, 4242);
const m1 = randomBytes(32).toString('base64');
const m2 = randomBytes(32).toString('base64');
const hmac = randomBytes(32).toString('base64');
const base = '/v1/partitions/411325';
const stream = () => streamName('registry', '411325', infra.ns);
const allFields = { fields: ['id_number', 'name', 'health', 'account_number', 'phone'] };
const running: StartedApi[] = [];
afterAll(async () => {
  for (const api of running) await api.app.close();
});

async function start(keys: string, active: string): Promise<StartedApi> {
  const api = await startApi(books, { PII_KEYS: keys, PII_ACTIVE_KEY: active, PII_HMAC_KEY: hmac });
  running.push(api);
  return api;
}

async function stop(api: StartedApi): Promise<void> {
  running.splice(running.indexOf(api), 1);
  await api.app.close();
}

async function call(api: StartedApi, method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) {
  const token = await tokenFor('registry');
  const response = await api.app.inject({
    method,
    url,
    headers: auth(token),
    ...(payload === undefined ? {} : { payload }),
  });
  return { status: response.statusCode, body: response.json() };
}

async function keyRow(householdId: string) {
  const result = await sql<{
    data_key_id: string;
    wrapped_key: Buffer | null;
    master_key_id: string | null;
    destroyed_at: Date | null;
    destroyed_by: string | null;
    reason: string | null;
  }>`select * from ${sql.table(`${keyStoreSchema}.data_keys`)} where household_id = ${householdId}`.execute(
    infra.db,
  );
  return result.rows[0];
}

async function rawLog(): Promise<Buffer[]> {
  const info = await infra.jsm.streams.info(stream());
  const messages: Buffer[] = [];
  for (let seq = 1; seq <= info.state.last_seq; seq++) {
    const message = await infra.jsm.streams.getMessage(stream(), { seq });
    messages.push(Buffer.from(message!.data));
  }
  return messages;
}

const hex = (bytes: Buffer) => bytes.toString('hex');

const revealOf = (api: StartedApi, householdId: string, commandId: string) =>
  call(api, 'POST', `${base}/households/${householdId}/reveals`, {
    commandId,
    memberNos: [1],
    ...allFields,
    reason: '核对',
  });

describe('per-household crypto-shredding', () => {
  it('erases one household by destroying its data key; the others, the log, hashes and masks stay', async () => {
    let api = await start(`m1:${m1}`, 'm1');
    for (const [i, h] of [h1!, h2!, h3!].entries()) {
      const r = await call(api, 'POST', `${base}/households`, { commandId: `reg-${i}`, household: h });
      expect(r.status).toBe(201);
    }

    // Each household's fields are sealed under a data key of its own, wrapped by m1 in the store.
    const keyIds = new Set<string>();
    for (const event of (await rawLog()).map((bytes) => decodeEvent(bytes))) {
      if (event.type !== 'HouseholdRegistered') continue;
      const ids = new Set(
        event.data.members.flatMap((m) => [m.nameEnc.keyId, m.idNumberEnc.keyId, m.healthEnc.keyId]),
      );
      expect(ids.size).toBe(1);
      const [keyId] = [...ids];
      expect(isDataKeyId(keyId!)).toBe(true);
      expect(await keyRow(event.data.householdId)).toMatchObject({ data_key_id: keyId, master_key_id: 'm1' });
      keyIds.add(keyId!);
    }
    expect(keyIds.size).toBe(3);

    // An enrolled household is still paid: it must exit first.
    const early = await call(api, 'POST', `${base}/households/${h1!.householdId}/erasures`, {
      commandId: 'erase-early',
      erasedOn: '2024-06-01',
      reason: '本人申请删除个人信息',
    });
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('household_still_enrolled');
    const exit = await call(api, 'POST', `${base}/households/${h1!.householdId}/exits`, {
      commandId: 'exit-1',
      kind: 'removed',
      exitedOn: '2024-05-01',
      reason: '户籍迁出',
    });
    expect(exit.status).toBe(201);

    const before = await rawLog();
    const erased = await call(api, 'POST', `${base}/households/${h1!.householdId}/erasures`, {
      commandId: 'erase-1',
      erasedOn: '2024-06-01',
      reason: '本人申请删除个人信息（个人信息保护法第47条）',
    });
    expect(erased.status).toBe(201);
    const after = await rawLog();
    // The log only grew by the erasure event: nothing before it changed (so neither did any Merkle leaf).
    expect(after.length).toBe(before.length + 1);
    expect(after.slice(0, before.length).map(hex)).toEqual(before.map(hex));
    const event = decodeEvent(after.at(-1)!);
    expect(event).toMatchObject({
      type: 'HouseholdPersonalDataErased',
      actor: { userId: 'registry-officer' },
      data: { householdId: h1!.householdId, erasedOn: '2024-06-01' },
    });
    const text = after.at(-1)!.toString('utf8');
    for (const m of h1!.members) {
      expect(text).not.toContain(m.idNumber);
      expect(text).not.toContain(m.name);
    }

    // The tombstone: the wrapped key is gone, who, when and why are kept.
    const row = await keyRow(h1!.householdId);
    expect(row).toMatchObject({
      wrapped_key: null,
      master_key_id: null,
      destroyed_by: 'registry-officer',
      reason: '本人申请删除个人信息（个人信息保护法第47条）',
    });
    expect(row!.destroyed_at).toBeInstanceOf(Date);

    // Reveals: the erased household answers keyDestroyed (and is still audited), the others do not.
    const gone = await revealOf(api, h1!.householdId, 'rv-1');
    expect(gone.status).toBe(201);
    expect(gone.body.members[0].idNumber).toEqual({ value: null, keyDestroyed: true });
    expect(gone.body.members[0].name).toEqual({ value: null, keyDestroyed: true });
    expect(gone.body.members[0].health).toEqual({ value: null, keyDestroyed: true });
    if (h1!.account) expect(gone.body.accountNumber).toEqual({ value: null, keyDestroyed: true });
    if (h1!.phone) expect(gone.body.phone).toEqual({ value: null, keyDestroyed: true });
    const kept = await revealOf(api, h2!.householdId, 'rv-2');
    expect(kept.body.members[0].idNumber).toEqual({ value: h2!.members[0]!.idNumber, keyDestroyed: false });
    expect(kept.body.members[0].name).toEqual({ value: h2!.members[0]!.name, keyDestroyed: false });

    // Hashes and masks survive: the household is still found by ID number and shown masked.
    const found = await call(api, 'POST', `${base}/households/search-by-id-number`, {
      idNumber: h1!.members[0]!.idNumber,
      minSeq: erased.body.lastSeq,
    });
    expect(found.body.household.householdId).toBe(h1!.householdId);
    expect(found.body.household.members[0].idNumberMasked).toBe(
      `${h1!.members[0]!.idNumber.slice(0, 4)}${'*'.repeat(10)}${h1!.members[0]!.idNumber.slice(14)}`,
    );

    // Nothing new may be sealed for it, and a second erasure is refused by name.
    const again = await call(api, 'POST', `${base}/households/${h1!.householdId}/erasures`, {
      commandId: 'erase-2',
      erasedOn: '2024-06-02',
      reason: '重复申请',
    });
    expect(again.body.error.code).toBe('household_erased');
    // The same command repeated answers its original result.
    const repeat = await call(api, 'POST', `${base}/households/${h1!.householdId}/erasures`, {
      commandId: 'erase-1',
      erasedOn: '2024-06-01',
      reason: '本人申请删除个人信息（个人信息保护法第47条）',
    });
    expect(repeat.status).toBe(200);

    // A rebuild from the log (a restart) knows the erasure and still cannot read the household.
    await stop(api);
    api = await start(`m1:${m1}`, 'm1');
    const state = api.counties.get('411325')!.writer.state;
    expect(state.households.get(h1!.householdId)!.erasedOn).toBe('2024-06-01');
    expect((await revealOf(api, h1!.householdId, 'rv-3')).body.members[0].idNumber.keyDestroyed).toBe(true);
    await stop(api);
  });

  it('replays: the books rebuilt from the log, erasure included, read the same as the live ones', async () => {
    const stream = streamName('registry', '411325', infra.ns);
    const lastSeq = (await infra.jsm.streams.info(stream)).state.last_seq;
    await waitForRegistrySeq(infra.db, stream, lastSeq, { timeoutMs: 30_000, pollMs: 100 });
    const rebuilt = await rebuildBooks({
      url: infra.databaseUrl,
      nc: infra.nc,
      ns: infra.ns,
      schema: 'rm_replay',
    });
    expect(rebuilt.streams).toContainEqual({ stream, lastSeq });
    const replayed = createDb(infra.databaseUrl, { schema: 'rm_replay' });
    try {
      for (const h of [h1!, h2!, h3!]) {
        const live = await registryHousehold(infra.db, '411325', stream, h.householdId);
        const again = await registryHousehold(replayed, '411325', stream, h.householdId);
        expect(again).toEqual(live);
        expect(live?.asOfSeq).toBe(lastSeq);
      }
    } finally {
      await replayed.destroy();
    }
  });

  it('re-wraps data keys on master key rotation without touching the log, then works without the old master key', async () => {
    const before = await rawLog();
    let api = await start(`m1:${m1},m2:${m2}`, 'm2');
    expect((await keyRow(h2!.householdId))!.master_key_id).toBe('m2');
    expect((await keyRow(h3!.householdId))!.master_key_id).toBe('m2');
    expect((await keyRow(h1!.householdId))!.master_key_id).toBeNull(); // destroyed stays destroyed
    const after = await rawLog();
    expect(after.length).toBe(before.length); // re-wrapping appended nothing
    expect(after.map(hex)).toEqual(before.map(hex));
    await stop(api);

    // m1 is gone from the configuration: data keys re-wrapped under m2 still open their households.
    api = await start(`m2:${m2}`, 'm2');
    const kept = await revealOf(api, h3!.householdId, 'rv-4');
    expect(kept.body.members[0].idNumber).toEqual({ value: h3!.members[0]!.idNumber, keyDestroyed: false });
    await stop(api);
  });

  it('keeps fields sealed directly under a period key readable, and refuses to pretend it can erase them alone', async () => {
    const api = await start(`m1:${m1},m2:${m2}`, 'm2');
    // A registration as the writer made them before data keys: sealed under the active master key.
    const writer = api.counties.get('411325')!.writer;
    const meta = {
      commandId: 'legacy-reg',
      digest: commandDigest('register', '411325', legacy, writer.keyring.hmacKey),
      actor: { userId: 'clerk', role: 'registry' as const, org: '内乡县扶贫办' },
      occurredAt: '2016-03-01T00:00:00+08:00',
      correlationId: 'legacy-reg',
    };
    const decision = decide({ kind: 'register', household: legacy! }, undefined, writer.context(meta));
    if (!decision.ok) throw new Error(decision.rejection.message);
    await writer.exclusive(() => writer.appendDrafts(decision.events, meta, 0));
    const household = writer.state.households.get(legacy!.householdId)!;
    expect(household.keyId).toBe('m2');

    const read = await revealOf(api, legacy!.householdId, 'rv-5');
    expect(read.body.members[0].idNumber).toEqual({
      value: legacy!.members[0]!.idNumber,
      keyDestroyed: false,
    });
    await call(api, 'POST', `${base}/households/${legacy!.householdId}/exits`, {
      commandId: 'exit-legacy',
      kind: 'removed',
      exitedOn: '2024-05-01',
      reason: '户籍迁出',
    });
    const refused = await call(api, 'POST', `${base}/households/${legacy!.householdId}/erasures`, {
      commandId: 'erase-legacy',
      erasedOn: '2024-06-01',
      reason: '本人申请删除个人信息',
    });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('household_key_shared');
    expect(await keyRow(legacy!.householdId)).toBeUndefined(); // no data key was made for it
    await stop(api);

    // Destroying the period key still shreds it (decision 0040), and only what that key sealed.
    const shredded = await start(`m3:${randomBytes(32).toString('base64')}`, 'm3');
    const gone = await revealOf(shredded, legacy!.householdId, 'rv-6');
    expect(gone.body.members[0].idNumber).toEqual({ value: null, keyDestroyed: true });
    // h2's data key was re-wrapped under m2, which is gone too: it reads as erased, and says so.
    const lost = await revealOf(shredded, h2!.householdId, 'rv-7');
    expect(lost.body.members[0].idNumber).toEqual({ value: null, keyDestroyed: true });
    await stop(shredded);
  });

  it('destroys again at start a key that a restored key store brought back for an erased household', async () => {
    // A backup taken before the erasure, restored: the erased household's key is live again.
    const keyring = parseKeyring({ keys: `m2:${m2}`, activeKeyId: 'm2', hmacKey: hmac });
    const row = await keyRow(h1!.householdId);
    const { wrapped } = wrapDataKey(row!.data_key_id, generateDataKey().key, keyring);
    await sql`update ${sql.table(`${keyStoreSchema}.data_keys`)}
      set wrapped_key = ${wrapped}, master_key_id = 'm2', destroyed_at = null, destroyed_by = null, reason = null
      where household_id = ${h1!.householdId}`.execute(infra.db);
    const api = await start(`m2:${m2}`, 'm2');
    const repaired = await keyRow(h1!.householdId);
    expect(repaired).toMatchObject({ wrapped_key: null, master_key_id: null, destroyed_by: 'registry-api' });
    expect(api.logLines.some((line) => line.includes('destroyed again'))).toBe(true);
    await stop(api);
  });
});

describe('a key store that lost a household key', () => {
  it('refuses to seal new data for that household under a fresh key, and appends nothing', async () => {
    const [sample] = sampleHouseholds(1, 777);
    const h5 = { ...sample!, householdId: `${sample!.householdId}X5` }; // numbers restart at 1 per seed
    const first = await start(`m2:${m2}`, 'm2');
    const registered = await call(first, 'POST', `${base}/households`, {
      commandId: 'reg-h5',
      household: h5,
    });
    expect(registered.status).toBe(201);
    await stop(first);
    // An incomplete restore (then a restart, as the README asks): the row is gone. A new key would
    // split the household over two keys, and whatever it sealed would be lost with the next restore.
    await sql`delete from ${sql.table(`${keyStoreSchema}.data_keys`)} where household_id = ${h5!.householdId}`.execute(
      infra.db,
    );
    const api = await start(`m2:${m2}`, 'm2');
    const before = (await rawLog()).length;
    const bound = await call(api, 'PUT', `${base}/households/${h5!.householdId}/account`, {
      commandId: 'bind-h5',
      account: { bank: 'ABC', medium: 'card', number: '6228480402564890018', holderMemberNo: 1 },
      on: '2024-01-02',
      reason: '换卡',
    });
    expect(bound.status).toBe(500);
    expect(api.logLines.some((line) => line.includes('the key store has no data key'))).toBe(true);
    expect((await rawLog()).length).toBe(before);
    expect(await keyRow(h5!.householdId)).toBeUndefined();
    await stop(api);
  });
});

describe('the key store', () => {
  it('keeps at most cacheMax unwrapped keys in memory and still answers every key', async () => {
    const keyring = parseKeyring({ keys: `m2:${m2}`, activeKeyId: 'm2', hmacKey: hmac });
    const store = await DataKeyStore.open({
      url: infra.databaseUrl,
      keyring,
      logger: silentLogger(),
      cacheMax: 2,
    });
    try {
      const ids = ['c1', 'c2', 'c3', 'c4', 'c5'];
      const first = await store.keysFor('411326', ids);
      expect(store.cachedKeys).toBeLessThanOrEqual(2);
      const again = await store.keysFor('411326', ids);
      for (const id of ids) {
        const a = first.get(id)!;
        const b = again.get(id)!;
        expect(a.state === 'live' && b.state === 'live' && a.dataKeyId === b.dataKeyId).toBe(true);
        const byId = await store.dataKey(a.dataKeyId);
        expect(byId?.state === 'live' && b.state === 'live' && byId.key.equals(b.key)).toBe(true);
      }
      expect(store.cachedKeys).toBeLessThanOrEqual(2);
      expect(await store.destroy(first.get('c1')!.dataKeyId, 'tester', '测试')).toBe('destroyed');
      expect(await store.destroy(first.get('c1')!.dataKeyId, 'tester', '测试')).toBe('already_destroyed');
      expect((await store.keysFor('411326', ['c1'])).get('c1')!.state).toBe('destroyed');
    } finally {
      await store.close();
    }
  });
});
