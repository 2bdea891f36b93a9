import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { durableFor, rebuildBooks, traceHouseholdUp } from '@fundtrace/books';
import { createDb, type Database, getActiveSchema, migrateToLatest } from '@fundtrace/db';
import { connectNats } from '@fundtrace/eventlog';
import { generateHouseholds, householdHeader, householdToRows } from '@fundtrace/pii';
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
import { type Endpoints, sendCommand } from './load';
import { progressBar } from './progress';
import {
  type RunningService,
  repoRoot,
  type StackEnv,
  startService,
  stopAllServices,
  tokensFor,
} from './stack';
import { percentile } from './stats';

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
/** Outstanding end-to-end requests at most (one HTTP client's sensible connection budget). */
const e2eInFlightMax = 256;
/** An accepted command not visible in the books after this long is lost, not late. */
const e2eVisibleTimeoutMs = 60_000;
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
  naive: Rate;
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
    | { url: string; seconds: number; requestsPerS: number; p99Ms: number; non2xx: number }
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
      }
    | { error: string }
    | null;
}

export interface BenchResult {
  token: string;
  startedAt: string;
  finishedAt: string;
  baselines: { publish: Rate; consume: Rate; insert: Rate; copy: Rate; payloadBytes: number };
  steps: StepResult[];
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
    const baselines = await runBaselines(nc, url, ns, options);
    const steps: StepResult[] = [];
    const partial = (): BenchResult => {
      const missing = options.steps.slice(steps.length).map((f) => `${Math.round(f * 100)}%`);
      return {
        token,
        startedAt,
        finishedAt: new Date().toISOString(),
        baselines,
        steps: [...steps],
        cleanup,
        interrupted: `steps not measured: ${missing.join(', ')} (the run was cut short or is still running)`,
      };
    };
    options.onProgress?.(partial());
    // The largest step measures the targets stated for a fixed size (the 50,000-row roster),
    // wherever it stands in the order (run first, it is measured even if the run is cut short).
    const largest = Math.max(...options.steps);
    for (const [i, fraction] of options.steps.entries()) {
      const stepNs = `${benchPrefix}${token}s${i}`;
      await claimNamespace(jsm, stepNs, token);
      owned.ns.push(stepNs);
      const stepDb = `${benchPrefix}_${token}_s${i}`;
      const stepUrl = await createMarkedDatabase(options.databaseServerUrl, stepDb, token);
      owned.dbs.push(stepDb);
      steps.push(await runStep(nc, stepUrl, stepNs, fraction, options, fraction === largest));
      // Each step's data is dropped before the next, so steps do not compete for disk cache.
      cleanup.push(...(await releaseNamespace(jsm, stepNs, token)));
      owned.ns = owned.ns.filter((n) => n !== stepNs);
      await dropMarkedDatabase(options.databaseServerUrl, stepDb, token);
      owned.dbs = owned.dbs.filter((d) => d !== stepDb);
      cleanup.push(stepDb);
      if (steps.length < options.steps.length) options.onProgress?.(partial());
    }
    return { token, startedAt, finishedAt: new Date().toISOString(), baselines, steps, cleanup };
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
  return { publish, consume, insert, copy, payloadBytes: baselinePayloadBytes };
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
  const total = [...(await streamTails(nc, ns)).values()].reduce((a, b) => a + b, 0);
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
  const admin = createDb<unknown>(url, { max: 2, applicationName: 'fundtrace-bench' });
  try {
    // The shared tables (merkle checkpoints the notice board reads), as `npm start` migrates them.
    await migrateToLatest(admin as never);
    const generateMs = await generate(households, `${o.seed}-${households}`, dir);
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
    const registry = await startService('registry-api', registryPort!, env);
    services.push(registry);
    const endpoints: Endpoints = {
      registryUrl: registry.url,
      // ledger-api starts once the data set is loaded: that start is the cold start measured.
      ledgerUrl: '',
      tokens: await tokensFor(secrets.JWT_SECRET),
    };

    // 1. Load the data set through the writers' own code path, in bulk (src/bulk-load.ts).
    let bar = progressBar('load through the writers (commands)', summary.commands, o.tty);
    const loaded = await bulkLoad(join(dir, 'commands.ndjson'), {
      js: jetstream(nc),
      jsm: await jetstreamManager(nc),
      ns,
      endpoints,
      progress: bar,
    });
    bar.stop();
    o.log(
      `  loaded ${loaded.events.toLocaleString('en')} events: registry imports ${secs(loaded.registryMs)}, ledger ${secs(loaded.ledgerMs)} (${loaded.groupCommands.toLocaleString('en')} bank answers as ${loaded.groupEvents.toLocaleString('en')} events in bulk)`,
    );
    const load = rate(loaded.events, loaded.ms);
    const tails = await streamTails(nc, ns);
    const total = [...tails.values()].reduce((a, b) => a + b, 0);

    // 2. The naive pipeline over these streams (its rate is flat in size: a prefix is enough).
    const naiveEvents = Math.min(total, naiveEventsMax);
    bar = progressBar('naive pipeline (pull→INSERT→ack)', naiveEvents, o.tty);
    const naive = await naivePipeline(nc, url, tails, 'naive', bar, naiveEvents);
    bar.stop();

    // 3. The projector service catching up from sequence 1 (live mode, realistic mix).
    const projector = await startService('projector', projectorPort!, env, { PROJECTOR_SCHEMA: 'books' });
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

    // 4. Replay: every read model rebuilt from sequence 1 into a fresh schema.
    bar = progressBar('replay into a fresh schema', total, o.tty);
    const rebuilt = await rebuildBooks({ url, nc, ns, schema: 'replay', onProgress: (n) => bar.update(n) });
    bar.stop();
    const replay = rate(rebuilt.applied, rebuilt.elapsedMs);

    // 5. Trace: the households with the most payments, up to their root allocations.
    const books = createDb<Database>(url, { schema, max: 2, applicationName: 'fundtrace-bench' });
    const trace = await measureTrace(books, o.traceQueries);

    // 6. Writer cold start: ledger-api started over the whole data set (rebuild to /health).
    const writerEvents = [...(await streamTails(nc, ns)).entries()]
      .filter(([k]) => k.includes('_LEDGER_'))
      .reduce((a, [, v]) => a + v, 0);
    o.log(`  ledger-api cold start over ${writerEvents.toLocaleString('en')} events`);
    const ledger = await startService('ledger-api', ledgerPort!, env);
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

    // 7. Roster append: one roster of up to 50,000 rows, HTTP request to last acked event,
    //    against the same bytes re-published plainly with 1,000 in flight; then the same size
    //    through the CLI import (CSV file → dry run → append).
    const roster = await optional('roster', o, () =>
      measureRoster(nc, books, ledger, endpoints, ns, o, last ? o.rosterRows : 0),
    );
    const rosterCli =
      roster !== null && !('error' in roster)
        ? await optional('roster through the CLI', o, () =>
            measureRosterCli(nc, ledger, endpoints, ns, o, roster.householdIds),
          )
        : null;

    // 8. Notice board: a village page from cache.
    const notice = await optional('notice board', o, () =>
      measureNotice(books, env, noticePort!, ledger.url, services, o),
    );

    // 9. End-to-end: command accepted → visible in the books audit-api reads. The rosters and
    //    the registry import above left the projector a backlog; timed from a caught-up
    //    projector, or every latency would include that backlog (the 16:03 run's did: ~66 s).
    const e2e = await optional('end-to-end', o, async () => {
      await untilProjected(admin, schema, durable, nc, ns, e2eVisibleTimeoutMs * 10);
      return measureE2e(admin, schema, durable, ns, endpoints, o);
    });
    await books.destroy();
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
      projector: projectorRate,
      replay,
      trace,
      writer,
      roster: roster === null || 'error' in roster ? roster : withoutIds(roster),
      rosterCli,
      notice,
      e2e,
    };
  } finally {
    for (const s of services.reverse()) await s.stop();
    await admin.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
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

async function measureTrace(db: Kysely<Database>, queries: number) {
  const { rows } = await sql<{ household_id: string; n: number }>`
    select household_id, count(*)::int as n from payments where partition = ${county}
    group by household_id order by n desc, household_id limit 50`.execute(db);
  const { rows: all } = await sql<{ n: number }>`select count(*)::int as n from payments`.execute(db);
  const samples: number[] = [];
  if (rows.length > 0) {
    for (let i = 0; i < queries; i++) {
      const h = rows[i % rows.length]!;
      const t = performance.now();
      const traces = await traceHouseholdUp(db, county, h.household_id);
      samples.push(performance.now() - t);
      if (traces.length !== h.n)
        throw new Error(`trace of ${h.household_id}: ${traces.length} payments, books hold ${h.n}`);
    }
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

function withoutIds(r: RosterFigures & { householdIds: string[] }): RosterFigures {
  const { householdIds: _, ...figures } = r;
  return figures;
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

async function measureRoster(
  nc: NatsConnection,
  books: Kysely<Database>,
  ledger: RunningService,
  endpoints: Endpoints,
  ns: string,
  o: BenchOptions,
  /** Add households until the roster has this many rows (0: the step's own households only). */
  topUpTo: number,
): Promise<RosterFigures & { householdIds: string[] }> {
  const { rows: households } = await sql<{ household_id: string }>`
    select household_id from households where partition = ${county} and status = 'registered' and account_hash is not null
    order by household_id limit ${topUpTo > 0 ? topUpTo : targetRosterRows}`.execute(books);
  const householdIds = households.map((h) => h.household_id);
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
    householdIds,
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
  o.log(`  notice board ${url} for ${o.noticeSeconds} s`);
  const result = await autocannon({ url, connections: 10, duration: o.noticeSeconds });
  return {
    url: `/r/${village}`,
    seconds: o.noticeSeconds,
    requestsPerS: Math.round(result.requests.average),
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
  };
}

/**
 * Opens accounts (the cheapest command that is always valid) at a steady rate, open loop, and
 * times each from its 201 (accepted) to the moment the projector's checkpoint passes its
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
  const total = o.e2eRate * o.e2eSeconds;
  const stream = `${ns}_LEDGER_${county}`;
  const accepted = new Map<number, number>();
  const latencies: number[] = [];
  const acceptLatencies: number[] = [];
  let visible = 0;
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
      if (polled === null) continue;
      const { rows } = polled;
      visible = Number(rows[0]?.s ?? 0);
      const now = performance.now();
      for (const [seq, at] of accepted)
        if (seq <= visible) {
          latencies.push(now - at);
          accepted.delete(seq);
        }
      await new Promise((r) => setTimeout(r, 2));
    }
  })();
  o.log(`  end-to-end at ${o.e2eRate}/s for ${o.e2eSeconds} s`);
  const started = performance.now();
  const pending: Promise<void>[] = [];
  let failures = 0;
  let firstFailure = '';
  let inFlight = 0;
  const window = new Set<Promise<void>>();
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / o.e2eRate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    // A writer slower than the asked rate backs the requests up; past this many outstanding the
    // schedule slips instead of opening sockets without bound, and the achieved rate says so.
    if (inFlight >= e2eInFlightMax) await Promise.race(window);
    inFlight++;
    const sentAt = performance.now();
    const request: Promise<void> = fetch(`${endpoints.ledgerUrl}/v1/partitions/${county}/accounts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${endpoints.tokens.finance}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        commandId: `e2e-${ns}-${i}`,
        accountId: `E2E-${i}`,
        kind: 'implementing_unit',
        name: `单位 ${i}`,
      }),
    })
      .then(async (r) => {
        const at = performance.now();
        const text = await r.text();
        const body = JSON.parse(text) as { lastSeq?: number | null };
        if (r.status !== 201 || typeof body.lastSeq !== 'number')
          throw new Error(`${r.status} ${text.slice(0, 300)}`);
        accepted.set(body.lastSeq, at);
        acceptLatencies.push(at - sentAt);
      })
      .catch((error: unknown) => {
        failures++;
        firstFailure ||= String(error);
      })
      .finally(() => {
        inFlight--;
        window.delete(request);
      });
    window.add(request);
    pending.push(request);
  }
  await Promise.all(pending);
  const sendMs = performance.now() - started;
  stop = true;
  giveUpAt = performance.now() + e2eVisibleTimeoutMs;
  await watcher;
  if (failures > 0) throw new Error(`${failures} end-to-end commands failed, first: ${firstFailure}`);
  if (accepted.size > 0) throw new Error(`${accepted.size} accepted commands never became visible`);
  latencies.sort((a, b) => a - b);
  acceptLatencies.sort((a, b) => a - b);
  return {
    targetPerS: o.e2eRate,
    achievedPerS: Math.round((total / sendMs) * 1000),
    commands: total,
    p50Ms: round2(percentile(latencies, 0.5)),
    p99Ms: round2(percentile(latencies, 0.99)),
    acceptP50Ms: round2(percentile(acceptLatencies, 0.5)),
    acceptP99Ms: round2(percentile(acceptLatencies, 0.99)),
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

function secs(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
