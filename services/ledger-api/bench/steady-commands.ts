/**
 * Benchmark (not a test): single commands at a steady rate against a writer holding a county's
 * state. The end-to-end phase of `pnpm bench` sends OpenAccount at 1,000/s with 256 outstanding;
 * its request → accepted latency grew with the writer's state (p50 11 ms at 10 %, 141 ms at the
 * 100 % step). This reproduces the writer's half without HTTP, the projector or the bench: a
 * private nats-server (temp dir, nothing on the shared server) is filled with `households`
 * registered households, a county scenario of rosters (`periods` months) and `accounts` accounts
 * opened one command each (the bulk load's many single commands), then a fresh process starts a
 * LedgerWriter on it, as ledger-api boots, and sends OpenAccount open loop at `rate` for `seconds`.
 *
 * It reports latency and, load-independent, per command: the process's CPU, NATS messages and
 * bytes received and sent (a catch-up that re-reads the stream shows here), GC time.
 *
 *   pnpm exec tsx services/ledger-api/bench/steady-commands.ts [households] [periods] [accounts] [rate] [seconds] [runs]
 */
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { LedgerCommand } from '../src/ledger/commands';
import { LedgerWriter } from '../src/writer/writer';
import { countyScenario } from './county-scenario';
import { countyWriter, inFreshProcess, privateCounty } from './private-county';

const ns = 'steady';
const actor = { userId: 'bench', role: 'finance' as const, org: 'bench' };

if (process.argv[2] === '--measure') {
  await measure(process.argv[3]!, Number(process.argv[4]), Number(process.argv[5]), process.argv[6]!);
} else {
  const [households, periods, accounts, rate, seconds, runs] = [
    Number(process.argv[2] ?? 50_000),
    Number(process.argv[3] ?? 10),
    Number(process.argv[4] ?? 300_000),
    Number(process.argv[5] ?? 1_000),
    Number(process.argv[6] ?? 10),
    Number(process.argv[7] ?? 2),
  ];
  await generateAndMeasure(households, periods, accounts, rate, seconds, runs);
}

async function generateAndMeasure(
  households: number,
  periods: number,
  accounts: number,
  rate: number,
  seconds: number,
  runs: number,
): Promise<void> {
  function* commands(): Generator<LedgerCommand> {
    yield* countyScenario(households, periods);
    for (let i = 0; i < accounts; i++)
      yield {
        type: 'OpenAccount',
        data: { accountId: `A${i}`, kind: 'implementing_unit', name: `单位 ${i}` },
      };
  }
  const { nats } = await privateCounty(ns, households, commands(), log);
  try {
    if (process.env.STEADY_SERVE) {
      // Keep the server for measuring children started by hand (`--measure <url> …`) until SIGTERM.
      console.log(nats.url);
      const alive = setInterval(() => undefined, 60_000); // a pending promise alone keeps no process alive
      await new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
      clearInterval(alive);
      return;
    }
    // STEADY_AB=<file>: each run twice, this writer and the one in <file>, alternating which goes first.
    const ab = process.env.STEADY_AB;
    for (let run = 0; run < runs; run++) {
      const variants = ab === undefined ? ['current'] : run % 2 === 0 ? ['current', ab] : [ab, 'current'];
      for (const [i, variant] of variants.entries()) {
        const args = ['--measure', nats.url, String(rate), String(seconds), `r${run}w${i}`];
        const profile = process.env.STEADY_PROFILE;
        console.log(
          await inFreshProcess(new URL(import.meta.url).pathname, args, {
            nodeArgs: ['--expose-gc', ...(profile ? ['--cpu-prof', '--cpu-prof-dir', profile] : [])],
            env: { STEADY_WRITER: variant },
          }),
        );
      }
    }
  } finally {
    await nats.stop();
  }
}

/** The child: a cold LedgerWriter on the generated streams, then OpenAccount open loop. One JSON line. */
async function measure(url: string, rate: number, seconds: number, tag: string): Promise<void> {
  const nc = await connect({ servers: url });
  const js = jetstream(nc, { timeout: 60_000 });
  const jsm = await jetstreamManager(nc);
  // STEADY_WRITER=<file>: another LedgerWriter on the same data (an A/B), e.g. the writer before
  // decision 0039: `git show d2c6fab:services/ledger-api/src/writer/writer.ts > src/writer/old.tmp.ts`.
  const other = process.env.STEADY_WRITER;
  const Writer: typeof LedgerWriter =
    other === undefined || other === 'current'
      ? LedgerWriter
      : ((await import(pathToFileURL(resolve(other)).href)) as { LedgerWriter: typeof LedgerWriter })
          .LedgerWriter;
  const writer = countyWriter(js, jsm, ns, Writer);
  const t0 = performance.now();
  await writer.start();
  const startMs = performance.now() - t0;
  const liveMiB = () => {
    global.gc?.();
    return Math.round(process.memoryUsage().heapUsed / 2 ** 20);
  };
  const heapAfterStart = liveMiB();
  const send = async (n: number, prefix: string, r: number) => {
    const latencies: number[] = [];
    const outstanding = new Set<Promise<void>>();
    const started = performance.now();
    for (let i = 0; i < n; i++) {
      const due = started + (i * 1000) / r;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((res) => setTimeout(res, wait));
      const at = performance.now();
      const p: Promise<void> = writer
        .execute({
          commandId: `${prefix}-${i}`,
          actor,
          command: {
            type: 'OpenAccount',
            data: { accountId: `${prefix}-${i}`, kind: 'implementing_unit', name: `单位 ${i}` },
          },
        })
        .then((o) => {
          // A repeat would be answered from the command map and measure nothing: ids must be new.
          if (!o.ok || o.result.duplicate) throw new Error(`${prefix}-${i}: ${o.ok ? 'a repeat' : o.code}`);
          latencies.push(performance.now() - at);
          outstanding.delete(p);
        });
      outstanding.add(p);
    }
    await Promise.all(outstanding);
    return { latencies: latencies.sort((a, b) => a - b), ms: performance.now() - started };
  };
  // STEADY_ROSTER=<month>: a county roster (every household, one receipt and notice first) through
  // this writer before the steady commands, as the bench's end-to-end phase follows its rosters.
  const month = process.env.STEADY_ROSTER;
  if (month !== undefined) {
    const households = writer.registry.householdCount;
    const before = writer.state.seq;
    const t = performance.now();
    for (const c of countyScenario(households, 1)) {
      if (c.type === 'OpenAccount') continue;
      const command = structuredClone(c) as LedgerCommand;
      const d = command.data as Record<string, unknown>;
      if (command.type === 'ReceiveAllocation') d.receiptId = `R-${tag}`;
      if (command.type === 'PublishNotice') Object.assign(d, { noticeId: `N-${tag}`, period: month });
      if (command.type === 'SubmitRoster')
        Object.assign(d, { rosterId: `RS-${tag}-${d.rosterId}`, noticeId: `N-${tag}`, period: month });
      const o = await writer.execute({
        commandId: `roster-${tag}-${command.type}-${String(d.rosterId ?? '')}`,
        actor,
        command,
      });
      if (!o.ok) throw new Error(`${command.type} refused: ${o.code} ${o.message}`);
    }
    log(`roster: ${writer.state.seq - before} events in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  const heapBeforeSteady = liveMiB();
  await send(500, `warm-${tag}`, rate);
  let majorGcs = 0;
  let gcMs = 0;
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcMs += e.duration;
      if ((e as { detail?: { kind?: number } }).detail?.kind === 4) majorGcs++;
    }
  });
  gc.observe({ entryTypes: ['gc'] });
  const stats0 = { ...nc.stats() };
  const ws0 = { ...writer.stats };
  const cpu0 = process.cpuUsage();
  const n = rate * seconds;
  const { latencies, ms } = await send(n, `e2e-${tag}`, rate);
  const cpu = process.cpuUsage(cpu0);
  const stats = nc.stats();
  gc.disconnect();
  const pct = (p: number) =>
    +latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]!.toFixed(1);
  console.log(
    JSON.stringify({
      tag,
      writer: process.env.STEADY_WRITER ?? 'current',
      ledgerEvents: writer.state.seq,
      commandsKnown: (writer as unknown as { commands: Map<string, unknown> }).commands.size,
      startS: +(startMs / 1000).toFixed(1),
      heapAfterStartMiB: heapAfterStart,
      heapBeforeSteadyMiB: heapBeforeSteady,
      majorGcs,
      perS: Math.round((n / ms) * 1000),
      p50: pct(0.5),
      p99: pct(0.99),
      cpuUsPerCommand: Math.round((cpu.user + cpu.system) / n),
      gcUsPerCommand: Math.round((gcMs * 1000) / n),
      natsInMsgsPerCommand: +((stats.inMsgs - stats0.inMsgs) / n).toFixed(2),
      natsInBytesPerCommand: Math.round((stats.inBytes - stats0.inBytes) / n),
      natsOutMsgsPerCommand: +((stats.outMsgs - stats0.outMsgs) / n).toFixed(2),
      groups: writer.stats.groups - ws0.groups,
      streamInfoSkipped: writer.stats.streamInfoSkipped - ws0.streamInfoSkipped,
      rebuilds: writer.stats.rebuilds - ws0.rebuilds,
      loadAverage: loadavg().map((l) => +l.toFixed(2)),
    }),
  );
  await writer.stop();
  await nc.close();
}

function log(line: string): void {
  console.error(line);
}
