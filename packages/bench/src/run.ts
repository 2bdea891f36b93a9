import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { durableFor, rebuildBooks, traceHouseholdUp } from '@fundtrace/books';
import { createDb, type Database, getActiveSchema, migrateToLatest } from '@fundtrace/db';
import { connectNats } from '@fundtrace/eventlog';
import {
  generateHouseholds,
  householdHeader,
  householdToRows,
  parseHouseholdRows,
  type SourceRow,
} from '@fundtrace/pii';
import { freePorts } from '@fundtrace/testkit';
import { type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import autocannon from 'autocannon';
import { type Kysely, sql } from 'kysely';
import {
  consumeDurable,
  copyRows,
  insertMultiRow,
  naivePipeline,
  publishPipelined,
  type Rate,
  type RawRow,
  rate,
} from './baselines';
import { bulkLoad } from './bulk-load';
import {
  benchPrefix,
  claimNamespace,
  createMarkedDatabase,
  dropMarkedDatabase,
  newRunToken,
  releaseNamespace,
} from './guard';
import { type CommandLine, type Endpoints, sendCommand } from './load';
import { type GeneratorCeiling, measureGeneratorCeiling, openLoop } from './open-loop';
import { type Progress, progressBar } from './progress';
import {
  type RunningService,
  repoRoot,
  type StackEnv,
  startService,
  stopAllServices,
  tokensFor,
} from './stack';
import { percentile } from './stats';
import { measureTraceAtScale } from './trace-scale';

/** Households of one county at 100 % (the issue's county scale). */
export const countyHouseholds = 50_000;
/** Rows of the roster the append target names. */
export const targetRosterRows = 50_000;
/** Events the naive pipeline runs over at most: its cost per event is flat, and the run has 30 minutes. */
const naiveEventsMax = 200_000;
/** Longest the roster waits for ledger-api's registry tail to reach the registry's end. */
const registryWaitMsMax = 300_000;
/** 医疗保险代缴 per person-year, the programme's standard (180 元). */
const rosterAmountFen = '18000';
/** How often a waiting phase polls PostgreSQL for the projector's checkpoints. */
const checkpointPollMs = 25;
/**
 * How often the end-to-end phase reads the projector's checkpoint: the resolution of its
 * accepted → visible times. Each read is a query competing with the projector for the CPU.
 */
const visiblePollMs = 5;
/** The trace phase stops after this long (a slow trace under load), with at least traceQueriesMin samples. */
const traceMsMax = 60_000;
const traceQueriesMin = 50;
/** Outstanding end-to-end requests at most (the schedule slips past it, and the report says so). */
export const e2eInFlightMax = 256;
/**
 * Connections the end-to-end client keeps open (opened before the clock starts); requests beyond
 * them wait in the client's queue and count as outstanding. At load 12 (18:53), 64 connections
 * and 256 gave the writer the same rate (401–558/s vs 444–464/s after warm-up).
 */
export const e2eSocketsMax = 64;
/** An accepted command not visible in the books after this long is lost, not late. */
const e2eVisibleTimeoutMs = 60_000;
/** Seconds of the load generator's own ceiling (against a trivial server), at most. */
const generatorSeconds = 5;
/** Characters of a bench JWT (HS256, the claims of tokensFor): the generator's baseline sends as many. */
const jwtChars = 240;
/** The county every step loads (内乡县); province runs of the generator add more. */
const county = '411325';
/** Payload size of the standalone publish/consume/INSERT baselines: a typical settlement event. */
const baselinePayloadBytes = 700;

export interface BenchOptions {
  /** Households at 100 % of the scale (default: a county). */
  households: number;
  /** Growth steps as fractions of `households`. */
  steps: number[];
  /** Messages and rows for the standalone baselines. */
  baselineMessages: number;
  /** Rows of the roster-append target (households are added to the county to reach it). */
  rosterRows: number;
  /** Trace queries per step (p50/p99). */
  traceQueries: number;
  /** Seconds of notice-board load (autocannon). */
  noticeSeconds: number;
  /** Commands per second and seconds of the end-to-end latency phase. */
  e2eRate: number;
  e2eSeconds: number;
  /** Payments in the books of the trace-at-scale phase (issue 5 names 1,000,000); 0 skips it. */
  traceScalePayments: number;
  /** Households traced in that phase (p50/p99). */
  traceScaleSamples: number;
  seed: string;
  natsUrl: string;
  databaseServerUrl: string;
  /** Draw progress bars (a terminal). */
  tty: boolean;
  log: (line: string) => void;
  /**
   * Called after the baselines and after each step with the result so far (`interrupted` says
   * what is missing), so a run cut short still leaves its completed steps in the report.
   */
  onProgress?: (partial: BenchResult) => void;
}

export interface StepResult {
  fraction: number;
  households: number;
  generateMs: number;
  commands: number;
  events: number;
  streams: Record<string, number>;
  load: Rate;
  /** The issue's naive pipeline: raw bytes, nothing decoded. */
  naive: Rate;
  /** The naive pipeline decoding each event as the projector does (absent before decision 0132). */
  naiveDecoding?: Rate;
  projector: Rate;
  replay: Rate;
  trace: {
    queries: number;
    paymentsPerHousehold: number;
    totalPayments: number;
    p50Ms: number;
    p99Ms: number;
  };
  /** ledger-api started over the step's whole LEDGER log: spawn to /health, and RSS right then. */
  writer: { events: number; coldStartMs: number; rssBytes: number | null };
  /** How the data set was loaded (src/bulk-load.ts). */
  loadDetail: { registryMs: number; ledgerMs: number; groupCommands: number; groupEvents: number };
  roster: RosterFigures | { error: string } | null;
  rosterCli: RosterCliFigures | { error: string } | null;
  notice:
    | {
        url: string;
        seconds: number;
        requestsPerS: number;
        p99Ms: number;
        non2xx: number;
        /** Books versions the board saw during the measurement (0: the books were still) and pages it built. */
        versionChanges?: number;
        builds?: number;
      }
    | { error: string }
    | null;
  e2e:
    | {
        targetPerS: number;
        achievedPerS: number;
        commands: number;
        /** Accepted (201) → visible in the books. */
        p50Ms: number;
        p99Ms: number;
        /** Request sent → 201: the writer's share (HTTP, decide, append), queueing included. */
        acceptP50Ms: number;
        acceptP99Ms: number;
        /** How late the last request left against the schedule (the window of 256 full, or the generator behind). */
        sendSlipMs?: number;
        /** CPU of the bench process per request during the phase (generator and visibility polls). */
        generatorCpuUsPerRequest?: number;
        /** How often visibility was polled: the resolution of accepted → visible. */
        visiblePollMs?: number;
      }
    | { error: string }
    | null;
  /** Wall time of each phase of the step, in the order they ran. */
  budget?: PhaseTime[];
  /** Load average (1, 5, 15 min) when the step started and ended: the machine is shared. */
  loadAverage?: { start: number[]; end: number[] };
}

/** Trace latency at a fixed number of payments in the books (src/trace-scale.ts), once per run. */
export type TraceAtScale =
  | {
      payments: number;
      paymentsPerHousehold: number;
      queries: number;
      p50Ms: number;
      p99Ms: number;
      /** Building the books (not measured against a target; it is the phase's cost). */
      buildMs: number;
      /** Further figures the measuring function reports (inside-PostgreSQL time, …), shown as given. */
      detail?: Record<string, number | string>;
    }
  | { error: string };

export interface BenchResult {
  token: string;
  startedAt: string;
  finishedAt: string;
  baselines: {
    publish: Rate;
    consume: Rate;
    insert: Rate;
    copy: Rate;
    payloadBytes: number;
    /** The end-to-end load generator against a server that answers at once: its own ceiling. */
    generator?: GeneratorCeiling | { error: string };
  };
  steps: StepResult[];
  traceAtScale?: TraceAtScale;
  /** Wall time of the run's own phases (baselines, each step, trace at scale, cleanup). */
  budget?: PhaseTime[];
  cleanup: string[];
  /** Set on a partial result: the steps not (yet) measured. */
  interrupted?: string;
}

/** What the run in progress owns, for `abortRun` (a signal) to remove. */
let active: {
  jsm: JetStreamManager;
  token: string;
  owned: { ns: string[]; dbs: string[] };
  serverUrl: string;
} | null = null;

let aborting = false;

/** True once `abortRun` has taken over: the run's failures from then on are the interruption's. */
export function isAborting(): boolean {
  return aborting;
}

/**
 * An interrupted run (Ctrl-C, SIGTERM) stops its services and removes its streams and databases
 * (each only if it carries this run's marker) before the process exits.
 */
export async function abortRun(): Promise<string[]> {
  const run = active;
  // From here on the run's own `finally` leaves the cleanup to this function.
  active = null;
  aborting = true;
  await stopAllServices();
  if (run === null) return [];
  const removed: string[] = [];
  for (const ns of run.owned.ns) removed.push(...(await releaseNamespace(run.jsm, ns, run.token)));
  for (const db of run.owned.dbs) {
    await dropMarkedDatabase(run.serverUrl, db, run.token);
    removed.push(db);
  }
  return removed;
}

/** Runs the whole suite; everything it creates is removed before it returns (or throws). */
export async function runBench(options: BenchOptions): Promise<BenchResult> {
  const token = newRunToken();
  const startedAt = new Date().toISOString();
  const nc = await connectNats(options.natsUrl, { name: 'fundtrace-bench' });
  const jsm = await jetstreamManager(nc);
  const cleanup: string[] = [];
  const owned: { ns: string[]; dbs: string[] } = { ns: [], dbs: [] };
  active = { jsm, token, owned, serverUrl: options.databaseServerUrl };
  try {
    // Baselines, in their own namespace and database.
    const ns = `${benchPrefix}${token}b`;
    await claimNamespace(jsm, ns, token);
    owned.ns.push(ns);
    const dbName = `${benchPrefix}_${token}_b`;
    const url = await createMarkedDatabase(options.databaseServerUrl, dbName, token);
    owned.dbs.push(dbName);
    const budget: PhaseTime[] = [];
    const baselines = await timed(budget, 'baselines (NATS, PostgreSQL, HTTP load generator)', () =>
      runBaselines(nc, url, ns, options),
    );
    const steps: StepResult[] = [];
    let traceAtScale: TraceAtScale | undefined;
    const partial = (): BenchResult => {
      const missing = options.steps.slice(steps.length).map((f) => `${Math.round(f * 100)}%`);
      if (traceAtScale === undefined && options.traceScalePayments > 0) missing.push('trace at scale');
      return {
        token,
        startedAt,
        finishedAt: new Date().toISOString(),
        baselines,
        steps: [...steps],
        traceAtScale,
        budget: [...budget],
        cleanup,
        interrupted: `not measured yet: ${missing.join(', ')} (the run was cut short or is still running)`,
      };
    };
    options.onProgress?.(partial());
    // The largest step measures the targets stated for a fixed size (the 50,000-row roster),
    // wherever it stands in the order (run first, it is measured even if the run is cut short).
    const largest = Math.max(...options.steps);
    for (const [i, fraction] of options.steps.entries()) {
      const stepStarted = performance.now();
      const stepNs = `${benchPrefix}${token}s${i}`;
      await claimNamespace(jsm, stepNs, token);
      owned.ns.push(stepNs);
      const stepDb = `${benchPrefix}_${token}_s${i}`;
      const stepUrl = await createMarkedDatabase(options.databaseServerUrl, stepDb, token);
      owned.dbs.push(stepDb);
      const step = await runStep(nc, stepUrl, stepNs, fraction, options, fraction === largest);
      // Each step's data is dropped before the next, so steps do not compete for disk cache.
      await timed(step.budget!, 'remove its streams and database', async () => {
        cleanup.push(...(await releaseNamespace(jsm, stepNs, token)));
        owned.ns = owned.ns.filter((n) => n !== stepNs);
        await dropMarkedDatabase(options.databaseServerUrl, stepDb, token);
        owned.dbs = owned.dbs.filter((d) => d !== stepDb);
        cleanup.push(stepDb);
      });
      steps.push(step);
      budget.push({
        phase: `step ${Math.round(fraction * 100)}%`,
        ms: Math.round(performance.now() - stepStarted),
      });
      options.onProgress?.(partial());
    }
    if (options.traceScalePayments > 0)
      traceAtScale = await timed(
        budget,
        `trace at ${options.traceScalePayments.toLocaleString('en')} payments (build + queries)`,
        () => traceAtScalePhase(options, { token, owned }),
      );
    return {
      token,
      startedAt,
      finishedAt: new Date().toISOString(),
      baselines,
      steps,
      traceAtScale,
      budget,
      cleanup,
    };
  } finally {
    active = null;
    if (aborting) owned.ns = owned.dbs = [];
    for (const ns of owned.ns) cleanup.push(...(await releaseNamespace(jsm, ns, token)));
    for (const db of owned.dbs) {
      await dropMarkedDatabase(options.databaseServerUrl, db, token);
      cleanup.push(db);
    }
    // An interrupted run's cleanup (abortRun) still needs the connection; the process exits after it.
    if (!aborting) await nc.close();
  }
}

async function runBaselines(nc: NatsConnection, url: string, ns: string, o: BenchOptions) {
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: `${ns}_RAW`, subjects: [`${ns}.raw.>`] });
  const payloads = Array.from({ length: o.baselineMessages }, () => randomBytes(baselinePayloadBytes));
  o.log('baselines');
  let bar = progressBar('JetStream publish (1,000 in flight)', payloads.length, o.tty);
  const publish = await publishPipelined(js, `${ns}.raw.p`, payloads, bar);
  bar.stop();
  bar = progressBar('JetStream durable pull + ack', payloads.length, o.tty);
  const consume = await consumeDurable(nc, `${ns}_RAW`, payloads.length, bar);
  bar.stop();
  const rows: RawRow[] = payloads.map((bytes, i) => ({
    stream: `${ns}_RAW`,
    seq: i + 1,
    subject: `${ns}.raw.p.${i % 1000}`,
    bytes,
  }));
  bar = progressBar('PostgreSQL INSERT (500 rows)', rows.length, o.tty);
  const insert = await insertMultiRow(url, rows, bar);
  bar.stop();
  const copy = await copyRows(url, rows);
  // The end-to-end phase's load generator against a server that answers at once, at the rate
  // that phase asks: if it cannot hold that rate here, the end-to-end figure measures the bench.
  const generator = await optional('load generator ceiling', o, async () => {
    const seconds = Math.max(1, Math.min(o.e2eSeconds, generatorSeconds));
    const ceiling = await measureGeneratorCeiling({
      ...e2eLoad(o),
      seconds,
      body: (i) => e2eBody(ns, i),
      headers: { authorization: `Bearer ${'x'.repeat(jwtChars)}` },
    });
    o.log(
      `  HTTP load generator vs a trivial server: ${ceiling.achievedPerS.toLocaleString('en')}/s of ${o.e2eRate.toLocaleString('en')}/s asked, p50 ${ceiling.p50Ms} ms, p99 ${ceiling.p99Ms} ms, ${ceiling.cpuUsPerRequest} µs CPU/request`,
    );
    return ceiling;
  });
  return {
    publish,
    consume,
    insert,
    copy,
    payloadBytes: baselinePayloadBytes,
    generator: generator ?? { error: 'not run' },
  };
}

/**
 * Trace latency with `traceScalePayments` payments in the books: src/trace-scale.ts builds
 * county-shaped books in a marked database of its own, analyzes them, times the queries and
 * drops the database.
 */
async function traceAtScalePhase(
  o: BenchOptions,
  run: { token: string; owned: { dbs: string[] } },
): Promise<TraceAtScale> {
  o.log(`trace at ${o.traceScalePayments.toLocaleString('en')} payments`);
  // Registered while it may exist, so an interrupted run drops it with the rest (each drop checks the marker).
  const name = `${benchPrefix}_${run.token}_trace`;
  run.owned.dbs.push(name);
  let bar: Progress | null = null;
  try {
    const r = await measureTraceAtScale({
      adminUrl: o.databaseServerUrl,
      database: { token: run.token, name },
      payments: o.traceScalePayments,
      samples: o.traceScaleSamples,
      onProgress: (done, total) => {
        bar ??= progressBar('trace books (events of the log)', total, o.tty);
        bar.update(done);
      },
    });
    (bar as Progress | null)?.stop();
    bar = null;
    o.log(
      `  ${r.paymentsInBooks.toLocaleString('en')} payments built in ${secs(r.buildMs)}; trace p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms (${r.samples} households, ${r.paymentsPerTrace} payments each)`,
    );
    return {
      payments: r.paymentsInBooks,
      paymentsPerHousehold: r.paymentsPerTrace,
      queries: r.samples,
      p50Ms: r.p50Ms,
      p99Ms: r.p99Ms,
      buildMs: r.buildMs + r.analyzeMs,
      detail: {
        'inside PostgreSQL p50 / p99 ms (EXPLAIN ANALYZE)': `${r.inDatabase.p50Ms} / ${r.inDatabase.p99Ms}`,
        'buffers a trace hits / reads from outside shared_buffers (p50, EXPLAIN)': `${r.inDatabase.buffersHitP50} / ${r.inDatabase.buffersReadP50}`,
        'client GC pauses begun inside a timed trace (count, ms in all)': `${r.gcInsideTraces.pauses} / ${r.gcInsideTraces.ms}`,
        'slowest trace ms': r.maxMs,
        'households in the books': r.households,
        'tranche flows in the books': r.flowsInBooks,
        'hops per trace': r.hopsPerTrace,
        'build s / ANALYZE s': `${(r.buildMs / 1000).toFixed(1)} / ${(r.analyzeMs / 1000).toFixed(1)}`,
        'load average after the queries': r.loadAverage.join(' '),
      },
    };
  } catch (error) {
    o.log(`  trace at scale failed: ${String(error).slice(0, 500)}`);
    return { error: String(error).slice(0, 500) };
  } finally {
    (bar as Progress | null)?.stop();
    // measureTraceAtScale drops its database when it settles; only an interruption leaves it to abortRun.
    run.owned.dbs.splice(run.owned.dbs.indexOf(name), 1);
  }
}

async function generate(households: number, seed: string, dir: string): Promise<number> {
  const started = performance.now();
  await runChild(
    [
      join(repoRoot, 'packages/cli/src/main.ts'),
      'generate',
      '--households',
      String(households),
      '--seed',
      seed,
      '--out',
      dir,
    ],
    'fundtrace generate',
  );
  return performance.now() - started;
}

async function streamTails(nc: NatsConnection, ns: string): Promise<Map<string, number>> {
  const jsm = await jetstreamManager(nc);
  const tails = new Map<string, number>();
  for await (const info of jsm.streams.list()) {
    const name = info.config.name;
    if (!name.startsWith(`${ns}_`) || name.endsWith('_BENCH_MARKER') || info.state.last_seq === 0) continue;
    if (/_(LEDGER|REGISTRY|AUDIT)_/.test(name)) tails.set(name, info.state.last_seq);
  }
  return tails;
}

/** Waits until the projector has applied every event stored in the namespace's streams now. */
async function untilProjected(
  admin: Kysely<unknown>,
  schema: string,
  durable: string,
  nc: NatsConnection,
  ns: string,
  timeoutMs: number,
): Promise<void> {
  const total = await eventsIn(nc, ns);
  const deadline = performance.now() + timeoutMs;
  while ((await appliedIn(admin, schema, durable)) < total) {
    if (performance.now() > deadline)
      throw new Error(`the projector did not catch up to ${total} events within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, checkpointPollMs * 4));
  }
}

async function appliedIn(db: Kysely<unknown>, schema: string, consumer: string): Promise<number> {
  const { rows } = await sql<{ n: string | null }>`
    select sum(last_seq)::text as n from ${sql.table(`${schema}.projection_checkpoints`)} where consumer = ${consumer}`.execute(
    db,
  );
  return Number(rows[0]?.n ?? 0);
}

/** A phase's wall time, for the report's time budget. */
export interface PhaseTime {
  phase: string;
  ms: number;
}

/** Runs `run` as phase `name` of `budget`: its wall time is recorded whether it succeeds or throws. */
async function timed<T>(budget: PhaseTime[], name: string, run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await run();
  } finally {
    budget.push({ phase: name, ms: Math.round(performance.now() - started) });
  }
}

async function runStep(
  nc: NatsConnection,
  url: string,
  ns: string,
  fraction: number,
  o: BenchOptions,
  /** The largest step also measures the targets that need a fixed size (the 50,000-row roster). */
  last: boolean,
): Promise<StepResult> {
  const households = Math.max(10, Math.round(o.households * fraction));
  o.log(`step ${Math.round(fraction * 100)}% — ${households.toLocaleString('en')} households`);
  const dir = mkdtempSync(join(tmpdir(), 'fundtrace-bench-'));
  const services: RunningService[] = [];
  const budget: PhaseTime[] = [];
  const loadAtStart = loadAverage();
  const admin = createDb<unknown>(url, { max: 2, applicationName: 'fundtrace-bench' });
  try {
    // The shared tables (merkle checkpoints the notice board reads), as `npm start` migrates them.
    const generateMs = await timed(budget, 'generate (fundtrace generate, child process)', async () => {
      await migrateToLatest(admin as never);
      return generate(households, `${o.seed}-${households}`, dir);
    });
    const commandsFile = join(dir, 'commands.ndjson');
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as { commands: number };
    const secrets = fixedSecrets();
    const env: StackEnv = {
      natsUrl: o.natsUrl,
      databaseUrl: url,
      ns,
      secrets,
      partitions: { ledger: ['000000', '410000', '411300', county], counties: [county] },
    };
    const [registryPort, ledgerPort, projectorPort, noticePort] = await freePorts(4);
    const registry = await timed(budget, 'registry-api start', () =>
      startService('registry-api', registryPort!, env),
    );
    services.push(registry);
    const endpoints: Endpoints = {
      registryUrl: registry.url,
      // ledger-api starts once the data set is loaded: that start is the cold start measured.
      ledgerUrl: '',
      tokens: await tokensFor(secrets.JWT_SECRET),
    };

    // 1. Load the data set through the writers' own code path, in bulk (src/bulk-load.ts).
    const jsm = await jetstreamManager(nc);
    let bar = progressBar('load through the writers (commands)', summary.commands, o.tty);
    const loaded = await timed(budget, 'load through the writers (bulk)', () =>
      bulkLoad(commandsFile, { js: jetstream(nc), jsm, ns, endpoints, progress: bar }),
    );
    bar.stop();
    o.log(
      `  loaded ${loaded.events.toLocaleString('en')} events: registry imports ${secs(loaded.registryMs)}, ledger ${secs(loaded.ledgerMs)} (${loaded.groupCommands.toLocaleString('en')} bank answers as ${loaded.groupEvents.toLocaleString('en')} events in bulk)`,
    );
    const load = rate(loaded.events, loaded.ms);

    // 2. The roster's households: the step's payable households (from the data set's own
    //    registry imports), and in the largest step more, imported through registry-api before
    //    ledger-api starts so that its cold start already covers them.
    const rosterHouseholds = await timed(budget, 'roster households (read, top-up import)', () =>
      rosterHouseholdsFor(commandsFile, endpoints, ns, o, last ? o.rosterRows : 0),
    );

    // 3. Writer cold start: ledger-api started over the whole data set (rebuild to /health).
    const writerEvents = await ledgerEvents(nc, ns);
    o.log(`  ledger-api cold start over ${writerEvents.toLocaleString('en')} events`);
    const ledger = await timed(budget, 'ledger-api cold start', () =>
      startService('ledger-api', ledgerPort!, env),
    );
    services.push(ledger);
    endpoints.ledgerUrl = ledger.url;
    const writer = {
      events: writerEvents,
      coldStartMs: Math.round(ledger.startMs),
      rssBytes: ledger.rssBytes(),
    };
    o.log(
      `  cold start ${secs(writer.coldStartMs)}, RSS ${Math.round((writer.rssBytes ?? 0) / 2 ** 20)} MiB`,
    );

    // 4. Roster append: one roster of up to 50,000 rows, HTTP request to last acked event,
    //    against the same bytes re-published plainly with 1,000 in flight; then the same size
    //    through the CLI import (CSV file → dry run → append). Before the projection passes, so
    //    that they run over the whole log, rosters included, and nothing appends after them.
    const roster = await timed(budget, 'roster through HTTP (+ its publish baseline)', () =>
      optional('roster', o, () => measureRoster(nc, ledger, endpoints, ns, o, rosterHouseholds)),
    );
    const rosterCli =
      roster !== null && !('error' in roster)
        ? await timed(budget, 'roster through the CLI import', () =>
            optional('roster through the CLI', o, () =>
              measureRosterCli(nc, ledger, endpoints, ns, o, rosterHouseholds.householdIds),
            ),
          )
        : null;
    const tails = await streamTails(nc, ns);
    const total = await eventsIn(nc, ns);

    // 5. The naive pipeline over these streams (its rate is flat in size: a prefix is enough):
    //    the issue's, raw bytes inserted; then the same decoding every event as the projector
    //    does, a reference for how much of the projector's cost is decoding (decision 0132).
    const naiveEvents = Math.min(total, naiveEventsMax);
    bar = progressBar('naive pipeline (pull→INSERT→ack)', naiveEvents, o.tty);
    const naive = await timed(budget, `naive pipeline (${naiveEvents.toLocaleString('en')} events)`, () =>
      naivePipeline(nc, url, tails, 'naive', bar, naiveEvents),
    );
    bar.stop();
    bar = progressBar('naive pipeline decoding each event', naiveEvents, o.tty);
    const naiveDecoding = await timed(
      budget,
      `naive pipeline decoding each event (${naiveEvents.toLocaleString('en')} events)`,
      () => naivePipeline(nc, url, tails, 'naive_decoding', bar, naiveEvents, 'decoding'),
    );
    bar.stop();

    // 6. The projector service catching up from sequence 1 (live mode, realistic mix).
    const projector = await timed(budget, 'projector start', () =>
      startService('projector', projectorPort!, env, { PROJECTOR_SCHEMA: 'books' }),
    );
    services.push(projector);
    const schema = (await getActiveSchema(admin as Kysely<Database>)) ?? 'books';
    const durable = durableFor(schema);
    const t0 = performance.now();
    const a0 = await appliedIn(admin, schema, durable);
    bar = progressBar('projector (realistic mix)', total, o.tty);
    for (;;) {
      const applied = await appliedIn(admin, schema, durable);
      bar.update(applied);
      if (applied >= total) break;
      if (projector.child.exitCode !== null) throw new Error('the projector exited while catching up');
      await new Promise((r) => setTimeout(r, checkpointPollMs));
    }
    bar.stop();
    const projectorRate = rate(total - a0, performance.now() - t0);
    budget.push({
      phase: `projector catching up from sequence 1 (${total.toLocaleString('en')} events)`,
      ms: projectorRate.ms,
    });

    // 7. Trace: the households with the most payments, up to their root allocations.
    const books = createDb<Database>(url, { schema, max: 2, applicationName: 'fundtrace-bench' });
    const trace = await timed(budget, "trace queries (the county's books)", () =>
      measureTrace(books, o.traceQueries, o.tty),
    );

    // 8. Notice board: a village page from cache, with the books still (caught up, nothing
    //    appending): the page cache is keyed on the books' version.
    const notice = await timed(budget, 'notice board page', () =>
      optional('notice board', o, async () => {
        await untilProjected(admin, schema, durable, nc, ns, e2eVisibleTimeoutMs * 10);
        return measureNotice(books, env, noticePort!, ledger.url, services, o);
      }),
    );

    // 9. End-to-end: command accepted → visible in the books audit-api reads, timed from a
    //    caught-up projector (a backlog would be in every latency: the 16:03 run's ~66 s was).
    const e2e = await timed(budget, 'end-to-end at a steady rate', () =>
      optional('end-to-end', o, async () => {
        await untilProjected(admin, schema, durable, nc, ns, e2eVisibleTimeoutMs * 10);
        return measureE2e(admin, schema, durable, ns, endpoints, o);
      }),
    );
    await books.destroy();

    // 10. Replay: every read model rebuilt from sequence 1 into a fresh schema, the log's whole
    //     length (the end-to-end commands included), with every service stopped: nothing else
    //     runs on the machine's cores but NATS, PostgreSQL and the rebuild.
    await timed(budget, 'stop the services', () => stopAll(services));
    const events = await eventsIn(nc, ns);
    bar = progressBar('replay into a fresh schema', events, o.tty);
    const rebuilt = await timed(
      budget,
      `replay into a fresh schema (${events.toLocaleString('en')} events)`,
      () => rebuildBooks({ url, nc, ns, schema: 'replay', onProgress: (n) => bar.update(n) }),
    );
    bar.stop();
    const replay = rate(rebuilt.applied, rebuilt.elapsedMs);
    return {
      fraction,
      households,
      generateMs: Math.round(generateMs),
      commands: loaded.commands,
      events: total,
      streams: Object.fromEntries(tails),
      load,
      loadDetail: {
        registryMs: Math.round(loaded.registryMs),
        ledgerMs: Math.round(loaded.ledgerMs),
        groupCommands: loaded.groupCommands,
        groupEvents: loaded.groupEvents,
      },
      naive,
      naiveDecoding,
      projector: projectorRate,
      replay,
      trace,
      writer,
      roster,
      rosterCli,
      notice,
      e2e,
      budget,
      loadAverage: { start: loadAtStart, end: loadAverage() },
    };
  } finally {
    await stopAll(services);
    await admin.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Stops the step's services, last started first. */
async function stopAll(services: RunningService[]): Promise<void> {
  while (services.length > 0) await services.pop()!.stop();
}

/** Events stored in the namespace's LEDGER, REGISTRY and AUDIT streams now. */
async function eventsIn(nc: NatsConnection, ns: string): Promise<number> {
  return [...(await streamTails(nc, ns)).values()].reduce((a, b) => a + b, 0);
}

/** LEDGER events stored in the namespace now (the writer's cold start rebuilds from them). */
async function ledgerEvents(nc: NatsConnection, ns: string): Promise<number> {
  return [...(await streamTails(nc, ns)).entries()]
    .filter(([k]) => k.includes('_LEDGER_'))
    .reduce((a, [, v]) => a + v, 0);
}

/** Secrets for the services of one run, never written anywhere. */
export function fixedSecrets(): {
  JWT_SECRET: string;
  PII_KEYS: string;
  PII_ACTIVE_KEY: string;
  PII_HMAC_KEY: string;
} {
  return {
    JWT_SECRET: randomBytes(32).toString('base64url'),
    PII_KEYS: `bench1:${randomBytes(32).toString('base64')}`,
    PII_ACTIVE_KEY: 'bench1',
    PII_HMAC_KEY: randomBytes(32).toString('base64'),
  };
}

async function measureTrace(db: Kysely<Database>, queries: number, tty: boolean) {
  const { rows } = await sql<{ household_id: string; n: number }>`
    select household_id, count(*)::int as n from payments where partition = ${county}
    group by household_id order by n desc, household_id limit 50`.execute(db);
  const { rows: all } = await sql<{ n: number }>`select count(*)::int as n from payments`.execute(db);
  const samples: number[] = [];
  if (rows.length > 0) {
    const bar = progressBar('trace queries', queries, tty);
    // A slow trace (seconds per query under load) stops at the phase's time cap, with at least
    // traceQueriesMin samples: the report says how many were taken.
    const deadline = performance.now() + traceMsMax;
    for (let i = 0; i < queries; i++) {
      if (i >= traceQueriesMin && performance.now() > deadline) break;
      const h = rows[i % rows.length]!;
      const t = performance.now();
      const traces = await traceHouseholdUp(db, county, h.household_id);
      samples.push(performance.now() - t);
      if (traces.length !== h.n)
        throw new Error(`trace of ${h.household_id}: ${traces.length} payments, books hold ${h.n}`);
      bar.update(i + 1);
    }
    bar.stop();
  }
  samples.sort((a, b) => a - b);
  return {
    queries: samples.length,
    paymentsPerHousehold: rows[0]?.n ?? 0,
    totalPayments: all[0]?.n ?? 0,
    p50Ms: round2(percentile(samples, 0.5)),
    p99Ms: round2(percentile(samples, 0.99)),
  };
}

/** What the roster phase reports (the household ids stay in the process, for the CLI roster). */
export interface RosterFigures {
  rows: number;
  events: number;
  ms: number;
  perS: number;
  baseline: Rate;
  avgEventBytes: number;
  /** Households imported through registry-api's HTTP import to reach the row count, and how long it took. */
  topUp: { households: number; events: number; ms: number } | null;
  /** How long the roster waited for ledger-api's registry tail to cover every imported household. */
  registryWaitMs: number;
}

/** Sum of the events a command of the roster should append: one per row plus the roster's own record. */
const rosterEventsFor = (rows: number) => rows + 1;

/**
 * ledger-api learns of households by tailing the registry; a roster decided before the tail has
 * caught up would refuse (or, as in the first run, book a fraction of) the households just
 * imported. Waits until the writer's registry position (GET …/summary, registrySeq) covers the
 * REGISTRY stream's last sequence.
 */
async function untilRegistryCovered(nc: NatsConnection, ledgerUrl: string, token: string, ns: string) {
  const jsm = await jetstreamManager(nc);
  const target = (await jsm.streams.info(`${ns}_REGISTRY_${county}`)).state.last_seq;
  const started = performance.now();
  for (;;) {
    const response = await fetch(`${ledgerUrl}/v1/partitions/${county}/summary`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const body = (await response.json()) as { registrySeq?: number };
    if (response.ok && typeof body.registrySeq === 'number' && body.registrySeq >= target)
      return performance.now() - started;
    if (performance.now() - started > registryWaitMsMax)
      throw new Error(
        `ledger-api's registry tail is at ${body.registrySeq} after ${registryWaitMsMax / 1000} s, the registry at ${target}`,
      );
    await new Promise((r) => setTimeout(r, checkpointPollMs * 4));
  }
}

/** The roster's households, and the households imported to reach the target's row count. */
export interface RosterHouseholds {
  householdIds: string[];
  topUp: RosterFigures['topUp'];
}

/**
 * The step's payable households (enrolled, with a bound card), read from the data set's own
 * registry imports (the books are not projected yet); in the largest step, more households
 * imported through registry-api's HTTP import, as a clerk would, until there are `topUpTo`.
 */
async function rosterHouseholdsFor(
  commandsFile: string,
  endpoints: Endpoints,
  ns: string,
  o: BenchOptions,
  topUpTo: number,
): Promise<RosterHouseholds> {
  const householdIds: string[] = [];
  const lines = createInterface({
    input: createReadStream(commandsFile),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  for await (const text of lines) {
    // Only registry lines need parsing (a few among hundreds of thousands of ledger lines).
    if (!text.includes('"service":"registry"')) continue;
    const line = JSON.parse(text) as CommandLine;
    if (line.service !== 'registry' || line.path !== 'imports' || line.partition !== county) continue;
    const body = line.body as { header: string[]; rows: SourceRow[] };
    const parsed = parseHouseholdRows(body.header, body.rows);
    if (parsed.errors.length > 0)
      throw new Error(`the data set's registry import has bad rows: ${JSON.stringify(parsed.errors[0])}`);
    for (const { input } of parsed.households)
      if (input.status !== 'lifted' && input.account !== null) householdIds.push(input.householdId);
  }
  householdIds.sort();
  householdIds.splice(topUpTo > 0 ? topUpTo : targetRosterRows);
  // A county below the target's 50,000 payable households gets more, imported as a clerk would.
  let topUp: RosterFigures['topUp'] = null;
  if (householdIds.length < topUpTo) {
    const need = topUpTo - householdIds.length;
    const extra = generateHouseholds({
      county,
      villages: 40,
      // Half are lifted out of poverty or lack a card; generate enough that `need` are payable.
      count: need * 2 + 100,
      seed: `roster-${ns}`,
      liftedShare: 0,
      firstNumber: 5_000_000,
      // Birth regions the data set's households never use, so no ID number clashes.
      birthRegions: ['410102', '410103', '410104'],
    }).filter((h) => h.account !== null && h.status !== 'lifted');
    const payable = extra.slice(0, need);
    const importRows: { row: number; cells: string[] }[] = [];
    for (const h of payable)
      for (const cells of householdToRows(h)) importRows.push({ row: importRows.length + 2, cells });
    const t = performance.now();
    const events = await sendCommand(
      {
        service: 'registry',
        partition: county,
        path: 'imports',
        group: null,
        body: { commandId: `roster-import-${ns}`, header: householdHeader, rows: importRows },
      },
      endpoints,
    );
    topUp = { households: payable.length, events, ms: Math.round(performance.now() - t) };
    o.log(
      `  imported ${payable.length.toLocaleString('en')} more households (${events.toLocaleString('en')} events) through registry-api in ${secs(topUp.ms)}`,
    );
    for (const h of payable) householdIds.push(h.householdId);
  }
  return { householdIds, topUp };
}

async function measureRoster(
  nc: NatsConnection,
  ledger: RunningService,
  endpoints: Endpoints,
  ns: string,
  o: BenchOptions,
  { householdIds, topUp }: RosterHouseholds,
): Promise<RosterFigures> {
  const registryWaitMs = Math.round(await untilRegistryCovered(nc, ledger.url, endpoints.tokens.finance, ns));
  const rows = householdIds.map((householdId, i) => ({
    row: i + 2,
    householdId,
    quantity: 1,
    amountFen: rosterAmountFen,
  }));
  const body = JSON.stringify({
    commandId: `bench-roster-${ns}`,
    rosterId: 'RS-BENCH-INSURANCE',
    // 医疗保险代缴 needs no notice, so the roster is decided on eligibility and money alone.
    programmeCode: 'insurance_premium',
    period: '2025',
    accountId: 'POOL',
    noticeId: null,
    rows,
  });
  o.log(
    `  roster of ${rows.length.toLocaleString('en')} rows through ledger-api (registry tail waited ${secs(registryWaitMs)})`,
  );
  const t = performance.now();
  const response = await fetch(`${ledger.url}/v1/partitions/${county}/rosters`, {
    method: 'POST',
    headers: { authorization: `Bearer ${endpoints.tokens.finance}`, 'content-type': 'application/json' },
    body,
  });
  const text = await response.text();
  const ms = performance.now() - t;
  if (response.status !== 201) throw new Error(`roster: ${response.status} ${text.slice(0, 400)}`);
  const result = JSON.parse(text) as { eventCount: number; firstSeq: number; lastSeq: number };
  o.log(
    `  roster: ${result.eventCount} events, seq ${result.firstSeq}–${result.lastSeq}, ${Math.round(ms)} ms`,
  );
  // A roster that books fewer payments than it has rows is a failure, not a fast roster.
  if (
    result.eventCount !== rosterEventsFor(rows.length) ||
    result.lastSeq - result.firstSeq + 1 !== result.eventCount
  )
    throw new Error(
      `roster of ${rows.length} rows appended ${result.eventCount} events (seq ${result.firstSeq}–${result.lastSeq}), expected ${rosterEventsFor(rows.length)}`,
    );
  // The baseline re-publishes the very bytes the writer stored, 1,000 in flight.
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  const stream = `${ns}_LEDGER_${county}`;
  const bytes: Uint8Array[] = [];
  const consumer = await js.consumers.get(stream, {
    deliver_policy: 'by_start_sequence' as never,
    opt_start_seq: result.firstSeq,
  });
  const messages = await consumer.consume({ max_messages: 1_000 });
  for await (const m of messages) {
    bytes.push(m.data);
    if (m.seq >= result.lastSeq) break;
  }
  await messages.close();
  await jsm.streams.add({ name: `${ns}_ROSTER_BASELINE`, subjects: [`${ns}.roster-baseline.>`] });
  const bar = progressBar('roster baseline publish', bytes.length, o.tty);
  const baseline = await publishPipelined(js, `${ns}.roster-baseline.p`, bytes, bar);
  bar.stop();
  const perS = Math.round((result.eventCount / ms) * 1000);
  const avgEventBytes = Math.round(bytes.reduce((s, b) => s + b.length, 0) / Math.max(1, bytes.length));
  return {
    rows: rows.length,
    events: result.eventCount,
    ms: Math.round(ms),
    perS,
    baseline,
    avgEventBytes,
    topUp,
    registryWaitMs,
  };
}

export interface RosterCliFigures {
  rows: number;
  events: number;
  /** From starting `fundtrace ledger import roster` to its exit: read the CSV, dry run, append. */
  ms: number;
  perS: number;
}

/**
 * The same households as a roster file a clerk imports with the CLI (`fundtrace ledger import
 * roster`, a child process against the running ledger-api): CSV read, every row checked by a dry
 * run, then appended. Counted from the LEDGER stream, not from the CLI's words.
 */
async function measureRosterCli(
  nc: NatsConnection,
  ledger: RunningService,
  endpoints: Endpoints,
  ns: string,
  o: BenchOptions,
  householdIds: readonly string[],
): Promise<RosterCliFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'fundtrace-bench-roster-'));
  try {
    const file = join(dir, 'roster.csv');
    const yuan = `${Number(rosterAmountFen) / 100}`;
    // A later period than the HTTP roster's, so no row repeats a payment already booked.
    const lines = [
      '户编号,项目代码,金额(元),期间,数量',
      ...householdIds.map((h) => `${h},insurance_premium,${yuan},2026,1`),
    ];
    writeFileSync(file, `${lines.join('\n')}\n`);
    const jsm = await jetstreamManager(nc);
    const stream = `${ns}_LEDGER_${county}`;
    const before = (await jsm.streams.info(stream)).state.last_seq;
    o.log(`  roster of ${householdIds.length.toLocaleString('en')} rows through the CLI import`);
    const t = performance.now();
    await runChild(
      [
        join(repoRoot, 'packages/cli/src/main.ts'),
        'ledger',
        'import',
        'roster',
        file,
        '--partition',
        county,
        '--roster-id',
        'RS-BENCH-CLI',
        '--url',
        ledger.url,
        '--token',
        endpoints.tokens.finance,
      ],
      'fundtrace ledger import roster',
    );
    const ms = performance.now() - t;
    const events = (await jsm.streams.info(stream)).state.last_seq - before;
    if (events !== rosterEventsFor(householdIds.length))
      throw new Error(
        `the CLI roster of ${householdIds.length} rows appended ${events} events, expected ${rosterEventsFor(householdIds.length)}`,
      );
    o.log(`  CLI roster: ${events} events in ${secs(ms)}`);
    return { rows: householdIds.length, events, ms: Math.round(ms), perS: Math.round((events / ms) * 1000) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs a node script (tsx) of the repository as a child process; rejects with its stderr on a non-zero exit. */
function runChild(args: string[], what: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
      cwd: repoRoot,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => {
      stderr = (stderr + c.toString()).slice(-4_000);
    });
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${what} exited ${code}: ${stderr}`)),
    );
  });
}

/** A counter of a service's /metrics (prom-client text), 0 when absent. */
async function counter(serviceUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${serviceUrl}/metrics`)).text();
  const match = new RegExp(`^${name} (\\d+(?:\\.\\d+)?)$`, 'm').exec(text);
  return match ? Number(match[1]) : 0;
}

async function measureNotice(
  books: Kysely<Database>,
  env: StackEnv,
  port: number,
  ledgerUrl: string,
  services: RunningService[],
  o: BenchOptions,
) {
  if (o.noticeSeconds <= 0) return null;
  const { rows } = await sql<{ village_code: string }>`
    select village_code from households where partition = ${county} group by village_code order by count(*) desc limit 1`.execute(
    books,
  );
  const village = rows[0]?.village_code;
  if (village === undefined) return null;
  const board = await startService('notice-board', port, env, {
    LEDGER_API_URL: ledgerUrl,
    // The bench is one client hammering one page; the per-client limit would measure itself.
    NOTICE_PAGES_PER_MINUTE: String(1_000_000_000),
  });
  services.push(board);
  const url = `${board.url}/r/${village}`;
  const warm = await fetch(url);
  if (!warm.ok) throw new Error(`notice board ${url}: ${warm.status}`);
  await warm.text();
  o.log(`  notice board ${url} for ${o.noticeSeconds} s (projector caught up, nothing appending)`);
  // The page cache is keyed on the books' version: a version change during the measurement
  // would make it measure page builds, so the report says how many happened (0 = books still).
  const versionsBefore = await counter(board.url, 'notice_board_version_changes_total');
  const buildsBefore = await counter(board.url, 'notice_board_page_builds_total');
  const result = await autocannon({ url, connections: 10, duration: o.noticeSeconds });
  const versionChanges = (await counter(board.url, 'notice_board_version_changes_total')) - versionsBefore;
  const builds = (await counter(board.url, 'notice_board_page_builds_total')) - buildsBefore;
  await board.stop();
  return {
    url: `/r/${village}`,
    seconds: o.noticeSeconds,
    requestsPerS: Math.round(result.requests.average),
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    versionChanges,
    builds,
  };
}

/** How the end-to-end phase sends, the same against the writer and against the trivial server. */
function e2eLoad(o: BenchOptions) {
  return {
    rate: o.e2eRate,
    // A writer slower than the rate would stretch the phase (10,000 commands at 200/s are 50 s):
    // sending stops at twice the phase's length and the achieved rate says what was held.
    durationMs: o.e2eSeconds * 2_000,
    inFlightMax: e2eInFlightMax,
    socketsMax: e2eSocketsMax,
    warmUpPath: '/health',
  };
}

/** The body of end-to-end command `i`: an account opened (the cheapest command that is always valid). */
export function e2eBody(ns: string, i: number): string {
  return JSON.stringify({
    commandId: `e2e-${ns}-${i}`,
    accountId: `E2E-${i}`,
    kind: 'implementing_unit',
    name: `单位 ${i}`,
  });
}

/**
 * Opens accounts at a steady rate, open loop (src/open-loop.ts), and times each from request to
 * its 201 (accepted) and from its 201 to the moment the projector's checkpoint passes its
 * sequence, i.e. the moment audit-api's queries can see it.
 */
async function measureE2e(
  admin: Kysely<unknown>,
  schema: string,
  durable: string,
  ns: string,
  endpoints: Endpoints,
  o: BenchOptions,
) {
  if (o.e2eSeconds <= 0) return null;
  const stream = `${ns}_LEDGER_${county}`;
  const accepted = new Map<number, number>();
  const latencies: number[] = [];
  let stop = false;
  let giveUpAt = Number.POSITIVE_INFINITY;
  const watcher = (async () => {
    while ((!stop || accepted.size > 0) && performance.now() < giveUpAt) {
      // A poll that fails under load (a connection timeout) is retried: it loses no sample.
      const polled = await sql<{ s: string | null }>`
        select last_seq::text as s from ${sql.table(`${schema}.projection_checkpoints`)}
        where consumer = ${durable} and stream = ${stream}`
        .execute(admin)
        .catch(() => null);
      if (polled !== null) {
        const visible = Number(polled.rows[0]?.s ?? 0);
        const now = performance.now();
        for (const [seq, at] of accepted)
          if (seq <= visible) {
            latencies.push(now - at);
            accepted.delete(seq);
          }
      }
      await new Promise((r) => setTimeout(r, visiblePollMs));
    }
  })();
  o.log(`  end-to-end at ${o.e2eRate}/s for ${o.e2eSeconds} s`);
  const sent = await openLoop({
    ...e2eLoad(o),
    url: `${endpoints.ledgerUrl}/v1/partitions/${county}/accounts`,
    headers: { authorization: `Bearer ${endpoints.tokens.finance}` },
    total: o.e2eRate * o.e2eSeconds,
    body: (i) => e2eBody(ns, i),
    onAccepted: (body, at) => {
      if (typeof body.lastSeq !== 'number') throw new Error(`201 without lastSeq: ${JSON.stringify(body)}`);
      accepted.set(body.lastSeq, at);
    },
  });
  stop = true;
  giveUpAt = performance.now() + e2eVisibleTimeoutMs;
  await watcher;
  if (sent.failures > 0)
    throw new Error(`${sent.failures} end-to-end commands failed, first: ${sent.firstFailure}`);
  if (accepted.size > 0) throw new Error(`${accepted.size} accepted commands never became visible`);
  latencies.sort((a, b) => a - b);
  return {
    targetPerS: o.e2eRate,
    achievedPerS: sent.achievedPerS,
    commands: sent.sent,
    sendSlipMs: sent.sendSlipMs,
    generatorCpuUsPerRequest: sent.cpuUsPerRequest,
    visiblePollMs,
    p50Ms: round2(percentile(latencies, 0.5)),
    p99Ms: round2(percentile(latencies, 0.99)),
    acceptP50Ms: round2(percentile(sent.acceptLatencies, 0.5)),
    acceptP99Ms: round2(percentile(sent.acceptLatencies, 0.99)),
  };
}

/**
 * A phase whose failure (the machine too loaded to hold the rate, a service refusing) is
 * reported in place of its figure rather than losing every other figure of the run.
 */
async function optional<T>(
  name: string,
  o: BenchOptions,
  run: () => Promise<T | null>,
): Promise<T | { error: string } | null> {
  try {
    return await run();
  } catch (error) {
    o.log(`  ${name} failed: ${String(error).slice(0, 500)}`);
    return { error: String(error).slice(0, 500) };
  }
}

function loadAverage(): number[] {
  return loadavg().map(round2);
}

function secs(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
