import { digestBooks, projectBatch, type StoredEvent, withoutCiphertext } from '@fundtrace/books';
import { createDb, type Database, migrateToLatest } from '@fundtrace/db';
import {
  decodeStreamMessage,
  decodeStreamMessageWithData,
  type RawStreamMessage,
  readRange,
} from '@fundtrace/eventlog';
import { jetstream } from '@nats-io/jetstream';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRig, type Rig } from './support/harness';
import { writeLoad } from './support/load';

/**
 * The projector parses each event's bytes once (decision 0105): the payload it stores in
 * `events.data` comes from the decoder (`decodeStreamMessageWithData`) instead of a second parse
 * of the bytes. The books must be the same either way, and free of ciphertext.
 */
const events = 3_000;
const loadTimeoutMs = 600_000;

let rig: Rig;
let messages: RawStreamMessage[][];

beforeAll(async () => {
  rig = await openRig();
  writeLoad(rig.log, events);
  const tails = await rig.log.flush();
  const js = jetstream(rig.nc);
  messages = [];
  for (const [stream, last] of [...tails].sort()) {
    messages.push(await readRange(js, { stream, fromSeq: 1, toSeq: last }));
  }
}, loadTimeoutMs);
afterAll(async () => {
  await rig?.close();
});

async function project(schema: string, decode: (message: RawStreamMessage) => StoredEvent): Promise<void> {
  await migrateToLatest(rig.db, { schema });
  const db = createDb<Database>(rig.database.url, { schema, max: 2 });
  try {
    for (const stream of messages) {
      const stored = stream.map(decode);
      for (let start = 0; start < stored.length; start += 500) {
        await db.transaction().execute((trx) => projectBatch(trx, stored.slice(start, start + 500)));
      }
    }
  } finally {
    await db.destroy();
  }
}

describe('one parse per event', () => {
  it(
    'stores the same books from the decoder’s payload as from parsing the bytes again',
    async () => {
      const kept = messages.flat().map(decodeStreamMessageWithData);
      expect(kept.every((item) => typeof item.wireData === 'object' && item.wireData !== null)).toBe(true);
      await project('from_decoder', decodeStreamMessageWithData);
      await project('reparsed', decodeStreamMessage);
      const [fromDecoder, reparsed] = await Promise.all([
        digestBooks(rig.db, 'from_decoder'),
        digestBooks(rig.db, 'reparsed'),
      ]);
      expect(fromDecoder.find((t) => t.table === 'events')!.rows).toBe(kept.length);
      expect(fromDecoder).toEqual(reparsed);
      // Registration events carry encrypted fields; none reaches the books.
      const { rows } = await sql<{ registered: string; with_ciphertext: string }>`
        select count(*) filter (where type = 'HouseholdRegistered')::text as registered,
          count(*) filter (where data::text like '%Enc"%' or data::text like '%"ct"%')::text as with_ciphertext
        from from_decoder.events`.execute(rig.db);
      expect(Number(rows[0]!.registered)).toBeGreaterThan(0);
      expect(Number(rows[0]!.with_ciphertext)).toBe(0);
    },
    loadTimeoutMs,
  );
});

describe('withoutCiphertext', () => {
  it('answers a payload without encrypted fields as it is, with no copy', () => {
    const payload = { paymentId: 'p-1', amountFen: '100', pieces: [{ trancheId: 't', amountFen: '100' }] };
    expect(withoutCiphertext(payload)).toBe(payload);
  });

  it('drops every …Enc field at any depth and leaves the payload it was given unchanged', () => {
    const payload = {
      householdId: 'h-1',
      headIdNumberEnc: { ct: 'x', iv: 'y', kid: 'k1', tag: 'z' },
      members: [
        { memberNo: 1, idNumberEnc: { ct: 'a' }, idNumberMasked: '4113**********1234' },
        { memberNo: 2, name: '张三' },
      ],
    };
    const before = structuredClone(payload);
    const stored = withoutCiphertext(payload) as typeof payload;
    expect(stored).toEqual({
      householdId: 'h-1',
      members: [
        { memberNo: 1, idNumberMasked: '4113**********1234' },
        { memberNo: 2, name: '张三' },
      ],
    });
    expect(payload).toEqual(before);
    // The member without ciphertext is shared, not copied.
    expect(stored.members[1]).toBe(payload.members[1]);
  });
});
