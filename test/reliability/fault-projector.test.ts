import { checkBooks, digestBooks, durableFor, startProjector } from '@fundtrace/books';
import { createDb, type Database, migrateToLatest } from '@fundtrace/db';
import { connectNats } from '@fundtrace/eventlog';
import {
  createTestDatabase,
  type PrivateNats,
  type PrivatePostgres,
  recordReliability,
  reliabilityIterations,
  startPrivateNats,
  startPrivatePostgres,
  type TestDatabase,
  testNamespace,
} from '@fundtrace/testkit';
import type { NatsConnection } from '@nats-io/nats-core';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectorEventLog } from '../../services/projector/test/support/event-log';
import { waitFor } from '../../services/projector/test/support/harness';
import { writeLoad } from '../../services/projector/test/support/load';
import { faultLogDir, type ServiceProcess, startService } from './support/faults';

/**
 * The projector service (a real process) projects a backlog from a private nats-server into a
 * private PostgreSQL while everything around it fails, in random order: the projector is SIGKILLed
 * at random points (quick 3, long 20 times), NATS and PostgreSQL are SIGKILLed and restarted, and
 * PostgreSQL is frozen with SIGSTOP long enough for the projector to back off. Each fault lands
 * once the projector has made progress since the last one. At the end its books must equal, table
 * by table and byte for byte, those of an uninterrupted projection of the same log, and pass
 * every invariant of `fundtrace check`. (services/projector/test/kill.test.ts covers SIGKILLs alone
 * on the machine's servers; this adds the servers' faults and records the evidence.)
 */

const kills = reliabilityIterations(3, 20);
const events = reliabilityIterations(8_000, 40_000);
/** How long PostgreSQL stays frozen: longer than a pull wait, so the projector's retries run into it. */
const freezeMs = 4_000;
/** Longest wait for progress after a fault (covers the redelivery of a killed process's batch). */
const progressTimeoutMs = 240_000;
const schema = 'chaos';

let nats: PrivateNats;
let pg: PrivatePostgres;
let database: TestDatabase;
let nc: NatsConnection;
let projector: ServiceProcess;
const ns = testNamespace();

beforeAll(async () => {
  [nats, pg] = await Promise.all([startPrivateNats({ jetstream: true }), startPrivatePostgres()]);
  database = await createTestDatabase({ serverUrl: pg.url });
  nc = await connectNats(nats.url, { name: 'fault-projector-load' });
});

afterAll(async () => {
  await projector?.stop().catch(() => undefined);
  await nc?.close().catch(() => undefined);
  await database?.drop().catch(() => undefined);
  await Promise.all([nats?.stop(), pg?.stop()]);
});

/** Events the chaos projector has committed (sum of its checkpoints); 0 before its schema exists. */
async function applied(db: Kysely<Database>): Promise<number> {
  try {
    const { rows } = await sql<{ n: string | null }>`
      select sum(last_seq)::text as n from ${sql.table(`${schema}.projection_checkpoints`)}
      where consumer = ${durableFor(schema)}`.execute(db);
    return Number(rows[0]?.n ?? 0);
  } catch {
    return 0;
  }
}

function shuffled<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the projector under SIGKILLs and NATS and PostgreSQL crashes and freezes', () => {
  it('ends with books identical to an uninterrupted run', async () => {
    const log = projectorEventLog(nc, ns);
    writeLoad(log, events);
    const tails = await log.flush();
    const total = [...tails.values()].reduce((a, b) => a + b, 0);

    // A small batch keeps the backlog long enough for every fault to land mid-projection.
    projector = await startService(
      'projector',
      {
        DATABASE_URL: database.url,
        NATS_URL: nats.url,
        FUNDTRACE_NAMESPACE: ns,
        PROJECTOR_SCHEMA: schema,
        PROJECTOR_BATCH_SIZE: '25',
        PROJECTOR_ACK_WAIT_MS: '3000',
        PROJECTOR_MAX_WAIT_MS: '1000',
      },
      { logDir: faultLogDir(ns) },
    );

    type Fault = 'kill projector' | 'restart NATS' | 'restart PostgreSQL' | 'freeze PostgreSQL';
    const schedule: Fault[] = shuffled([
      ...Array.from({ length: kills }, (): Fault => 'kill projector'),
      'restart NATS',
      'restart PostgreSQL',
      'freeze PostgreSQL',
    ]);
    const landed: Array<{ fault: Fault; appliedBefore: number }> = [];
    for (const fault of schedule) {
      // Each fault once the projector has committed something since the last one, at a random moment.
      const before = await applied(database.db);
      const deadline = Date.now() + progressTimeoutMs;
      while ((await applied(database.db)) <= before && before < total) {
        if (Date.now() > deadline) throw new Error(`no progress before "${fault}": ${before} of ${total}`);
        await sleep(50);
      }
      await sleep(Math.floor(Math.random() * 500));
      landed.push({ fault, appliedBefore: await applied(database.db) });
      if (fault === 'kill projector') {
        await projector.kill();
        await projector.restart();
      } else if (fault === 'restart NATS') {
        await nats.kill('SIGKILL');
        await sleep(1_000);
        await nats.restart();
      } else if (fault === 'restart PostgreSQL') {
        await pg.kill('SIGKILL');
        await sleep(1_000);
        await pg.restart();
      } else {
        await pg.pause();
        await sleep(freezeMs);
        pg.resume();
      }
      // The process itself survived every fault but its own kill: it backs off and carries on.
      expect(projector.proc.isRunning(), `${fault}: ${projector.proc.logTail(20)}`).toBe(true);
    }

    const deadline = Date.now() + progressTimeoutMs * 2;
    while ((await applied(database.db)) < total) {
      if (Date.now() > deadline)
        throw new Error(`the projector did not finish: ${await applied(database.db)} of ${total}`);
      await sleep(200);
    }
    await projector.stop();

    // The clean run: the same log projected without faults into another schema.
    await migrateToLatest(database.db, { schema: 'reference' });
    const referenceDb = createDb<Database>(database.url, { schema: 'reference', max: 4 });
    const chaosDb = createDb<Database>(database.url, { schema, max: 2 });
    try {
      const reference = startProjector({ nc, db: referenceDb, schema: 'reference', ns });
      await reference.discover();
      await waitFor(reference, referenceDb, 'reference', tails);
      await reference.stop();
      const [faulted, clean] = await Promise.all([
        digestBooks(database.db, schema),
        digestBooks(database.db, 'reference'),
      ]);
      expect(faulted).toEqual(clean);
      expect(faulted.find((t) => t.table === 'events')!.rows).toBe(total);
      expect((await checkBooks(chaosDb)).filter((r) => r.violations > 0)).toEqual([]);
    } finally {
      await Promise.all([referenceDb.destroy(), chaosDb.destroy()]);
    }

    const midProjection = landed.filter((l) => l.appliedBefore < total).length;
    recordReliability({
      suite: 'fault',
      name: 'projector under crashes and freezes',
      injected: `on a ${total.toLocaleString('en-US')}-event backlog, in random order: SIGKILL of the projector process (×${kills}), SIGKILL + restart of nats-server, SIGKILL + restart of PostgreSQL, SIGSTOP of PostgreSQL for ${freezeMs / 1000} s`,
      iterations: schedule.length,
      checked:
        'the projector survived every server fault and backed off; after the last fault it finished; every books table equals (md5 of all rows) an uninterrupted projection of the same log; fundtrace check finds no violation',
      result: 'passed',
      details: {
        events: total,
        faultsMidProjection: midProjection,
        schedule: landed.map((l) => ({ fault: l.fault, eventsAppliedWhenInjected: l.appliedBefore })),
      },
    });
  }, 1_800_000);
});
