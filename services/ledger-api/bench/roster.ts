/**
 * Benchmark (not a test): a 50,000-row roster through the real HTTP route —
 * validated, decided and appended, request to last acknowledged event —
 * against plain pipelined `js.publish` of the same number of messages of the
 * same sizes (1,000 in flight), measured in the same run on the same server.
 *
 *   pnpm exec tsx services/ledger-api/bench/roster.ts [rows] [repeats]
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { appendBatch } from '@fundtrace/eventlog';
import { signToken } from '@fundtrace/service-kit';
import { deleteNamespaceStreams } from '@fundtrace/testkit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { buildApp, startWriters } from '../src/app';
import { readConfig } from '../src/config';
import { registerHouseholds, testNowMs } from '../test/fixtures';

const rows = Number(process.argv[2] ?? 50_000);
/** Rosters measured one after another in one run (each against its own baseline). */
const repeats = Number(process.argv[3] ?? 1);
/** Same window as the baseline the issue names. */
const inFlight = 1_000;
const ns = `bench${randomBytes(3).toString('hex')}`;
const county = '411325';
const secret = 'ledger-bench-secret-of-at-least-32-bytes!';

const nc = await connect({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222' });
const js = jetstream(nc);
const jsm = await jetstreamManager(nc);
try {
  const config = readConfig({
    JWT_SECRET: secret,
    FUNDTRACE_NAMESPACE: ns,
    LEDGER_PARTITIONS: county,
    LOG_LEVEL: 'warn',
  });
  const { app, writers } = await buildApp(config, { nats: { js, jsm }, now: () => testNowMs });
  await startWriters(writers, jsm, ns);
  const households = Array.from({ length: rows }, (_, i) => `H${i}`);
  const t = performance.now();
  for (let i = 0; i < rows; i += 10_000)
    await registerHouseholds(js, jsm, ns, county, households.slice(i, i + 10_000));
  console.log(`setup: registered ${rows} households in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const token = await signToken(
    secret,
    { sub: 'bench', role: 'finance', org: 'bench', partitions: [county] },
    3600,
  );
  const post = async (path: string, body: unknown) => {
    const r = await app.inject({
      method: 'POST',
      url: `/v1/partitions/${county}/${path}`,
      headers: { authorization: `Bearer ${token}` },
      payload: body as object,
    });
    if (r.statusCode >= 300) throw new Error(`${path}: ${r.statusCode} ${r.body.slice(0, 500)}`);
    return r;
  };
  await post('accounts', { commandId: 'open', accountId: 'POOL', kind: 'pool', name: '专户' });
  await post('receipts', {
    commandId: 'fund',
    receiptId: 'R1',
    accountId: 'POOL',
    amountFen: String(BigInt(rows) * 100_000n * BigInt(repeats)),
    origin: {
      kind: 'external',
      payer: '县财政',
      documentNumber: '内财1号',
      fundSource: 'county',
      purpose: 'social_assistance',
      fiscalYear: 2024,
    },
  });
  await writers.get(county)!.registry.catchUp(120_000);
  const runs: object[] = [];
  for (let run = 1; run <= repeats; run++) {
    const period = `2024-${String(run).padStart(2, '0')}`;
    await post('notices', {
      commandId: `notice-${run}`,
      noticeId: `N${run}`,
      kind: 'programme',
      title: '低保公示',
      stage: 'approval',
      programmeCode: 'dibao_class1',
      period,
      startsOn: '2024-01-01',
      endsOn: '2024-01-07',
    });
    runs.push(await measure(run, period));
  }
  console.log(JSON.stringify({ rows, runs }));

  async function measure(run: number, period: string) {
    const body = JSON.stringify({
      commandId: `roster-${run}`,
      rosterId: `RS${run}`,
      programmeCode: 'dibao_class1',
      period,
      accountId: 'POOL',
      noticeId: `N${run}`,
      rows: households.map((householdId, i) => ({
        row: i + 2,
        householdId,
        quantity: 2,
        amountFen: '38000',
      })),
    });
    const loadBefore = loadavg()[0]!;

    // The ledger path: HTTP request to the last acknowledged event. Its CPU (this process: route,
    // decide, encode, the NATS client) is the figure that does not move with the machine's load.
    const cpu = process.cpuUsage();
    let t = performance.now();
    const response = await app.inject({
      method: 'POST',
      url: `/v1/partitions/${county}/rosters`,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload: body,
    });
    const ledgerMs = performance.now() - t;
    const ledgerCpu = process.cpuUsage(cpu);
    const ledgerCpuMs = Math.round((ledgerCpu.user + ledgerCpu.system) / 1000);
    if (response.statusCode !== 201)
      throw new Error(`roster: ${response.statusCode} ${response.body.slice(0, 500)}`);
    const result = response.json() as { eventCount: number; firstSeq: number; lastSeq: number };

    // The baseline: the same stored messages re-published plainly, 1,000 in flight.
    const writerStream = writers.get(county)!.stream;
    const sizes: Uint8Array[] = [];
    const consumer = await js.consumers.get(writerStream, {
      deliver_policy: 'by_start_sequence' as never,
      opt_start_seq: result.firstSeq,
    });
    const messages = await consumer.consume({ max_messages: 1_000 });
    for await (const m of messages) {
      sizes.push(m.data);
      if (m.seq >= result.lastSeq) break;
    }
    await messages.close();
    await jsm.streams.add({ name: `${ns}_BASELINE${run}`, subjects: [`${ns}.baseline${run}.>`] });
    t = performance.now();
    const pending: Promise<unknown>[] = [];
    for (const [i, bytes] of sizes.entries()) {
      pending.push(js.publish(`${ns}.baseline${run}.p.${i}`, bytes));
      if (pending.length >= inFlight) await pending.shift();
    }
    await Promise.all(pending);
    const baselineMs = performance.now() - t;

    // Where the gap is: the same bytes appended the writer's way (pipelined, 1,000 in flight, with
    // Nats-Msg-Id and the expected-sequence / previous-id chain), without deciding or encoding.
    await jsm.streams.add({ name: `${ns}_OCC${run}`, subjects: [`${ns}.occ${run}.>`] });
    t = performance.now();
    for (let from = 0; from < sizes.length; from += 25_000) {
      const chunk = sizes.slice(from, from + 25_000);
      await appendBatch(js, {
        stream: `${ns}_OCC${run}`,
        messages: chunk.map((bytes, i) => ({
          subject: `${ns}.occ${run}.p.${from + i}`,
          bytes,
          msgId: `occ:${from + i}`,
        })),
        expectedLastSeq: from,
        inFlightMax: inFlight,
        // As the writer appends (decision 0035): plain publishes, one ack subscription per burst.
        connection: nc,
      });
    }
    const occMs = performance.now() - t;

    const ledgerRate = result.eventCount / (ledgerMs / 1000);
    const baselineRate = sizes.length / (baselineMs / 1000);
    const occRate = sizes.length / (occMs / 1000);
    const line = {
      run,
      events: result.eventCount,
      avgEventBytes: Math.round(sizes.reduce((sum, b) => sum + b.length, 0) / sizes.length),
      ledgerMs: Math.round(ledgerMs),
      ledgerCpuMs,
      ledgerEventsPerS: Math.round(ledgerRate),
      baselineMsgsPerS: Math.round(baselineRate),
      ratio: +(ledgerRate / baselineRate).toFixed(2),
      occAppendMsgsPerS: Math.round(occRate),
      occRatio: +(occRate / baselineRate).toFixed(2),
      loadAverage: [+loadBefore.toFixed(1), +loadavg()[0]!.toFixed(1)],
    };
    console.error(JSON.stringify(line));
    return line;
  }
  await app.close();
} finally {
  await deleteNamespaceStreams(jsm, ns);
  await nc.close();
}
