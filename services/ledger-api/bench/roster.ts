/**
 * Benchmark (not a test): a 50,000-row roster through the real HTTP route —
 * validated, decided and appended, request to last acknowledged event —
 * against plain pipelined `js.publish` of the same number of messages of the
 * same sizes (1,000 in flight), measured in the same run on the same server.
 *
 *   pnpm exec tsx services/ledger-api/bench/roster.ts [rows]
 */
import { randomBytes } from 'node:crypto';
import { signToken } from '@fundtrace/service-kit';
import { deleteNamespaceStreams } from '@fundtrace/testkit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { buildApp, startWriters } from '../src/app';
import { readConfig } from '../src/config';
import { registerHouseholds, testNowMs } from '../test/fixtures';

const rows = Number(process.argv[2] ?? 50_000);
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
  let t = performance.now();
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
    amountFen: String(BigInt(rows) * 100_000n),
    origin: {
      kind: 'external',
      payer: '县财政',
      documentNumber: '内财1号',
      fundSource: 'county',
      purpose: 'social_assistance',
      fiscalYear: 2024,
    },
  });
  await post('notices', {
    commandId: 'notice',
    noticeId: 'N1',
    kind: 'programme',
    title: '低保公示',
    stage: 'approval',
    programmeCode: 'dibao_class1',
    period: '2024-06',
    startsOn: '2024-06-01',
    endsOn: '2024-06-07',
  });
  await writers.get(county)!.registry.catchUp(120_000);
  const body = JSON.stringify({
    commandId: 'roster',
    rosterId: 'RS1',
    programmeCode: 'dibao_class1',
    period: '2024-06',
    accountId: 'POOL',
    noticeId: 'N1',
    rows: households.map((householdId, i) => ({ row: i + 2, householdId, quantity: 2, amountFen: '38000' })),
  });

  // The ledger path: HTTP request to the last acknowledged event.
  t = performance.now();
  const response = await app.inject({
    method: 'POST',
    url: `/v1/partitions/${county}/rosters`,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    payload: body,
  });
  const ledgerMs = performance.now() - t;
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
  await jsm.streams.add({ name: `${ns}_BASELINE`, subjects: [`${ns}.baseline.>`] });
  t = performance.now();
  const pending: Promise<unknown>[] = [];
  for (const [i, bytes] of sizes.entries()) {
    pending.push(js.publish(`${ns}.baseline.p.${i}`, bytes));
    if (pending.length >= inFlight) await pending.shift();
  }
  await Promise.all(pending);
  const baselineMs = performance.now() - t;

  const ledgerRate = result.eventCount / (ledgerMs / 1000);
  const baselineRate = sizes.length / (baselineMs / 1000);
  const avgBytes = Math.round(sizes.reduce((s, b) => s + b.length, 0) / sizes.length);
  console.log(
    JSON.stringify({
      rows,
      events: result.eventCount,
      avgEventBytes: avgBytes,
      ledgerMs: Math.round(ledgerMs),
      ledgerEventsPerS: Math.round(ledgerRate),
      baselineMs: Math.round(baselineMs),
      baselineMsgsPerS: Math.round(baselineRate),
      ratio: +(ledgerRate / baselineRate).toFixed(2),
    }),
  );
  await app.close();
} finally {
  await deleteNamespaceStreams(jsm, ns);
  await nc.close();
}
