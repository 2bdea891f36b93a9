import { eventIdTimeMs, silentLogger } from '@fundtrace/eventlog';
import { deleteNamespaceStreams, staleStreamInfo, useTestInfra } from '@fundtrace/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { DataKeyStore } from '../src/keys/key-store';
import { commandDigest } from '../src/writer/digest';
import { type CommandMeta, RegistryWriter } from '../src/writer/registry-writer';
import { sampleHouseholds, testKeyring } from './helpers';

/**
 * The writer's append protocol on real JetStream: two instances of the county's writer (a deployment
 * overlap) never both succeed on stale state; the loser reads the tail, decides again and either
 * succeeds after it or is refused by the rules it now sees.
 */
const infra = useTestInfra();
const keyring = testKeyring();
const [a, b, c] = sampleHouseholds(3, 404);

function meta(commandId: string, body: unknown): CommandMeta {
  return {
    commandId,
    digest: commandDigest('register', '411325', body, keyring.hmacKey),
    actor: { userId: 'clerk', role: 'registry', org: '内乡县扶贫办' },
    occurredAt: '2016-03-01T00:00:00+08:00',
    correlationId: commandId,
  };
}

const stores: DataKeyStore[] = [];
afterAll(async () => {
  for (const store of stores) await store.close();
});

async function open(js = infra.js, ns = infra.ns, now?: () => number): Promise<RegistryWriter> {
  const keys = await DataKeyStore.open({ url: infra.databaseUrl, keyring, logger: silentLogger() });
  stores.push(keys);
  return RegistryWriter.open({
    js,
    jsm: infra.jsm,
    partition: '411325',
    ns,
    keyring,
    keys,
    logger: silentLogger(),
    ...(now === undefined ? {} : { now }),
  });
}

describe('two writers of one county', () => {
  it('makes the stale one catch up and decide again instead of overwriting', async () => {
    const first = await open();
    const second = await open();
    const one = await first.execute({ kind: 'register', household: a! }, meta('a', a));
    expect(one).toMatchObject({ ok: true, firstSeq: 1 });
    // `second` still believes the stream is empty: its append expects sequence 0 and loses.
    expect(second.state.lastSeq).toBe(0);
    const two = await second.execute({ kind: 'register', household: b! }, meta('b', b));
    expect(two.ok).toBe(true);
    expect(two.ok && one.ok && two.firstSeq === (one.lastSeq ?? 0) + 1).toBe(true);
    expect(second.state.households.has(a!.householdId)).toBe(true);

    // After catching up, the stale writer applies the county's rules to what it missed.
    const clash = {
      ...c!,
      members: [{ ...c!.members[0]!, idNumber: b!.members[0]!.idNumber, birthDate: null }],
      account: null,
    };
    const refused = await first.execute({ kind: 'register', household: clash }, meta('c', clash));
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.rejection.code).toBe('id_number_registered_in_county');
    expect(first.state.lastSeq).toBe(second.state.lastSeq);
  });

  it('answers a command repeated on the other writer with the original result', async () => {
    const first = await open();
    const second = await open();
    const body = { ...c!, householdId: `${c!.householdId}9` };
    const original = await first.execute({ kind: 'register', household: body }, meta('c2', body));
    const repeat = await second.execute({ kind: 'register', household: body }, meta('c2', body));
    expect(repeat).toMatchObject({ ok: true, duplicate: true, firstSeq: original.ok && original.firstSeq });
    const reused = await second.execute({ kind: 'register', household: a! }, meta('c2', a));
    expect(!reused.ok && reused.rejection.code).toBe('idempotency_key_reused');
  });

  it('a stale stream info (a replica that just restarted) does not keep the loser deciding on a short state (0122)', async () => {
    // A namespace of its own (removed at the end), so that the stream starts empty.
    const ns = `${infra.ns}s`;
    try {
      // The stale one's stream info never shows anything (a replica far behind).
      const stale = await open(staleStreamInfo(infra.js, 1_000), ns);
      const fresh = await open(infra.js, ns);
      const one = await stale.execute({ kind: 'register', household: a! }, meta('s-a', a));
      expect(one).toMatchObject({ ok: true, firstSeq: 1 });
      const two = await fresh.execute({ kind: 'register', household: b! }, meta('s-b', b));
      expect(two.ok && one.ok && two.firstSeq).toBe(one.ok && (one.lastSeq ?? 0) + 1);
      // Its lost race says where the stream ends: it reads that far and stores after it.
      const three = await stale.execute({ kind: 'register', household: c! }, meta('s-c', c));
      expect(three.ok && two.ok && three.firstSeq).toBe(two.ok && (two.lastSeq ?? 0) + 1);
      expect(stale.state.households.has(b!.householdId)).toBe(true);
    } finally {
      await deleteNamespaceStreams(infra.jsm, ns);
    }
  });
});

describe('registry writer messages (one encoding for every writer)', () => {
  it('appends the same subjects, bytes and Nats-Msg-Ids as before it used commandMessages', async () => {
    // Pinned from the writer before it built its messages with eventlog's commandMessages (an
    // envelope per draft, encodeEvent each). Event ids are fresh uuid v7s (registry-api recognises
    // a repeat by the digest its events carry), so each stored id is checked for its time and
    // stands as <id> in the pinned text; everything else is byte for byte.
    const ns = `${infra.ns}m`;
    const nowMs = Date.UTC(2026, 0, 15, 2, 30, 0, 123);
    try {
      const writer = await open(infra.js, ns, () => nowMs);
      expect(await writer.execute({ kind: 'register', household: a! }, meta('m-a', a))).toMatchObject({
        ok: true,
        lastSeq: 3,
      });
      const householdId = a!.householdId;
      const commandDigest = 'ab'.repeat(32);
      const outcome = await writer.appendDrafts(
        [
          {
            type: 'HouseholdMoved',
            data: {
              householdId,
              commandDigest,
              fromVillageCode: a!.villageCode,
              toVillageCode: '411325100201',
              movedOn: '2016-04-01',
            },
          },
          {
            type: 'HouseholdExited',
            data: { householdId, commandDigest, kind: 'lifted', exitedOn: '2016-05-01', reason: '稳定脱贫' },
          },
        ],
        { ...meta('m-move', {}), correlationId: 'run-m' },
        1,
      );
      expect(outcome).toEqual({ firstSeq: 4, lastSeq: 5 });
      const stored = [];
      for (const seq of [4, 5]) {
        const m = (await infra.jsm.streams.getMessage(writer.stream, { seq }))!;
        const text = new TextDecoder().decode(m.data);
        const id = /"id":"([0-9a-f-]{36})"/.exec(text)![1]!;
        expect(eventIdTimeMs(id)).toBe(nowMs);
        stored.push({
          subject: m.subject.replace(ns, '<ns>'),
          msgId: m.header.get('Nats-Msg-Id'),
          text: text.replace(id, '<id>'),
        });
      }
      expect(stored).toEqual([
        {
          subject: '<ns>.registry.411325.household.41132500000001',
          msgId: 'm-move:1',
          text: '{"actor":{"org":"内乡县扶贫办","role":"registry","userId":"clerk"},"commandId":"m-move","correlationId":"run-m","data":{"commandDigest":"abababababababababababababababababababababababababababababababab","fromVillageCode":"411325103201","householdId":"41132500000001","movedOn":"2016-04-01","toVillageCode":"411325100201"},"id":"<id>","occurredAt":"2016-03-01T00:00:00+08:00","partition":"411325","recordedAt":"2026-01-15T02:30:00.123Z","type":"HouseholdMoved","version":1}',
        },
        {
          subject: '<ns>.registry.411325.household.41132500000001',
          msgId: 'm-move:2',
          text: '{"actor":{"org":"内乡县扶贫办","role":"registry","userId":"clerk"},"commandId":"m-move","correlationId":"run-m","data":{"commandDigest":"abababababababababababababababababababababababababababababababab","exitedOn":"2016-05-01","householdId":"41132500000001","kind":"lifted","reason":"稳定脱贫"},"id":"<id>","occurredAt":"2016-03-01T00:00:00+08:00","partition":"411325","recordedAt":"2026-01-15T02:30:00.123Z","type":"HouseholdExited","version":1}',
        },
      ]);
    } finally {
      await deleteNamespaceStreams(infra.jsm, ns);
    }
  });
});
