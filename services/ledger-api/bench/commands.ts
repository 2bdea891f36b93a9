/**
 * Benchmark (not a test): single commands through the writer, as many clients send them at once
 * (issue 8's end-to-end phase asks for 1,000 commands/s with 256 outstanding). `clients` loops
 * each keep one OpenAccount outstanding for `seconds`; the writer runs with group commit on and
 * off, one after the other on the same server, and each run is set beside the same number of
 * plain `js.publish` round trips (`clients` loops each awaiting its own ack: one command = one
 * publish), measured right before it. No HTTP: the HTTP path is packages/bench/src/profile-writer.ts.
 *
 *   pnpm exec tsx services/ledger-api/bench/commands.ts [seconds] [clients]
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { ensurePartitionStreams } from '@fundtrace/eventlog';
import { deleteNamespaceStreams } from '@fundtrace/testkit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { financeActor, startWriter } from '../test/fixtures';

const seconds = Number(process.argv[2] ?? 10);
const clients = Number(process.argv[3] ?? 256);
const ns = `bench${randomBytes(3).toString('hex')}`;

const nc = await connect({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222' });
const js = jetstream(nc);
const jsm = await jetstreamManager(nc);

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0
    ? Number.NaN
    : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

/** `clients` loops, each one request outstanding, for `seconds`: rate and latency percentiles. */
async function closedLoop(one: (i: number) => Promise<void>) {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < deadline) {
        const t = performance.now();
        await one(next++);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const ms = performance.now() - started;
  latencies.sort((a, b) => a - b);
  return {
    perS: Math.round((latencies.length / ms) * 1000),
    p50: +percentile(latencies, 0.5).toFixed(1),
    p99: +percentile(latencies, 0.99).toFixed(1),
  };
}

try {
  const runs = [];
  for (const [i, groupCommit] of [true, false, true, false].entries()) {
    const partition = `4113${String(20 + i).padStart(2, '0')}`;
    await ensurePartitionStreams(jsm, { partition, ns, contexts: ['ledger', 'registry'] });
    await jsm.streams.add({ name: `${ns}_BASE${i}`, subjects: [`${ns}.base${i}.>`] });
    const bytes = new Uint8Array(420); // about an AccountOpened event
    const load = loadavg()[0]!;
    const baseline = await closedLoop(async (n) => {
      await js.publish(`${ns}.base${i}.p.${n}`, bytes);
    });
    const writer = await startWriter(js, jsm, ns, partition, Date.now, { groupCommit });
    const ledger = await closedLoop(async (n) => {
      const outcome = await writer.execute({
        commandId: `c-${n}`,
        actor: financeActor,
        command: {
          type: 'OpenAccount',
          data: { accountId: `A-${n}`, kind: 'implementing_unit', name: `单位 ${n}` },
        },
      });
      if (!outcome.ok) throw new Error(outcome.code);
    });
    await writer.stop();
    const line = {
      groupCommit,
      clients,
      ledger,
      publishRoundTrips: baseline,
      ratio: +(ledger.perS / baseline.perS).toFixed(2),
      stats: writer.stats,
      loadAverage: [+load.toFixed(1), +loadavg()[0]!.toFixed(1)],
    };
    console.log(JSON.stringify(line));
    runs.push(line);
  }
} finally {
  await deleteNamespaceStreams(jsm, ns);
  await nc.close();
}
