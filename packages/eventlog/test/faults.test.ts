import { createPool, type Database, migrateToLatest } from '@fundtrace/db';
import { streamName } from '@fundtrace/events';
import {
  type PrivateNats,
  type PrivatePostgres,
  startPrivateNats,
  startPrivatePostgres,
  useTestInfra,
} from '@fundtrace/testkit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kysely, PostgresDialect } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AppendOutcomeUnknownError,
  append,
  appendBatch,
  BatchCutShortError,
  BatchOutcomeUnknownError,
  connectNats,
  ensurePartitionStreams,
  lastSequence,
  readRange,
  runProjection,
} from '../src';
import { appliedCounts, checkpointOf, createAppliedTable, recordApplied } from './support/applied-table';
import { accountsOpened, partition } from './support/fixtures';

// Fault tests: the projection runner and the append protocol while PostgreSQL and
// NATS crash, freeze and come back. Private servers (testkit) take the beating.

async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * kysely over a pool whose clients always have an 'error' listener. pg-pool only
 * listens on idle clients: a server crash while a client is checked out between two
 * statements of a transaction emits an 'error' event nobody handles, which would
 * crash the test process. (createPool of @fundtrace/db has the same gap; reported.)
 * The transaction's next statement fails either way, which is what the runner retries.
 */
function crashTolerantDb(url: string): Kysely<Database> {
  const pool = createPool(url, { onIdleError: () => undefined });
  pool.on('connect', (client) => client.on('error', () => undefined));
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/** A handler slow enough that a fault lands mid-run: 20 ms per batch. */
function slowly(durable: string) {
  const apply = recordApplied<Database>(durable);
  return async (...args: Parameters<typeof apply>) => {
    await apply(...args);
    await new Promise((resolve) => setTimeout(resolve, 20));
  };
}

describe('projection runner with a private PostgreSQL', () => {
  const infra = useTestInfra({ database: false });
  let server: PrivatePostgres;
  let db: Kysely<Database>;
  let stream: string;
  const total = 300;

  beforeAll(async () => {
    server = await startPrivatePostgres();
    db = crashTolerantDb(server.url);
    await migrateToLatest(db);
    await createAppliedTable(db);
    await ensurePartitionStreams(infra.jsm, { partition, ns: infra.ns, contexts: ['ledger'] });
    stream = streamName('ledger', partition, infra.ns);
    await appendBatch(infra.js, {
      stream,
      messages: accountsOpened(infra.ns, 'pgfault', total),
      expectedLastSeq: 0,
    });
  });

  afterAll(async () => {
    await db?.destroy();
    await server?.stop();
  });

  it('retries through a PostgreSQL crash and restart and applies every event exactly once', async () => {
    const durable = 'pgcrash';
    const transient: unknown[] = [];
    const runner = runProjection({
      nc: infra.nc,
      db,
      stream,
      durable,
      batchSize: 10,
      maxWaitMs: 1_000,
      ackWaitMs: 3_000,
      handler: slowly(durable),
      onError: (error, { fatal }) => {
        if (!fatal) transient.push(error);
      },
    });
    await until(async () => (await checkpointOf(db, durable, stream)) >= 50, 'progress before the crash');
    await server.kill('SIGKILL');
    await until(async () => transient.length > 0, 'the runner to notice');
    expect(runner.status().state).toBe('retrying');
    await server.restart();
    await until(async () => (await checkpointOf(db, durable, stream)) === total, 'catch-up after restart');
    await runner.stop();
    await expect(runner.done).resolves.toBeUndefined();
    expect(await appliedCounts(db, durable)).toEqual({ rows: total, distinct: total, maxSeq: total });
  });

  it('waits out a frozen PostgreSQL (SIGSTOP) and loses nothing', async () => {
    const durable = 'pgfrozen';
    const runner = runProjection({
      nc: infra.nc,
      db,
      stream,
      durable,
      batchSize: 10,
      maxWaitMs: 1_000,
      ackWaitMs: 3_000,
      handler: slowly(durable),
    });
    await until(async () => (await checkpointOf(db, durable, stream)) >= 50, 'progress before the freeze');
    await server.pause();
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    server.resume();
    await until(async () => (await checkpointOf(db, durable, stream)) === total, 'catch-up after the thaw');
    await runner.stop();
    expect(await appliedCounts(db, durable)).toEqual({ rows: total, distinct: total, maxSeq: total });
  });
});

describe('projection runner with a private nats-server', () => {
  const infra = useTestInfra({ nats: false });
  let nats: PrivateNats;

  beforeAll(async () => {
    nats = await startPrivateNats({ jetstream: true });
    await createAppliedTable(infra.db);
  });

  afterAll(async () => {
    await nats?.stop();
  });

  it('reconnects after NATS is SIGKILLed and restarted, and applies every event exactly once', async () => {
    const nc = await connectNats(nats.url, { name: 'fault-projector' });
    const writer = await connectNats(nats.url, { name: 'fault-writer' });
    try {
      const jsm = await jetstreamManager(writer);
      const [stream] = await ensurePartitionStreams(jsm, { partition, ns: 'fault', contexts: ['ledger'] });
      const total = 200;
      await appendBatch(jetstream(writer), {
        stream: stream!,
        messages: accountsOpened('fault', 'natscrash', total),
        expectedLastSeq: 0,
      });
      const durable = 'natscrash';
      const runner = runProjection({
        nc,
        db: infra.db,
        stream: stream!,
        durable,
        batchSize: 10,
        maxWaitMs: 1_000,
        ackWaitMs: 3_000,
        handler: slowly(durable),
      });
      await until(
        async () => (await checkpointOf(infra.db, durable, stream!)) >= 50,
        'progress before the crash',
      );
      await nats.kill('SIGKILL');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await nats.restart();
      await until(
        async () => (await checkpointOf(infra.db, durable, stream!)) === total,
        'catch-up after restart',
      );
      await runner.stop();
      await expect(runner.done).resolves.toBeUndefined();
      expect(await appliedCounts(infra.db, durable)).toEqual({ rows: total, distinct: total, maxSeq: total });
    } finally {
      await nc.close();
      await writer.close();
    }
  });
});

describe('appends to a frozen nats-server', () => {
  let nats: PrivateNats;

  beforeAll(async () => {
    nats = await startPrivateNats({ jetstream: true });
  });

  afterAll(async () => {
    nats?.nodes[0]?.resume();
    await nats?.stop();
  });

  it('reports an unknown outcome, and a retry with the same ids stores each message exactly once', async () => {
    const nc = await connectNats(nats.url, { name: 'frozen-writer' });
    try {
      const js = jetstream(nc);
      const jsm = await jetstreamManager(nc);
      const [stream] = await ensurePartitionStreams(jsm, { partition, ns: 'frozen', contexts: ['ledger'] });
      const messages = accountsOpened('frozen', 'frozen', 50);

      await nats.nodes[0]!.pause();
      const single = await append(js, {
        stream: stream!,
        message: messages[0]!,
        expectedLastSeq: 0,
        ackTimeoutMs: 1_000,
      }).catch((e) => e);
      expect(single).toBeInstanceOf(AppendOutcomeUnknownError);
      const batch = await appendBatch(js, {
        stream: stream!,
        messages,
        expectedLastSeq: 0,
        ackTimeoutMs: 1_000,
      }).catch((e) => e);
      expect(batch).toBeInstanceOf(BatchOutcomeUnknownError);
      expect(batch).toMatchObject({ firstUnknownIndex: 0, stored: [] });
      nats.nodes[0]!.resume();

      // The frozen attempts' bytes were still in the socket and may land now; the retry
      // does not care: whichever copy arrives first takes the slot, the other is a duplicate.
      const retry = await appendBatch(js, { stream: stream!, messages, expectedLastSeq: 0 });
      expect(retry.stored.map((s) => s.seq)).toEqual(messages.map((_, i) => i + 1));
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await lastSequence(jsm, stream!)).toBe(50);
      const stored = await readRange(js, { stream: stream!, fromSeq: 1, toSeq: 50 });
      expect(stored.map((m) => m.msgId)).toEqual(messages.map((m) => m.msgId));
    } finally {
      await nc.close();
    }
  });
});

describe('pipelined appends on a 3-node cluster (R3)', () => {
  let cluster: PrivateNats;

  beforeAll(async () => {
    cluster = await startPrivateNats({ cluster: { size: 3 } });
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('stores a burst, and keeps the prefix guarantee when another writer sneaks in', async () => {
    const nc = await connectNats(cluster.urls, { name: 'r3-writer' });
    const other = await connectNats([...cluster.urls].reverse(), { name: 'r3-other' });
    try {
      const jsm = await jetstreamManager(nc);
      const [stream] = await ensurePartitionStreams(jsm, {
        partition,
        ns: 'r3',
        contexts: ['ledger'],
        replicas: 3,
      });
      const js = jetstream(nc);
      const burst = await appendBatch(js, {
        stream: stream!,
        messages: accountsOpened('r3', 'burst', 500),
        expectedLastSeq: 0,
      });
      expect(burst.lastSeq).toBe(500);

      // A stale batch whose message 1 expects the sneaker's sequence: the chain keeps it out on R3 too.
      await appendBatch(jetstream(other), {
        stream: stream!,
        messages: accountsOpened('r3', 'sneaker', 1),
        expectedLastSeq: 500,
      });
      const error = await appendBatch(js, {
        stream: stream!,
        messages: accountsOpened('r3', 'stale', 20),
        expectedLastSeq: 500,
      }).catch((e) => e);
      expect(error).toBeInstanceOf(BatchCutShortError);
      expect(error.firstFailedIndex).toBe(0);
      expect(await lastSequence(jsm, stream!)).toBe(501);
    } finally {
      await nc.close();
      await other.close();
    }
  });

  it('a stream leader stepping down mid-burst: "no responders" is waited out inside the batch, which completes exactly once and in order', async () => {
    const nc = await connectNats(cluster.urls, { name: 'r3-stepdown' });
    try {
      const jsm = await jetstreamManager(nc);
      const js = jetstream(nc);
      // Two rounds: a step-down usually lands while messages are answered "no responders" (no
      // leader listens), which cut the batch short before decision 0038.
      for (const round of [1, 2]) {
        const ns = `r3s${round}`;
        const [stream] = await ensurePartitionStreams(jsm, {
          partition,
          ns,
          contexts: ['ledger'],
          replicas: 3,
        });
        const messages = accountsOpened(ns, 'stepdown', 10_000);
        const send = () =>
          appendBatch(js, {
            stream: stream!,
            messages,
            expectedLastSeq: 0,
            ackTimeoutMs: 3_000,
            inFlightMax: 1_000,
            connection: nc,
          });
        const first = send().catch((e) => e);
        await until(async () => (await lastSequence(jsm, stream!)) >= 500, 'part of the burst stored');
        await jsm.streams.info(stream!); // the leader is current: the step-down lands mid-burst
        await nc.request(`$JS.API.STREAM.LEADER.STEPDOWN.${stream}`, undefined, { timeout: 10_000 });
        let result = await first;
        // A message the old leader took and never answered is an unknown outcome: sent again with
        // the same ids, as ledger-api's writer does. A "no responders" must not surface.
        for (let resend = 0; result instanceof BatchOutcomeUnknownError && resend < 5; resend++) {
          result = await send().catch((e) => e);
        }
        expect(result.lastSeq, String(result)).toBe(10_000);
        const stored = await readRange(js, { stream: stream!, fromSeq: 1, toSeq: 10_000 });
        expect(stored.map((m) => m.msgId)).toEqual(messages.map((m) => m.msgId));
      }
    } finally {
      await nc.close();
    }
  });

  it('a batch interrupted by killing a node completes, inside the batch or on retry with the same ids, exactly once and in order', async () => {
    const nc = await connectNats(cluster.urls, { name: 'r3-retrier' });
    try {
      const jsm = await jetstreamManager(nc);
      const [stream] = await ensurePartitionStreams(jsm, {
        partition,
        ns: 'r3b',
        contexts: ['ledger'],
        replicas: 3,
      });
      const js = jetstream(nc);
      const total = 10_000;
      const messages = accountsOpened('r3b', 'interrupted', total);
      const leaderName = (await jsm.streams.info(stream!)).cluster?.leader;
      const leader = cluster.nodes.find((node) => node.name === leaderName)!;
      let attempts = 0;
      let firstSettled = false;
      const first = appendBatch(js, {
        stream: stream!,
        messages,
        expectedLastSeq: 0,
        ackTimeoutMs: 3_000,
        inFlightMax: 1_000,
      })
        .catch((e) => e)
        .finally(() => {
          firstSettled = true;
        });
      // The kill lands mid-batch: part of it stored, most of it not yet sent or answered.
      await until(async () => (await lastSequence(jsm, stream!)) >= 500, 'part of the batch stored');
      await leader.kill('SIGKILL');
      // The leader is dead while the batch is still in flight: the batch was interrupted. How it
      // recovers is the client's business: since decision 0038 the messages answered "no
      // responders" are sent again inside the batch once a new leader is elected, so the first
      // attempt may complete by itself; a message the dead leader took and never answered is an
      // unknown outcome, and the retries below send the same ids again. (Asserting that a retry
      // was needed failed at random: CI 00:21 and 02:02, the first attempt had completed.)
      expect(firstSettled, 'the batch had ended before the leader was killed').toBe(false);
      let result = await first;
      // Retry, as a writer would, until the two surviving replicas have elected a leader
      // and the batch completes. Elections take seconds; on a loaded machine, more.
      const deadline = Date.now() + 90_000;
      while (!('lastSeq' in result) && Date.now() < deadline) {
        expect(
          result instanceof BatchCutShortError || result instanceof BatchOutcomeUnknownError,
          String(result),
        ).toBe(true);
        attempts++;
        await new Promise((resolve) => setTimeout(resolve, 500));
        result = await appendBatch(js, {
          stream: stream!,
          messages,
          expectedLastSeq: 0,
          ackTimeoutMs: 3_000,
          inFlightMax: 1_000,
        }).catch((e) => e);
      }
      const placement = await jsm.streams
        .info(stream!)
        .then((i) => JSON.stringify(i.cluster))
        .catch((e) => String(e));
      expect(result.lastSeq, `${result} after ${attempts} retries; stream cluster ${placement}`).toBe(total);
      await leader.restart();
      // Read the stream back once the cluster has settled. Right after a restart, stream info
      // may come from the stale replica now and then (observed: a tail of 149, 161 and 1,619
      // while the stream held all), and a read sized by it ends early; before the restart, with
      // the meta leader among the dead, creating the read's consumer times out until the meta
      // group has elected. Writers are safe either way (a stale expected sequence is a conflict).
      // A duplicate would keep the tail above `total`, a loss below it: both time out here.
      let stored: (string | undefined)[] = [];
      await until(async () => {
        if ((await lastSequence(jsm, stream!)) !== total) return false;
        stored = (await readRange(js, { stream: stream!, fromSeq: 1, toSeq: total })).map((m) => m.msgId);
        return stored.length === total;
      }, `the stream to read back exactly the ${total} messages`);
      expect(stored).toEqual(messages.map((m) => m.msgId));
    } finally {
      await nc.close();
    }
  });
});
