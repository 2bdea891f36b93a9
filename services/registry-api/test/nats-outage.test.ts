import { type HouseholdInputParsed, householdHeader, householdToRows } from '@fundtrace/pii';
import { type PrivateNats, startPrivateNats, useTestInfra } from '@fundtrace/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, piiEnv, type StartedApi, startApi, tokenFor } from './api-helpers';
import { sampleHouseholds } from './helpers';

/**
 * registry-api while its NATS is away (a private nats-server killed under it): an import's dry run
 * decides against the county's state in memory, so it still answers — a clean file with its
 * counts, a file clashing with households already registered with every bad row — while a real
 * import and a single registration are refused at once with 503 nats_unavailable and append
 * nothing. Once NATS is back, the same import with the same command id lands.
 */
const infra = useTestInfra({ nats: false });
let nats: PrivateNats;
let api: StartedApi;
let registry: string;
const households = sampleHouseholds(12, 77);
const registered = households.slice(0, 4);
const incoming = households.slice(4);
const base = '/v1/partitions/411325';

const rowsOf = (list: readonly HouseholdInputParsed[]) =>
  list.flatMap((h) => householdToRows(h)).map((cells, i) => ({ row: i + 2, cells }));

async function post(url: string, payload: object) {
  const response = await api.app.inject({ method: 'POST', url, headers: auth(registry), payload });
  return { status: response.statusCode, body: response.json(), headers: response.headers };
}

async function importFinished(commandId: string, first: { status: number; body: { status: string } }) {
  expect([200, 202], JSON.stringify(first.body)).toContain(first.status);
  let job = first.body;
  for (let i = 0; i < 400 && job.status === 'appending'; i++) {
    await new Promise((r) => setTimeout(r, 50));
    job = (
      await api.app.inject({ method: 'GET', url: `${base}/imports/${commandId}`, headers: auth(registry) })
    ).json();
  }
  expect(job.status).toBe('done');
}

beforeAll(async () => {
  nats = await startPrivateNats({ jetstream: true });
  api = await startApi({ ns: infra.ns, databaseUrl: infra.databaseUrl }, { ...piiEnv(), NATS_URL: nats.url });
  registry = await tokenFor('registry');
});
afterAll(async () => {
  await api?.app.close();
  await nats?.stop();
});

describe('registry-api imports while NATS is away', () => {
  it('answers dry runs from memory, refuses real imports and commands, and imports once NATS is back', async () => {
    const writer = api.counties.get('411325')!.writer;
    await importFinished(
      'imp-before',
      await post(`${base}/imports`, {
        commandId: 'imp-before',
        header: householdHeader,
        rows: rowsOf(registered),
      }),
    );
    const lastSeq = writer.state.lastSeq;
    expect(writer.state.households.size).toBe(registered.length);

    await nats.kill('SIGKILL');
    await expect.poll(() => api.logLines.join('\n'), { timeout: 30_000 }).toContain('NATS disconnected');

    const clean = rowsOf(incoming);
    const dry = await post(`${base}/imports`, {
      commandId: 'imp-after',
      dryRun: true,
      header: householdHeader,
      rows: clean,
    });
    expect(dry.status, JSON.stringify(dry.body)).toBe(200);
    expect(dry.body).toEqual({ dryRun: true, rows: clean.length, households: incoming.length });

    // Decided against the households registered before the outage: the same file again clashes.
    const clashing = await post(`${base}/imports`, {
      commandId: 'imp-clash',
      dryRun: true,
      header: householdHeader,
      rows: rowsOf([...incoming.slice(0, 2), registered[0]!]),
    });
    expect(clashing.status, JSON.stringify(clashing.body)).toBe(422);
    expect(clashing.body.error.code).toBe('import_rows_invalid');
    const clashRows = new Set(clashing.body.error.details.errors.map((e: { row: number }) => e.row));
    const firstClashRow = rowsOf(incoming.slice(0, 2)).length + 2;
    expect([...clashRows].every((row) => (row as number) >= firstClashRow)).toBe(true);
    expect(clashRows.size).toBeGreaterThan(0);

    for (const [label, url, payload] of [
      [
        'the real import',
        `${base}/imports`,
        { commandId: 'imp-after', header: householdHeader, rows: clean },
      ],
      ['a registration', `${base}/households`, { commandId: 'reg-during', household: incoming[0] }],
    ] as const) {
      const refused = await post(url, payload);
      expect(refused.status, label).toBe(503);
      expect(refused.body.error.code, label).toBe('nats_unavailable');
      expect(refused.headers['retry-after'], label).toMatch(/^[1-9][0-9]*$/);
    }
    expect(writer.state.lastSeq).toBe(lastSeq);
    expect(writer.state.households.size).toBe(registered.length);

    await nats.restart();
    await expect.poll(() => api.logLines.join('\n'), { timeout: 30_000 }).toContain('NATS reconnected');
    await importFinished(
      'imp-after',
      await post(`${base}/imports`, { commandId: 'imp-after', header: householdHeader, rows: clean }),
    );
    expect(writer.state.households.size).toBe(households.length);
  });
});
