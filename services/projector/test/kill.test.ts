import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkBooks, digestBooks, durableFor, startProjector } from '@fundtrace/books';
import { createDb, type Database, migrateToLatest } from '@fundtrace/db';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnProjector } from './support/child';
import { openRig, type Rig, waitFor } from './support/harness';
import { writeLoad } from './support/load';

/**
 * Exactly once under crashes: the projector runs as a real process and is killed with SIGKILL at
 * random points while the load is being appended and projected, restarted each time. Its books
 * must end identical to those of an uninterrupted run. FUNDTRACE_LONG=1 runs the issue's
 * 100,000-event form.
 */
const long = process.env.FUNDTRACE_LONG === '1';
const events = long ? 100_000 : 10_000;
const killsMin = long ? 10 : 3;
/** Longest the test waits for a restarted projector to make progress (covers the ack wait). */
const progressTimeoutMs = 120_000;

let rig: Rig;
const killedSchema = 'killed';

beforeAll(async () => {
  rig = await openRig();
});
afterAll(async () => {
  await rig?.close();
});

async function applied(db: Kysely<Database>): Promise<number> {
  try {
    const { rows } = await sql<{ n: string | null }>`
      select sum(last_seq)::text as n from killed.projection_checkpoints where consumer = ${durableFor(killedSchema)}`.execute(
      db,
    );
    return Number(rows[0]?.n ?? 0);
  } catch {
    return 0; // the first process has not created the schema yet
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a projector killed with SIGKILL at random points', () => {
  it(
    'ends with books identical to an uninterrupted run',
    async () => {
      const logDir = mkdtempSync(join(tmpdir(), 'projector-kill-'));
      const env = {
        DATABASE_URL: rig.database.url,
        FUNDTRACE_NAMESPACE: rig.ns,
        PROJECTOR_SCHEMA: killedSchema,
        // The batches a killed process held come back after the ack wait: a short one keeps the
        // restarts of this test from idling 30 s each, and proves the variable reaches the runner.
        PROJECTOR_ACK_WAIT_MS: '3000',
        PROJECTOR_MAX_WAIT_MS: '1000',
      };
      writeLoad(rig.log, events);
      let appendDone = false;
      const appending = rig.log.flush().then((tails) => {
        appendDone = true;
        return tails;
      });
      let kills = 0;
      while (!appendDone || kills < killsMin) {
        const child = spawnProjector(env, join(logDir, 'projector.log'));
        const before = await applied(rig.db);
        const deadline = Date.now() + progressTimeoutMs;
        // Kill only once this process has committed something, at a random moment after that.
        while (
          (await applied(rig.db)) <= before &&
          Date.now() < deadline &&
          !(appendDone && kills >= killsMin)
        ) {
          await sleep(50);
        }
        await sleep(Math.floor(Math.random() * 700));
        await child.kill();
        kills++;
      }
      const tails = await appending;

      // Its own log at info, to see it running: the killed ones may have applied everything
      // already, and a SIGTERM before the service set up its shutdown would kill this one too.
      const lastLog = join(logDir, 'last.log');
      const last = spawnProjector({ ...env, LOG_LEVEL: 'info' }, lastLog);
      const running = Date.now() + progressTimeoutMs;
      while (!(existsSync(lastLog) && readFileSync(lastLog, 'utf8').includes('"msg":"projector running"'))) {
        if (Date.now() > running) throw new Error('the last projector did not start');
        await sleep(100);
      }
      const killedDb = createDb<Database>(rig.database.url, { schema: killedSchema, max: 2 });
      try {
        const total = [...tails.values()].reduce((a, b) => a + b, 0);
        const deadline = Date.now() + progressTimeoutMs * 2;
        while ((await applied(rig.db)) < total) {
          if (Date.now() > deadline)
            throw new Error(`the restarted projector did not finish: ${await applied(rig.db)} of ${total}`);
          await sleep(100);
        }
        const exit = await last.stop();
        expect(exit.code).toBe(0);

        await migrateToLatest(rig.db, { schema: 'reference' });
        const referenceDb = createDb<Database>(rig.database.url, { schema: 'reference', max: 4 });
        const reference = startProjector({ nc: rig.nc, db: referenceDb, schema: 'reference', ns: rig.ns });
        await reference.discover();
        await waitFor(reference, referenceDb, 'reference', tails);
        await reference.stop();
        await referenceDb.destroy();

        expect(kills).toBeGreaterThanOrEqual(killsMin);
        // The evidence for the issue: how many SIGKILLs this run survived.
        console.log(`kill test: ${total} events, ${kills} SIGKILLs, restarted each time`);
        const [killed, uninterrupted] = await Promise.all([
          digestBooks(rig.db, killedSchema),
          digestBooks(rig.db, 'reference'),
        ]);
        expect(killed).toEqual(uninterrupted);
        expect(killed.find((t) => t.table === 'events')!.rows).toBe(total);
        const results = await checkBooks(killedDb);
        expect(results.filter((r) => r.violations > 0)).toEqual([]);
      } finally {
        await last.kill();
        await killedDb.destroy();
      }
    },
    long ? 3_600_000 : 900_000,
  );
});
