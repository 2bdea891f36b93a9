import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { countyScenario } from './county-scenario';
import { countyWriter, inFreshProcess, privateCounty } from './private-county';

const ns = 'coldstart';

if (process.argv[2] === '--measure') {
  await measure(process.argv[3]!);
} else {
  await generateAndMeasure(Number(process.argv[2] ?? 100_000), Number(process.argv[3] ?? 10));
}

async function generateAndMeasure(households: number, periods: number): Promise<void> {
  const { nats } = await privateCounty(ns, households, countyScenario(households, periods), log);
  try {
    // A fresh process, as ledger-api boots: nothing of the generator's memory in it.
    const result = await inFreshProcess(new URL(import.meta.url).pathname, ['--measure', nats.url], {
      nodeArgs: [
        '--expose-gc',
        // COLD_START_PROFILE=<dir>: a CPU profile of the cold start (not of the generator).
        ...(process.env.COLD_START_PROFILE
          ? ['--cpu-prof', '--cpu-prof-dir', process.env.COLD_START_PROFILE]
          : []),
      ],
    });
    console.log(result);
  } finally {
    await nats.stop();
  }
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
  const writer = countyWriter(js, jsm, ns);
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
