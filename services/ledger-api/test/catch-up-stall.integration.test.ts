import { connectNats, lastSequence, readBatchMessagesMax, readRange } from '@fundtrace/eventlog';
import { streamName } from '@fundtrace/events';
import { type App, signToken } from '@fundtrace/service-kit';
import { hookStreamReads, type PrivateNats, startPrivateNats } from '@fundtrace/testkit';
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Writers } from '../src/routes/shared';
import { startTestApp } from './app-fixture';
import { fundPool, registerHouseholds, startWriter } from './fixtures';
import { dibaoRoster, yuan } from './support';

/**
 * A command whose catch-up read stalls (decision 0127): another instance booked a roster, and while
 * this ledger-api reads it, its nats-server freezes (SIGSTOP after the first message of the read).
 * The command is answered 503 nats_unavailable with Retry-After instead of hanging; the writer's
 * state keeps the events it folded and nothing else; after the server thaws the same command is
 * booked once, right after the roster, and a repeat is answered as a duplicate.
 */
const secret = 'ledger-api-stall-secret-of-at-least-32-bytes';
const county = '411325';
const ns = 'stall';
/** More events than one read asks for before its first message reaches the writer (see the eventlog's read-stall test). */
const rosterRows = readBatchMessagesMax * 2;

let nats: PrivateNats;
let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
let app: App;
let writers: Writers;
let token: string;
/** Set by the test: the next read of the LEDGER stream freezes the server at its first message. */
let freezeOnRead = false;

const account = {
  commandId: 'after-stall',
  accountId: 'UNIT-1',
  kind: 'implementing_unit',
  name: '施工单位',
};

async function openAccount() {
  const response = await app.inject({
    method: 'POST',
    url: `/v1/partitions/${county}/accounts`,
    headers: { authorization: `Bearer ${token}` },
    payload: account,
  });
  return { status: response.statusCode, headers: response.headers, body: response.json() };
}

beforeAll(async () => {
  nats = await startPrivateNats({ jetstream: true });
  nc = await connectNats(nats.url, { name: 'ledger-stall' });
  js = jetstream(nc);
  jsm = await jetstreamManager(nc);
  const node = nats.nodes[0]!;
  const reads = hookStreamReads(js, streamName('ledger', county, ns), {
    delivered: async () => {
      if (!freezeOnRead) return;
      freezeOnRead = false;
      await node.pause();
    },
  });
  ({ app, writers } = await startTestApp(
    { js: reads, jsm, ns },
    { partitions: [county], jwtSecret: secret },
  ));
  token = await signToken(
    secret,
    { sub: 'u1', role: 'finance', org: '内乡县财政局', partitions: [county] },
    3600,
  );

  // Another instance of the partition's writer books a roster this one has not read.
  const households = Array.from({ length: rosterRows }, (_, i) => `H${i}`);
  await registerHouseholds(js, jsm, ns, county, households);
  const other = await startWriter(js, jsm, ns, county);
  try {
    await fundPool(other, yuan(190 * rosterRows));
    const roster = await other.execute({
      commandId: 'other-roster',
      actor: { userId: 'clerk-2', role: 'finance', org: '内乡县财政局' },
      command: dibaoRoster(
        'RS1',
        households.map((householdId, i) => ({ row: i + 2, householdId })),
        { quantity: 1, amountFen: yuan(190) },
      ),
    });
    if (!roster.ok) throw new Error(`roster refused: ${JSON.stringify(roster)}`);
  } finally {
    await other.stop();
  }
}, 300_000);

afterEach(() => {
  // A failed test must not leave the server frozen for the cleanup.
  nats?.nodes[0]?.resume();
});

afterAll(async () => {
  await app?.close();
  await nc?.close();
  await nats?.stop();
});

describe('a ledger command whose catch-up read stalls', () => {
  it('answers 503 nats_unavailable with Retry-After; after the server thaws the command is booked exactly once', async () => {
    const stream = streamName('ledger', county, ns);
    const tail = await lastSequence(jsm, stream);
    const writer = writers.get(county)!;
    const before = writer.state.seq;
    expect(tail - before).toBeGreaterThan(readBatchMessagesMax);

    freezeOnRead = true;
    const refused = await openAccount();
    nats.nodes[0]!.resume();
    expect(freezeOnRead, 'the command read the stream').toBe(false);
    expect(refused.status, JSON.stringify(refused.body)).toBe(503);
    expect(refused.body.error.code).toBe('nats_unavailable');
    expect(refused.headers['retry-after']).toBe('2');
    // The writer folded part of the roster (the messages that came before the freeze), no more.
    expect(writer.state.seq).toBeGreaterThan(before);
    expect(writer.state.seq).toBeLessThan(tail);

    // Sent again once the server is back: caught up from where the state ended, booked once.
    const booked = await openAccount();
    expect(booked.status, JSON.stringify(booked.body)).toBe(201);
    expect(booked.body).toMatchObject({
      duplicate: false,
      eventCount: 1,
      firstSeq: tail + 1,
      lastSeq: tail + 1,
    });
    const repeat = await openAccount();
    expect(repeat.status, JSON.stringify(repeat.body)).toBe(200);
    expect(repeat.body).toMatchObject({ duplicate: true, firstSeq: tail + 1 });
    expect(await lastSequence(jsm, stream)).toBe(tail + 1);
    const [stored] = await readRange(js, { stream, fromSeq: tail + 1, toSeq: tail + 1 });
    expect(stored?.msgId).toBe(`${account.commandId}:0`);
    expect(writer.state.seq).toBe(tail + 1);
  }, 60_000);
});
