import { defaultDatabaseServerUrl, defaultNatsUrl } from '@fundtrace/devstack';
import { connectNats } from '@fundtrace/eventlog';
import { jetstreamManager } from '@nats-io/jetstream';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  benchPrefix,
  claimNamespace,
  createMarkedDatabase,
  dropMarkedDatabase,
  markerStream,
  newRunToken,
  RefusedError,
  releaseNamespace,
} from '../src/guard';
import { markdownReport, targetsOf } from '../src/report';
import { type RosterFigures, runBench } from '../src/run';

// Proves the suite still runs end to end at a tiny scale against the machine's real NATS and
// PostgreSQL (services spawned as in production), and that it never touches what it did not
// create. No figure is asserted: timings belong to `pnpm bench`, not to tests.

const natsUrl = process.env.NATS_URL ?? defaultNatsUrl;
const serverUrl = process.env.DATABASE_SERVER_URL ?? defaultDatabaseServerUrl;

async function benchDatabases(): Promise<string[]> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>(
      'select datname from pg_database where datname like $1',
      [`${benchPrefix}%`],
    );
    return rows.map((r) => r.datname);
  } finally {
    await client.end();
  }
}

describe('guard: only what the run created', () => {
  const nc = connectNats(natsUrl, { name: 'bench-guard-test' });
  afterAll(async () => (await nc).close());

  it('refuses to delete a namespace whose marker names another run, and deletes its own', async () => {
    const jsm = await jetstreamManager(await nc);
    const token = newRunToken();
    const ns = `${benchPrefix}${token}g`;
    await claimNamespace(jsm, ns, token);
    await jsm.streams.add({ name: `${ns}_LEDGER_411325`, subjects: [`${ns}.ledger.411325.>`] });
    await expect(releaseNamespace(jsm, ns, 'othertoken')).rejects.toBeInstanceOf(RefusedError);
    await expect(claimNamespace(jsm, ns, token)).rejects.toThrow(/exists/);
    const deleted = await releaseNamespace(jsm, ns, token);
    expect(deleted).toEqual([`${ns}_LEDGER_411325`, markerStream(ns)]);
  });

  it('refuses a namespace that is not a benchmark namespace or has no marker', async () => {
    const jsm = await jetstreamManager(await nc);
    await expect(claimNamespace(jsm, 'production', 'x')).rejects.toBeInstanceOf(RefusedError);
    await expect(releaseNamespace(jsm, `${benchPrefix}nomarker`, 'x')).rejects.toBeInstanceOf(RefusedError);
  });

  it('refuses to drop a database without its marker, and to create one that exists', async () => {
    const token = newRunToken();
    const name = `${benchPrefix}_${token}_guard`;
    await createMarkedDatabase(serverUrl, name, token);
    await expect(createMarkedDatabase(serverUrl, name, token)).rejects.toBeInstanceOf(RefusedError);
    await expect(dropMarkedDatabase(serverUrl, name, 'othertoken')).rejects.toBeInstanceOf(RefusedError);
    await expect(dropMarkedDatabase(serverUrl, 'postgres', token)).rejects.toBeInstanceOf(RefusedError);
    await dropMarkedDatabase(serverUrl, name, token);
    expect(await benchDatabases()).not.toContain(name);
  });
});

describe('pnpm bench at a tiny scale', () => {
  let before: string[];
  beforeAll(async () => {
    before = await benchDatabases();
  });

  it('runs every phase, reports every target, and leaves nothing behind', { timeout: 900_000 }, async () => {
    const lines: string[] = [];
    const result = await runBench({
      households: 40,
      steps: [1],
      baselineMessages: 300,
      rosterRows: 0,
      traceQueries: 5,
      noticeSeconds: 1,
      e2eRate: 20,
      e2eSeconds: 1,
      traceScalePayments: 2_000,
      traceScaleSamples: 20,
      seed: 'smoke',
      natsUrl,
      databaseServerUrl: serverUrl,
      tty: false,
      log: (line) => lines.push(line),
    });
    expect(result.steps).toHaveLength(1);
    const step = result.steps[0]!;
    expect(step.events).toBeGreaterThan(0);
    expect(step.load.count).toBeGreaterThan(0);
    expect(step.naive.count).toBe(step.events);
    expect(step.naiveDecoding?.count).toBe(step.events);
    // The replay runs last, over the whole log: the end-to-end phase's accounts (one event each) too.
    const e2e = step.e2e as { commands: number };
    expect(step.replay.count).toBe(step.events + e2e.commands);
    expect(step.trace.queries).toBe(5);
    // The data set went in through the writers' own code, bank answers in bulk.
    expect(step.loadDetail.groupCommands).toBeGreaterThan(0);
    expect(step.loadDetail.groupEvents).toBe(step.loadDetail.groupCommands);
    // One event per row plus the roster's own record, through HTTP and through the CLI import.
    const roster = step.roster as RosterFigures;
    expect(roster).not.toHaveProperty('error');
    expect(roster.events).toBe(roster.rows + 1);
    expect(roster.baseline.count).toBe(roster.events);
    expect(step.rosterCli).toMatchObject({ rows: roster.rows, events: roster.rows + 1 });
    // The board was measured with the books still (its page cache is keyed on their version).
    expect(step.notice).toMatchObject({ versionChanges: 0 });
    expect(step.e2e).not.toHaveProperty('error');
    // Every phase is in the step's time budget, replay last (with the services stopped).
    expect(step.budget?.map((p) => p.phase).slice(-3)).toEqual([
      'stop the services',
      expect.stringMatching(/^replay into a fresh schema/),
      'remove its streams and database',
    ]);
    expect(result.baselines.generator).toMatchObject({ askedPerS: 20 });
    // Trace at scale ran (or says plainly it could not), never a figure from elsewhere.
    expect(result.traceAtScale).toBeDefined();
    expect(result.traceAtScale).not.toHaveProperty('error');
    const names = targetsOf(result).map((t) => t.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'projection, realistic mix',
        'rebuild (replay into a fresh schema)',
        'trace household → roots, 1M payments',
        'trace household → roots, the county step',
        'writer state (ledger-api RSS)',
        'end-to-end at a steady 1,000 commands/s',
        'notice board village page',
      ]),
    );
    const machine = {
      cpu: 'x',
      cores: 1,
      memoryGiB: 1,
      node: 'v',
      nats: 'n',
      postgres: 'p',
      os: 'o',
      loadAverageStart: [0],
      loadAverageEnd: [0],
    };
    expect(markdownReport(result, machine, 'pnpm bench', '')).toContain(
      '## Targets named by the other issues',
    );
    // Cleanup: no database or stream of this run remains.
    expect(await benchDatabases()).toEqual(before);
    const nc = await connectNats(natsUrl, { name: 'bench-smoke-check' });
    const jsm = await jetstreamManager(nc);
    const left: string[] = [];
    for await (const name of jsm.streams.names())
      if (name.startsWith(`${benchPrefix}${result.token}`)) left.push(name);
    await nc.close();
    expect(left).toEqual([]);
  });
});
