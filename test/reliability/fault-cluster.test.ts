import { checkBooks, durableFor } from '@fundtrace/books';
import { createDb, type Database } from '@fundtrace/db';
import { connectNats, ensurePartitionStreams, lastSequence, readStreamRaw } from '@fundtrace/eventlog';
import { decodeEvent, streamName } from '@fundtrace/events';
import {
  type PrivateNats,
  recordReliability,
  reliabilityIterations,
  startPrivateNats,
  testNamespace,
  useTestInfra,
} from '@fundtrace/testkit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerHouseholds } from '../../services/ledger-api/test/fixtures';
import {
  type Answer,
  call,
  dibaoPerPersonFen,
  faultLogDir,
  openFundedPool,
  type ServiceProcess,
  startService,
  testJwtSecret,
  token,
  until,
} from './support/faults';

/**
 * Beyond one machine: three nats-server processes on loopback routes with R3 streams, ledger-api
 * and the projector connected to all three. The node leading the LEDGER stream is SIGKILLed in the
 * middle of a roster and brought back. Every event a client was told is booked must be in the
 * stream exactly once, the writer must finish the roster (the client retries with the same command
 * id, as the 503 tells it), the restarted node must catch up, and the projector must carry on to
 * books that hold exactly the roster's money.
 */

const infra = useTestInfra({ nats: false });
const partition = '411325';
const secret = testJwtSecret();
const ns = testNamespace();
const rows = reliabilityIterations(5_000, 50_000);
/** Tries of one roster submission: an election takes seconds, more on a loaded machine. */
const submitAttemptsMax = 60;
let cluster: PrivateNats;
let nc: NatsConnection;
const services: ServiceProcess[] = [];

beforeAll(async () => {
  cluster = await startPrivateNats({ cluster: { size: 3 } });
  nc = await connectNats([...cluster.urls], { name: 'fault-cluster' });
  const jsm = await jetstreamManager(nc);
  await ensurePartitionStreams(jsm, { partition, ns, contexts: ['ledger', 'registry'], replicas: 3 });
  const households = Array.from({ length: rows }, (_, i) => `H${i}`);
  for (let from = 0; from < rows; from += 10_000) {
    await registerHouseholds(jetstream(nc), jsm, ns, partition, households.slice(from, from + 10_000));
  }
}, 600_000);

afterAll(async () => {
  for (const service of services.reverse()) await service.stop().catch(() => undefined);
  await nc?.close().catch(() => undefined);
  await cluster?.stop();
});

describe('a three-node JetStream cluster losing a node mid roster', () => {
  it('loses no acknowledged event; the writer and the projector carry on', async () => {
    const logDir = faultLogDir(ns);
    const env = {
      NATS_URL: cluster.urls.join(','),
      FUNDTRACE_NAMESPACE: ns,
      JWT_SECRET: secret,
      DATABASE_URL: infra.databaseUrl,
    };
    const ledger = await startService(
      'ledger-api',
      { ...env, LEDGER_PARTITIONS: partition, STREAM_REPLICAS: '3' },
      { logDir },
    );
    services.push(ledger);
    const projector = await startService('projector', { ...env, PROJECTOR_SCHEMA: 'books' }, { logDir });
    services.push(projector);
    const bearer = await token(secret, 'finance', [partition]);
    const amountFen = dibaoPerPersonFen;
    const { period, noticeId } = await openFundedPool(
      ledger.url,
      bearer,
      partition,
      amountFen * BigInt(rows + 1),
      'cl',
    );

    const jsm = await jetstreamManager(nc);
    const stream = streamName('ledger', partition, ns);
    const before = await lastSequence(jsm, stream);
    const roster = {
      commandId: 'cluster-roster',
      rosterId: 'RS-cluster',
      programmeCode: 'dibao_class1',
      period,
      accountId: 'POOL',
      noticeId,
      rows: Array.from({ length: rows }, (_, i) => ({
        row: i + 2,
        householdId: `H${i}`,
        quantity: 1,
        amountFen: amountFen.toString(),
        acceptanceRef: null,
      })),
    };
    const url = `${ledger.url}/v1/partitions/${partition}/rosters`;
    const leaderName = (await jsm.streams.info(stream)).cluster?.leader;
    const leader = cluster.nodes.find((node) => node.name === leaderName)!;
    expect(leader, `stream leader ${leaderName}`).toBeDefined();

    // Submit, and kill the stream's leader once part of the roster is stored.
    const first = call('POST', url, bearer, roster).catch((error: unknown) => error as Error);
    const target = before + 1 + Math.floor(Math.random() * (rows / 2));
    let seen = before;
    while (seen < target) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      seen = await lastSequence(jsm, stream).catch(() => seen);
    }
    await leader.kill('SIGKILL');
    const storedAtKill = seen - before;
    const answers: Array<number | string> = [];
    let answer = await first;
    // The client retries with the same command id until it has an answer, as a 503 tells it to.
    for (let attempt = 1; !(answer as Answer).status || (answer as Answer).status === 503; attempt++) {
      answers.push(answer instanceof Error ? answer.message : `${answer.status} ${answer.body?.error?.code}`);
      expect(attempt, `no answer after ${attempt} tries: ${answers.join('; ')}`).toBeLessThan(
        submitAttemptsMax,
      );
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      answer = await call('POST', url, bearer, roster).catch((error: unknown) => error as Error);
    }
    const booked = answer as Answer;
    expect([200, 201], JSON.stringify(booked.body)).toContain(booked.status);
    expect(booked.body).toMatchObject({
      eventCount: rows + 1,
      firstSeq: before + 1,
      lastSeq: before + rows + 1,
    });

    await leader.restart();
    // The writer carries on: a further payment is booked after the node is back.
    const extra = await call('POST', `${ledger.url}/v1/partitions/${partition}/accounts`, bearer, {
      commandId: 'after-restart',
      accountId: 'UNIT-1',
      kind: 'implementing_unit',
      name: '施工单位',
    });
    expect(extra.status, JSON.stringify(extra.body)).toBe(201);

    // The restarted replica caught up with the leader. Until then a stream-info request or a
    // consumer create can time out while the meta group elects, and a stale replica can answer a
    // short tail, so everything below waits for this first and then retries what may still time out.
    const deadline = Date.now() + 120_000;
    for (;;) {
      const info = await jsm.streams.info(stream).catch(() => undefined);
      const replicas = info?.cluster?.replicas ?? [];
      if (replicas.length === 2 && replicas.every((r) => r.current)) break;
      if (Date.now() > deadline)
        throw new Error(`replicas did not catch up: ${JSON.stringify(info?.cluster)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }

    // No acknowledged event lost: every row once, message ids contiguous, on every replica.
    const js = jetstream(nc);
    let rosterIds: string[] = [];
    let paidRows = new Set<number>();
    await until(
      'the roster read back after the restart',
      async () => {
        const ids: string[] = [];
        const rowsPaid = new Set<number>();
        for await (const m of readStreamRaw(js, { stream, fromSeq: before + 1, toSeq: before + rows + 1 })) {
          ids.push(m.msgId ?? '');
          const event = decodeEvent(m.bytes);
          if (event.type === 'PaymentInstructed') rowsPaid.add((event.data as { row: number }).row);
        }
        rosterIds = ids;
        paidRows = rowsPaid;
        return true;
      },
      // No bound per probe: a read whose consumer sits on a node that went away stops by itself
      // (StreamReadStalledError, decision 0127) and the next probe starts.
      120_000,
    );
    expect(rosterIds).toEqual(Array.from({ length: rows + 1 }, (_, i) => `${roster.commandId}:${i}`));
    expect(paidRows.size).toBe(rows);
    const tail = async (name: string) => {
      let seq = 0;
      await until(
        `the tail of ${name}`,
        async () => {
          seq = await lastSequence(jsm, name);
          return true;
        },
        120_000,
        30_000,
      );
      return seq;
    };
    // The event booked after the restart is the ledger stream's last.
    const last = await tail(stream);
    expect(last).toBe(before + rows + 2);

    // The projector carried on: it reaches the end of both streams, and the books are exact.
    const registryLast = await tail(streamName('registry', partition, ns));
    const books = createDb<Database>(infra.databaseUrl, { schema: 'books', max: 2 });
    try {
      const projected = async () => {
        const { rows: at } = await sql<{ n: string | null }>`
          select sum(last_seq)::text as n from books.projection_checkpoints where consumer = ${durableFor('books')}`
          .execute(infra.db)
          .catch(() => ({ rows: [{ n: '0' }] }));
        return Number(at[0]?.n ?? 0);
      };
      const projectedBy = Date.now() + 600_000;
      while ((await projected()) < last + registryLast) {
        if (Date.now() > projectedBy)
          throw new Error(`projector stuck at ${await projected()} of ${last + registryLast}`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect((await checkBooks(books)).filter((r) => r.violations > 0)).toEqual([]);
      const { rows: paid } = await sql<{ n: string; total: string }>`
        select count(*)::text as n, sum(amount_fen)::text as total from books.payments where roster_id = 'RS-cluster'`.execute(
        infra.db,
      );
      expect(paid[0]).toEqual({ n: String(rows), total: (amountFen * BigInt(rows)).toString() });
    } finally {
      await books.destroy();
    }

    recordReliability({
      suite: 'fault',
      name: 'three-node cluster losing a node',
      injected: `SIGKILL of the LEDGER stream's leader (one of three nats-servers, R3 streams) while ledger-api appended a ${rows.toLocaleString('en-US')}-row roster; the client retried with the same command id; the node restarted`,
      iterations: 1,
      checked:
        'the roster answered with every event (first to last sequence); each row stored exactly once with contiguous message ids; the restarted replica current again; ledger-api booked after the restart; the projector reached both streams’ ends; payments count and sum exact; fundtrace check clean',
      result: 'passed',
      details: {
        rows,
        eventsStoredWhenKilled: storedAtKill,
        clientAttemptsBeforeAnswer: answers.length + 1,
        answersWhileElecting: answers,
      },
    });
  }, 1_200_000);
});
