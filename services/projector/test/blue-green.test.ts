import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digestBooks, durableFor, rebuildBooks, switchSchema } from '@fundtrace/books';
import { getActiveSchema } from '@fundtrace/db';
import { jetstreamManager } from '@nats-io/jetstream';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnProjector } from './support/child';
import { openRig, type Rig } from './support/harness';
import { writeLoad } from './support/load';
import { province } from './support/scenario';

/** Longest the test waits for the running projector to reach a sequence (not a timing assertion). */
const waitMs = 120_000;

let rig: Rig;

beforeAll(async () => {
  rig = await openRig();
});
afterAll(async () => {
  await rig?.close();
});

async function checkpoints(schema: string): Promise<Map<string, number>> {
  try {
    const { rows } = await sql<{ stream: string; last_seq: bigint }>`
      select stream, last_seq from ${sql.table(`${schema}.projection_checkpoints`)}
      where consumer = ${durableFor(schema)}`.execute(rig.db);
    return new Map(rows.map((row) => [row.stream, Number(row.last_seq)]));
  } catch {
    return new Map(); // the service has not created the schema yet
  }
}

/** Waits until every stream of `tails` is applied in `schema`. */
async function until(schema: string, tails: ReadonlyMap<string, number>): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const at = await checkpoints(schema);
    if ([...tails].every(([stream, seq]) => (at.get(stream) ?? 0) >= seq)) return;
    if (Date.now() > deadline)
      throw new Error(`${schema} is at ${JSON.stringify([...at])}, expected ${JSON.stringify([...tails])}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('blue/green rebuild with the projector service running', () => {
  it('rebuilds while the old schema serves, switches, and the service follows into the new schema', async () => {
    const logDir = mkdtempSync(join(tmpdir(), 'projector-bg-'));
    const child = spawnProjector(
      { DATABASE_URL: rig.database.url, FUNDTRACE_NAMESPACE: rig.ns, PROJECTOR_SCHEMA: 'blue' },
      join(logDir, 'projector.log'),
    );
    try {
      writeLoad(rig.log, 2_000);
      let tails = await rig.log.flush();
      const total = [...tails.values()].reduce((a, b) => a + b, 0);
      await until('blue', tails);
      expect(await getActiveSchema(rig.db)).toBe('blue');

      const rebuilt = await rebuildBooks({ url: rig.database.url, nc: rig.nc, ns: rig.ns, schema: 'green' });
      expect(rebuilt.applied).toBe(total);
      expect(await digestBooks(rig.db, 'green')).toEqual(await digestBooks(rig.db, 'blue'));
      expect(await switchSchema(rig.database.url, 'green')).toBe('blue');

      // Events after the switch land in green, projected by the running service (a new partition's
      // stream too, which it discovers).
      rig.log.add(province, 'AccountOpened', { accountId: 'pool', kind: 'pool', name: '河南省扶贫资金专户' });
      rig.log.add(province, 'AllocationReceived', {
        receiptId: 'r-after-switch',
        origin: { kind: 'external', payer: '河南省财政厅' },
        accountId: 'pool',
        documentNumber: '豫财农〔2019〕99号',
        fundSource: 'province',
        purpose: 'poverty_alleviation',
        fiscalYear: 2019,
        amountFen: 1_000n,
        created: [
          {
            trancheId: 'p-after',
            accountId: 'pool',
            amountFen: 1_000n,
            fundSource: 'province',
            fiscalYear: 2019,
            purpose: 'poverty_alleviation',
            documentNumber: '豫财农〔2019〕99号',
            parents: [],
          },
        ],
      });
      tails = await rig.log.flush();
      await until('green', tails);
      const { rows } = await sql<{ n: string }>`
        select count(*)::text as n from green.receipts where partition = ${province} and receipt_id = 'r-after-switch'`.execute(
        rig.db,
      );
      expect(rows[0]!.n).toBe('1');
      // The old durables are gone once the service moved on.
      const jsm = await jetstreamManager(rig.nc);
      const deadline = Date.now() + waitMs;
      for (;;) {
        const durables: string[] = [];
        for (const stream of tails.keys()) {
          for await (const consumer of jsm.consumers.list(stream)) durables.push(consumer.name);
        }
        if (!durables.includes(durableFor('blue'))) break;
        if (Date.now() > deadline) throw new Error(`blue durables still there: ${durables.join(', ')}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect((await child.stop()).code).toBe(0);
    } finally {
      await child.kill();
    }
  }, 600_000);
});
