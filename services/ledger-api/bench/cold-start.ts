/**
 * Benchmark (not a test): a county writer's cold start at full size, measured,
 * not extrapolated. 100,000 households are registered in REGISTRY_<code> and
 * about 1,000,000 ledger events (10 monthly 低保 rounds: a receipt, a notice and
 * two 50,000-row rosters each) are decided by the real decider, encoded by the
 * writer's encoder and appended with the writer's pipelined append into a
 * private nats-server (file storage, temp dir; nothing on the shared server).
 * Then a fresh process starts a LedgerWriter on those streams, as ledger-api
 * does at boot: read LEDGER from sequence 1, decode, evolve, remember command
 * ids, tail the registry to its end. It reports the wall time and the memory
 * the state holds (heap after a full GC, minus the same process's heap before
 * the writer existed; and RSS).
 *
 *   node --expose-gc --import tsx services/ledger-api/bench/cold-start.ts [households] [periods]
 *
 * Targets (issue 3): state < 1 GiB and cold rebuild < 60 s at 1,000,000 events.
 */
import { spawn } from 'node:child_process';
import {
  appendBatch,
  ensurePartitionStreams,
  eventIdFor,
  lastSequence,
  silentLogger,
} from '@fundtrace/eventlog';
import { eventBatchEncoder, ledgerEvents, streamName, utcTimestamp } from '@fundtrace/events';
import { startPrivateNats } from '@fundtrace/testkit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { decide } from '../src/ledger/decide';
import { evolve, type LedgerEventInput } from '../src/ledger/evolve';
import { initialState } from '../src/ledger/state';
import { loadReference } from '../src/reference/programmes';
import { LedgerWriter } from '../src/writer/writer';
import { registerHouseholds } from '../test/fixtures';
import { countyScenario } from './county-scenario';

const county = '411325';
const ns = 'coldstart';

if (process.argv[2] === '--measure') {
  await measure(process.argv[3]!);
} else {
  await generateAndMeasure(Number(process.argv[2] ?? 100_000), Number(process.argv[3] ?? 10));
}

async function generateAndMeasure(households: number, periods: number): Promise<void> {
  const nats = await startPrivateNats();
  try {
    const nc = await connect({ servers: nats.url });
    const js = jetstream(nc, { timeout: 60_000 });
    const jsm = await jetstreamManager(nc);
    await ensurePartitionStreams(jsm, { partition: county, ns, contexts: ['ledger', 'registry'] });

    let t = performance.now();
    const ids = Array.from({ length: households }, (_, i) => `H${i}`);
    for (let i = 0; i < households; i += 10_000)
      await registerHouseholds(js, jsm, ns, county, ids.slice(i, i + 10_000));
    const registryEvents = await lastSequence(jsm, streamName('registry', county, ns));
    log(`registered ${households} households (${registryEvents} registry events) in ${secs(t)}`);

    t = performance.now();
    const events = await appendLedger(js, jsm, households, periods);
    log(`decided, encoded and appended ${events} ledger events in ${secs(t)}`);
    await nc.close();

    // A fresh process, as ledger-api boots: nothing of the generator's memory in it.
    const result = await new Promise<string>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [
          '--expose-gc',
          // COLD_START_PROFILE=<dir>: a CPU profile of the cold start (not of the generator).
          ...(process.env.COLD_START_PROFILE
            ? ['--cpu-prof', '--cpu-prof-dir', process.env.COLD_START_PROFILE]
            : []),
          '--import',
          'tsx',
          new URL(import.meta.url).pathname,
          '--measure',
          nats.url,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
      });
      child.on('exit', (code) =>
        code === 0 ? resolve(out.trim()) : reject(new Error(`measure exited ${code}`)),
      );
    });
    console.log(result);
  } finally {
    await nats.stop();
  }
}

/** The LEDGER stream as ledger-api would have written it: real decisions, real encoder, pipelined appends. */
async function appendLedger(
  js: ReturnType<typeof jetstream>,
  jsm: Awaited<ReturnType<typeof jetstreamManager>>,
  households: number,
  periods: number,
): Promise<number> {
  const reference = loadReference();
  const registry = { seq: 1, household: () => ({ exited: false, accountBound: true }) };
  const versions = new Map(ledgerEvents.map((d) => [d.type, d.version]));
  const nowMs = Date.parse('2024-12-20T00:00:00Z');
  const stream = streamName('ledger', county, ns);
  const state = initialState(county);
  let seq = 0;
  let command = 0;
  const run = async (c: Parameters<typeof decide>[1]) => {
    const d = decide(state, c, { reference, registry, today: '2024-12-20' });
    if (!d.ok) throw new Error(`${d.code}: ${d.message}`);
    const commandId = `c${++command}`;
    const encoder = eventBatchEncoder({
      partition: county,
      occurredAt: utcTimestamp(nowMs),
      recordedAt: utcTimestamp(nowMs),
      actor: { userId: 'bench', role: 'finance', org: 'bench' },
      commandId,
      correlationId: commandId,
    });
    for (let from = 0; from < d.events.length; from += 5_000) {
      const messages = d.events.slice(from, from + 5_000).map((e: LedgerEventInput, i) => {
        const event = {
          id: eventIdFor(nowMs, commandId, from + i),
          type: e.type,
          version: versions.get(e.type)!,
          data: e.data,
        };
        return {
          subject: encoder.subject(event, ns),
          bytes: encoder.encode(event),
          msgId: encoder.messageId(from + i),
        };
      });
      const { lastSeq } = await appendBatch(js, {
        stream,
        messages,
        expectedLastSeq: seq,
        inFlightMax: 1_000,
      });
      seq = lastSeq;
    }
    for (const e of d.events) evolve(state, e);
  };
  for (const command of countyScenario(households, periods)) {
    await run(command);
    if (command.type === 'SubmitRoster') log(`  ${command.data.rosterId}: ${seq} ledger events`);
  }
  return seq;
}

/** The child: a cold LedgerWriter on the generated streams. Prints one JSON line. */
async function measure(url: string): Promise<void> {
  const nc = await connect({ servers: url });
  const js = jetstream(nc, { timeout: 60_000 });
  const jsm = await jetstreamManager(nc);
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const rssBefore = process.memoryUsage().rss;
  const t = performance.now();
  const cpuBefore = process.cpuUsage();
  const writer = new LedgerWriter({
    js,
    jsm,
    partition: county,
    ns,
    reference: loadReference(),
    logger: silentLogger(),
  });
  await writer.start();
  const ms = performance.now() - t;
  const cpu = process.cpuUsage(cpuBefore);
  const rssPeak = process.memoryUsage().rss;
  global.gc?.();
  const memory = process.memoryUsage();
  console.log(
    JSON.stringify({
      ledgerEvents: writer.state.seq,
      registryEvents: writer.registry.seq,
      households: writer.registry.householdCount,
      payments: writer.state.payments.size,
      coldStartS: +(ms / 1000).toFixed(1),
      // CPU the process got (user + system): on a machine shared by others the wall time above
      // is mostly waiting for a core; this is what the cold start costs.
      cpuS: +((cpu.user + cpu.system) / 1e6).toFixed(1),
      eventsPerS: Math.round(writer.state.seq / (ms / 1000)),
      stateHeapMiB: Math.round((memory.heapUsed - heapBefore) / 2 ** 20),
      rssMiB: Math.round(memory.rss / 2 ** 20),
      rssPeakMiB: Math.round(rssPeak / 2 ** 20),
      rssBeforeMiB: Math.round(rssBefore / 2 ** 20),
      loadAverage: (await import('node:os')).loadavg().map((l) => +l.toFixed(1)),
    }),
  );
  await writer.stop();
  await nc.close();
}

function log(line: string): void {
  console.error(line);
}

function secs(t: number): string {
  return `${((performance.now() - t) / 1000).toFixed(1)} s`;
}
