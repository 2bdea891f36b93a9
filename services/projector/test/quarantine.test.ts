import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { booksTables, checkBooks, type Projector, quarantinedEvents, startProjector } from '@fundtrace/books';
import { createDb, type Database, migrateToLatest } from '@fundtrace/db';
import { appendBatch, ensurePartitionStreams, lastSequence, readStreamRaw } from '@fundtrace/eventlog';
import { canonicalBytes, leafHash, newEventId, parseStreamName } from '@fundtrace/events';
import { recordReliability, testNamespace } from '@fundtrace/testkit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRig, type Rig, waitFor } from './support/harness';
import { loadCentral, loadCounty, writeLoad } from './support/load';

/**
 * A poison event (valid JSON of a type no reader knows) in the middle of a county's LEDGER
 * stream, on real NATS and PostgreSQL: the projector applies what came before, then holds that
 * stream with an error naming stream, sequence and type and waits; `fundtrace quarantine` (the
 * real CLI process) appends an EventQuarantined; the projector records the poison event with its
 * raw bytes and goes on. The books then equal those of a clean log holding the same bytes without
 * the poison event, in everything but sequence numbers.
 */
const workspace = resolve(import.meta.dirname, '..', '..', '..');
const ledgerStream = `LEDGER_${loadCounty}`;
let rig: Rig;
let poisonSeq: number;
let poisonBytes: Uint8Array;

beforeAll(async () => {
  rig = await openRig();
  writeLoad(rig.log, 1_200);
  await rig.log.flush();
  // The poison event: well-formed JSON of a type no version of the catalogue has.
  const js = jetstream(rig.nc);
  const jsm = await jetstreamManager(rig.nc);
  const stored = `${rig.ns}_${ledgerStream}`;
  poisonBytes = canonicalBytes({
    id: newEventId(Date.UTC(2019, 5, 1)),
    type: 'SubsidyMisposted',
    version: 1,
    partition: loadCounty,
    occurredAt: '2019-06-01T09:00:00+08:00',
    recordedAt: '2019-06-01T01:00:00.000Z',
    actor: { userId: 'clerk-01', role: 'finance', org: '内乡县财政局' },
    commandId: 'cmd-future',
    correlationId: 'cmd-future',
    data: { amountFen: '100' },
  });
  const appended = await appendBatch(js, {
    stream: stored,
    messages: [
      { subject: `${rig.ns}.ledger.${loadCounty}.payment.future`, bytes: poisonBytes, msgId: 'cmd-future:0' },
    ],
    expectedLastSeq: await lastSequence(jsm, stored),
  });
  poisonSeq = appended.lastSeq;
  // Events after it that depend on what came before: money arrives and an account opens.
  rig.log
    .add(loadCounty, 'AccountOpened', { accountId: 'late', kind: 'pool', name: '后开账户' })
    .add(loadCentral, 'AccountOpened', { accountId: 'late', kind: 'pool', name: '后开账户' });
  await rig.log.flush();
}, 600_000);
afterAll(async () => {
  await rig?.close();
});

function fundtrace(...args: string[]): { status: number | null; out: string } {
  const result = spawnSync('node', ['--import', 'tsx', join('packages', 'cli', 'src', 'main.ts'), ...args], {
    cwd: workspace,
    env: { ...process.env, FUNDTRACE_NAMESPACE: rig.ns },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: result.status, out: `${result.stdout}${result.stderr}` };
}

async function tailsOf(ns: string): Promise<Map<string, number>> {
  const jsm = await jetstreamManager(rig.nc);
  const tails = new Map<string, number>();
  for await (const name of jsm.streams.names()) {
    if (parseStreamName(name)?.namespace === ns) tails.set(name, await lastSequence(jsm, name));
  }
  return tails;
}

async function until<T>(probe: () => T | undefined | Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 300_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

/** Per books table, the md5 of its rows without any sequence column, and without the quarantine itself. */
async function digestWithoutSequences(db: Kysely<Database>, schema: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const table of booksTables) {
    if (table === 'quarantined_events') continue;
    const keep =
      table === 'events'
        ? sql`where t.type <> 'EventQuarantined'`
        : table === 'event_refs'
          ? sql`where t.ref_kind <> 'quarantine'`
          : sql``;
    const { rows } = await sql<{ md5: string | null; n: string }>`
      select md5(string_agg(x::text, E'\\n' order by x::text)) as md5, count(*)::text as n from (
        select (select jsonb_object_agg(key, value) from jsonb_each(to_jsonb(t)) where key not like '%seq') as x
        from ${sql.table(`${schema}.${table}`)} t ${keep}) rows`.execute(db);
    out[table] = `${rows[0]!.n}:${rows[0]!.md5 ?? ''}`;
  }
  return out;
}

describe('a poison event', () => {
  let projector: Projector;

  it('holds its stream with an error naming stream, sequence and type; the other streams go on', async () => {
    projector = startProjector({
      nc: rig.nc,
      db: rig.db,
      schema: 'public',
      ns: rig.ns,
      quarantineRecheckMs: 200,
    });
    await projector.discover();
    const stored = `${rig.ns}_${ledgerStream}`;
    const blocked = await until(
      () => projector.statuses().find((s) => s.stream === stored && s.status.state === 'blocked'),
      'the ledger stream to block',
    );
    expect(blocked.status.lastError).toContain(`${stored} sequence ${poisonSeq}`);
    expect(blocked.status.lastError).toContain('type SubsidyMisposted');
    const lags = await projector.lag();
    expect(lags.find((l) => l.stream === stored)!.checkpoint).toBe(poisonSeq - 1);
    const others = lags.filter((l) => l.stream !== stored);
    await until(
      async () =>
        (await projector.lag()).every((l) => l.stream === stored || l.lag === 0) ? true : undefined,
      'other streams',
    );
    expect(others.length).toBeGreaterThan(0);
  });

  it('fundtrace quarantine refuses an event that decodes, and appends nothing', async () => {
    const before = await tailsOf(rig.ns);
    const refused = fundtrace('quarantine', ledgerStream, '1', '--reason', 'not poison');
    expect(refused.status, refused.out).toBe(2);
    expect(refused.out).toContain('decodes as a valid event');
    expect(await tailsOf(rig.ns)).toEqual(before);
  });

  it('continues after fundtrace quarantine, recording the poison event with its raw bytes', async () => {
    const done = fundtrace(
      'quarantine',
      ledgerStream,
      String(poisonSeq),
      '--reason',
      '上线前的测试数据误写入生产流',
      '--operator',
      'ops-zhang',
    );
    expect(done.status, done.out).toBe(0);
    expect(done.out).toContain(`quarantined: ${ledgerStream} #${poisonSeq}`);
    const again = fundtrace(
      'quarantine',
      ledgerStream,
      String(poisonSeq),
      '--reason',
      '上线前的测试数据误写入生产流',
    );
    expect(again.out).toContain('already quarantined');

    const tails = await tailsOf(rig.ns);
    await waitFor(projector, rig.db, 'public', tails);
    expect(projector.statuses().every((s) => s.status.state === 'running')).toBe(true);
    await projector.stop();

    const [quarantined] = await quarantinedEvents(rig.db);
    expect(quarantined).toMatchObject({
      stream: ledgerStream,
      seq: poisonSeq,
      claimedType: 'SubsidyMisposted',
      leafHash: Buffer.from(leafHash(poisonBytes)).toString('hex'),
      bytes: poisonBytes.length,
      reason: '上线前的测试数据误写入生产流',
      by: 'ops-zhang',
    });
    const { rows } = await sql<{ bytes: Buffer }>`select bytes from quarantined_events`.execute(rig.db);
    expect(Buffer.compare(rows[0]!.bytes, Buffer.from(poisonBytes))).toBe(0);
    const results = await checkBooks(rig.db);
    expect(results.filter((r) => r.violations > 0)).toEqual([]);
  });

  it('leaves books equal to a clean log of the same bytes without it, but for sequence numbers', async () => {
    // The clean log: every message of the poisoned namespace, same bytes and ids, minus the
    // poison event and its quarantine.
    const clean = testNamespace();
    const js = jetstream(rig.nc);
    const jsm = await jetstreamManager(rig.nc);
    try {
      for (const [stream, last] of await tailsOf(rig.ns)) {
        const ref = parseStreamName(stream)!;
        await ensurePartitionStreams(jsm, { partition: ref.partition, ns: clean });
        const messages = [];
        for await (const m of readStreamRaw(js, { stream, fromSeq: 1, toSeq: last })) {
          if (stream.endsWith(ledgerStream) && m.seq === poisonSeq) continue;
          if (m.subject.includes('.quarantine.')) continue;
          messages.push({
            subject: `${clean}${m.subject.slice(rig.ns.length)}`,
            bytes: m.bytes,
            msgId: m.msgId!,
          });
        }
        if (messages.length > 0)
          await appendBatch(js, {
            stream: `${clean}${stream.slice(rig.ns.length)}`,
            messages,
            expectedLastSeq: 0,
          });
      }
      await migrateToLatest(rig.db, { schema: 'clean' });
      const cleanDb = createDb<Database>(rig.database.url, { schema: 'clean', max: 2 });
      const cleanProjector = startProjector({ nc: rig.nc, db: cleanDb, schema: 'clean', ns: clean });
      await cleanProjector.discover();
      await waitFor(cleanProjector, cleanDb, 'clean', await tailsOf(clean));
      await cleanProjector.stop();
      await cleanDb.destroy();
      const [withPoison, without] = await Promise.all([
        digestWithoutSequences(rig.db, 'public'),
        digestWithoutSequences(rig.db, 'clean'),
      ]);
      expect(withPoison).toEqual(without);
      expect(Number(withPoison.payments!.split(':')[0])).toBeGreaterThan(0);
      // Evidence for RELIABILITY.md (pnpm reliability); reached only when every check above held.
      recordReliability({
        suite: 'fault',
        name: 'poison event',
        injected: `a well-formed event of an unknown type (SubsidyMisposted) appended mid-stream at ${ledgerStream} #${poisonSeq}, among ${withPoison.events!.split(':')[0]} events`,
        iterations: 1,
        checked:
          'the projector held that stream with an error naming stream, sequence and type while the others went on; fundtrace quarantine refused a decodable event and appended nothing; after fundtrace quarantine the projector recorded the exact bytes and carried on; fundtrace check clean; books equal a clean log of the same bytes without it, but for sequence numbers',
        result: 'passed',
        details: { poisonSeq, poisonBytes: poisonBytes.length },
      });
    } finally {
      const { deleteNamespaceStreams } = await import('@fundtrace/testkit');
      await deleteNamespaceStreams(jsm, clean);
    }
  });
});
