import { digestBooks, rebuildBooks, startProjector } from '@fundtrace/books';
import { createDb, type Database, migrateToLatest } from '@fundtrace/db';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRig, type Rig, waitFor } from './support/harness';
import { loadCounty, writeLoad } from './support/load';

/**
 * Live projection (events arriving while the projector runs) and rebuilds from sequence 1 into
 * fresh schemas must give the same books, byte for byte.
 */
const events = process.env.FUNDTRACE_LONG === '1' ? 100_000 : 10_000;
/** A bound on a slow, shared machine, not an expectation of speed (tests never assert timings). */
const loadTimeoutMs = process.env.FUNDTRACE_LONG === '1' ? 3_600_000 : 900_000;

let rig: Rig;
let tails: Map<string, number>;
const liveSchema = 'live';

beforeAll(async () => {
  rig = await openRig();
  await migrateToLatest(rig.db, { schema: liveSchema });
  const live = createDb<Database>(rig.database.url, { schema: liveSchema, max: 4 });
  const projector = startProjector({ nc: rig.nc, db: live, schema: liveSchema, ns: rig.ns, batchSize: 500 });
  // Append in several flushes while the projector runs, so it projects a growing log.
  const queued = writeLoad(rig.log, events);
  tails = await rig.log.flush();
  await projector.discover();
  await waitFor(projector, live, liveSchema, tails);
  await projector.stop();
  await live.destroy();
  expect(queued).toBeGreaterThanOrEqual(events);
}, loadTimeoutMs);
afterAll(async () => {
  await rig?.close();
});

/** Every index of `schema` with its definition (schema name left out) and whether it backs a key. */
async function indexesOf(schema: string): Promise<string[]> {
  const { rows } = await sql<{ index: string }>`
    select c.relname || ' ' || x.indisprimary::text || ' ' || x.indisunique::text || ' '
      || replace(pg_get_indexdef(c.oid), ${`${schema}.`}, '') as index
    from pg_index x
    join pg_class c on c.oid = x.indexrelid
    join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = ${schema}
    order by c.relname`.execute(rig.db);
  return rows.map((r) => r.index);
}

describe('replay', () => {
  it(
    'rebuilds into a fresh schema twice with byte-identical tables, equal to the live books',
    async () => {
      const first = await rebuildBooks({ url: rig.database.url, nc: rig.nc, ns: rig.ns, schema: 'replay_a' });
      const second = await rebuildBooks({
        url: rig.database.url,
        nc: rig.nc,
        ns: rig.ns,
        schema: 'replay_b',
      });
      // Written as the live projector writes (INSERT, every key maintained), not by COPY with
      // keys built after the load (decision 0065): the bulk path must not change a byte.
      const inserted = await rebuildBooks({
        url: rig.database.url,
        nc: rig.nc,
        ns: rig.ns,
        schema: 'replay_c',
        bulk: false,
      });
      expect(first.applied).toBe([...tails.values()].reduce((a, b) => a + b, 0));
      expect(second.applied).toBe(first.applied);
      expect(inserted.applied).toBe(first.applied);
      const [live, a, b, c] = await Promise.all([
        digestBooks(rig.db, liveSchema),
        digestBooks(rig.db, 'replay_a'),
        digestBooks(rig.db, 'replay_b'),
        digestBooks(rig.db, 'replay_c'),
      ]);
      expect(a).toEqual(b);
      expect(a).toEqual(c);
      expect(a).toEqual(live);
      expect(a.find((t) => t.table === 'payments')!.rows).toBeGreaterThan(1_000);
      // A rebuild loads without the readers' indexes and builds them at the end (decisions 0054,
      // 0065): it must end with exactly the migrated schema's indexes and keys, definitions included.
      const [liveIndexes, rebuiltIndexes, insertedIndexes] = await Promise.all([
        indexesOf(liveSchema),
        indexesOf('replay_a'),
        indexesOf('replay_c'),
      ]);
      for (const deferred of ['event_refs_pkey ', 'events_pkey ', 'events_event_id ', 'payments_household '])
        expect(liveIndexes.some((i) => i.startsWith(deferred))).toBe(true);
      expect(rebuiltIndexes).toEqual(liveIndexes);
      expect(insertedIndexes).toEqual(liveIndexes);
      await expect(
        rebuildBooks({ url: rig.database.url, nc: rig.nc, ns: rig.ns, schema: 'replay_a' }),
      ).rejects.toThrow(/exists/);
    },
    loadTimeoutMs,
  );

  it('keeps no ciphertext and no clear personal data in the books', async () => {
    const { rows } = await sql<{ n: string }>`
      select count(*)::text as n from live.events where data::text like '%"ct"%' or data::text like '%Enc"%'`.execute(
      rig.db,
    );
    expect(rows[0]!.n).toBe('0');
    const household = await sql<{ id_number_hash: string; id_number_masked: string }>`
      select id_number_hash, id_number_masked from live.members where partition = ${loadCounty} limit 1`.execute(
      rig.db,
    );
    expect(household.rows[0]!.id_number_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(household.rows[0]!.id_number_masked).toContain('*');
  });

  it('leaves the books balanced: every event balances, every tranche within bounds', async () => {
    const { rows } = await sql<{ unbalanced: string; bad_tranches: string; drift: string }>`
      select
        (select count(*) from (select partition, seq from live.entries group by partition, seq
           having sum(case when side = 'debit' then amount_fen else -amount_fen end) <> 0) u)::text as unbalanced,
        (select count(*) from live.tranches where remaining_fen < 0 or remaining_fen > amount_fen)::text as bad_tranches,
        (select count(*) from live.balances b where b.account_id not like '@%' and b.balance_fen <>
           (select coalesce(sum(remaining_fen), 0) from live.tranches t where t.partition = b.partition and t.account_id = b.account_id))::text as drift`.execute(
      rig.db,
    );
    expect(rows[0]).toEqual({ unbalanced: '0', bad_tranches: '0', drift: '0' });
  });
});
