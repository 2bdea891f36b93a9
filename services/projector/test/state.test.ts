import { digestBooks, type Projector, startProjector } from '@fundtrace/books';
import { createDb, type Database, migrateToLatest } from '@fundtrace/db';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRig, type Rig, waitFor } from './support/harness';
import { writeLoad } from './support/load';

/**
 * The rows a projector keeps in memory from one batch to the next (decision 0056) are a cache of
 * the books: the books must come out byte for byte the same whether every batch loads what it
 * reads from PostgreSQL, reads what earlier batches left in memory, starts complete from sequence
 * 1, or forgets its rows now and then and reads them again.
 */
const events = process.env.FUNDTRACE_LONG === '1' ? 50_000 : 8_000;
const loadTimeoutMs = process.env.FUNDTRACE_LONG === '1' ? 3_600_000 : 900_000;

let rig: Rig;
let tails: Map<string, number>;

beforeAll(async () => {
  rig = await openRig();
  writeLoad(rig.log, events);
  tails = await rig.log.flush();
}, loadTimeoutMs);
afterAll(async () => {
  await rig?.close();
});

async function project(
  schema: string,
  options: { stateRowsMax?: number; batchSize: number; stopAt?: number },
): Promise<void> {
  await migrateToLatest(rig.db, { schema });
  const db: Kysely<Database> = createDb<Database>(rig.database.url, { schema, max: 4 });
  const start = (): Projector =>
    startProjector({
      nc: rig.nc,
      db,
      schema,
      ns: rig.ns,
      batchSize: options.batchSize,
      ...(options.stateRowsMax === undefined ? {} : { stateRowsMax: options.stateRowsMax }),
    });
  try {
    if (options.stopAt !== undefined) {
      // Stopped part way and started again: the new projector's states begin after a checkpoint,
      // not at sequence 1, so they load what they have not seen.
      const first = start();
      await first.discover();
      const partial = new Map([...tails].map(([stream, seq]) => [stream, Math.min(seq, options.stopAt!)]));
      await waitFor(first, db, schema, partial);
      await first.stop();
    }
    const projector = start();
    await projector.discover();
    await waitFor(projector, db, schema, tails);
    await projector.stop();
  } finally {
    await db.destroy();
  }
}

describe('rows kept across batches', () => {
  it(
    'give the same books as loading every batch, complete from sequence 1, warm after a restart, and forgotten now and then',
    async () => {
      // stateRowsMax 0: after the first batch every batch starts from a fresh state and loads.
      await project('loaded', { stateRowsMax: 0, batchSize: 100 });
      await project('kept', { batchSize: 500 });
      await project('restarted', { batchSize: 300, stopAt: Math.floor(events / 3) });
      // A bound the county stream passes again and again: dropped, then warm (not complete).
      await project('forgotten', { stateRowsMax: 1_500, batchSize: 200 });
      const loaded = await digestBooks(rig.db, 'loaded');
      const [kept, restarted, forgotten] = await Promise.all(
        ['kept', 'restarted', 'forgotten'].map((schema) => digestBooks(rig.db, schema)),
      );
      expect(loaded.find((t) => t.table === 'payments')!.rows).toBeGreaterThan(500);
      expect(kept).toEqual(loaded);
      expect(restarted).toEqual(loaded);
      expect(forgotten).toEqual(loaded);
    },
    loadTimeoutMs,
  );
});
