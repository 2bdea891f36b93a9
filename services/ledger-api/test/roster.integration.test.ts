import { lastSequence } from '@fundtrace/eventlog';
import { streamName } from '@fundtrace/events';
import { type App, signToken } from '@fundtrace/service-kit';
import { useTestInfra } from '@fundtrace/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Writers } from '../src/routes/shared';
import { startTestApp } from './app-fixture';
import { fundPool, recordDeaths, registerHouseholds } from './fixtures';

/**
 * A roster through the HTTP route against real NATS, as `pnpm bench` sends one:
 * households registered a moment before the roster, and a roster that names
 * households the registry does not know. A roster is all or nothing: every row
 * becomes a PaymentInstructed, or the request is refused naming each bad row
 * and nothing is appended; the answer says how many payments it booked.
 *
 * (The bench's "short roster" — 201 with 1,013 events for a 20,000-row roster —
 * was the client's: packages/bench serialised the request body before adding
 * the households it imported for the roster, so ledger-api received and booked
 * 1,012 rows. The answer's rowCount/paymentCount now make that visible.)
 */

const infra = useTestInfra({ database: false });
const secret = 'ledger-api-roster-test-secret-32-bytes!!';
const county = '411325';
let app: App;
let writers: Writers;
let token: string;
let counter = 0;

beforeAll(async () => {
  ({ app, writers } = await startTestApp(infra, {
    partitions: [county],
    jwtSecret: secret,
  }));
  token = await signToken(
    secret,
    { sub: 'u1', role: 'finance', org: '内乡县财政局', partitions: [county] },
    3600,
  );
  // 医疗保险代缴 money in POOL (fundPool's notice N1 is for 低保; the rosters here need none).
  await fundPool(writers.get(county)!, 100_000_000_000n, 'health');
});

afterAll(async () => {
  await app?.close();
});

async function post(path: string, body: Record<string, unknown>, query = '') {
  const response = await app.inject({
    method: 'POST',
    url: `/v1/partitions/${county}/${path}${query}`,
    headers: { authorization: `Bearer ${token}` },
    payload: { commandId: `c-${++counter}`, ...body },
  });
  return { status: response.statusCode, body: response.json() };
}

/** 医疗保险代缴 (insurance_premium) needs no notice: decided on eligibility and money alone, as in the bench. */
function roster(rosterId: string, householdIds: readonly string[]) {
  return {
    rosterId,
    programmeCode: 'insurance_premium',
    period: '2025',
    accountId: 'POOL',
    noticeId: null,
    rows: householdIds.map((householdId, i) => ({
      row: i + 2,
      householdId,
      quantity: 1,
      amountFen: '18000',
    })),
  };
}

const ledgerStream = () => streamName('ledger', county, infra.ns);

describe('a roster is booked whole or refused whole', () => {
  it('books every row of households registered just before it (the writer waits for the registry tail)', async () => {
    const households = Array.from({ length: 3_000 }, (_, i) => `FRESH${i}`);
    // As registry-api's import would: the events are in REGISTRY_<code>, the ledger's tail has not read them yet.
    await registerHouseholds(infra.js, infra.jsm, infra.ns, county, households);
    const before = await lastSequence(infra.jsm, ledgerStream());
    const { status, body } = await post('rosters', roster('RS-FRESH', households));
    expect(status, JSON.stringify(body).slice(0, 300)).toBe(201);
    expect(body).toMatchObject({ rowCount: 3_000, paymentCount: 3_000, eventCount: 3_001 });
    expect(body.lastSeq - body.firstSeq + 1).toBe(3_001);
    expect(await lastSequence(infra.jsm, ledgerStream())).toBe(before + 3_001);
    const progress = await app.inject({
      method: 'GET',
      url: `/v1/partitions/${county}/rosters/RS-FRESH`,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(progress.json()).toMatchObject({ rowCount: 3_000, instructed: 3_000 });
  });

  it('refuses a roster naming unknown, exited or cardless households, listing each bad row, and appends nothing', async () => {
    const good = Array.from({ length: 500 }, (_, i) => `OK${i}`);
    await registerHouseholds(infra.js, infra.jsm, infra.ns, county, good);
    await registerHouseholds(infra.js, infra.jsm, infra.ns, county, ['GONE1'], { exited: true });
    await registerHouseholds(infra.js, infra.jsm, infra.ns, county, ['NOCARD1'], { withAccount: false });
    const before = await lastSequence(infra.jsm, ledgerStream());
    const ids = [
      ...good.slice(0, 200),
      'NEVER1',
      ...good.slice(200, 400),
      'GONE1',
      'NEVER2',
      'NOCARD1',
      ...good.slice(400),
    ];
    const { status, body } = await post('rosters', roster('RS-MIXED', ids));
    expect(status).toBe(422);
    expect(body.error.code).toBe('roster_rows_invalid');
    expect(body.error.details.errorCount).toBe(4);
    expect(body.error.details.errors.map((e: { row: number; code: string }) => [e.row, e.code])).toEqual([
      [202, 'household_not_registered'],
      [403, 'household_exited'],
      [404, 'household_not_registered'],
      [405, 'household_without_account'],
    ]);
    expect(await lastSequence(infra.jsm, ledgerStream())).toBe(before);

    // The same rows without the bad ones: all booked, and a dry run says so first.
    const clean = ids.filter((id) => !['NEVER1', 'NEVER2', 'GONE1', 'NOCARD1'].includes(id));
    const dry = await post('rosters', roster('RS-CLEAN', clean), '?dryRun=true');
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ dryRun: true, rowCount: 500, paymentCount: 500 });
    expect(await lastSequence(infra.jsm, ledgerStream())).toBe(before);
    const booked = await post('rosters', roster('RS-CLEAN', clean));
    expect(booked.status).toBe(201);
    expect(booked.body).toMatchObject({ rowCount: 500, paymentCount: 500, eventCount: 501 });
  });

  it('answers a repeated roster with the original result and its payment count', async () => {
    const households = Array.from({ length: 50 }, (_, i) => `AGAIN${i}`);
    await registerHouseholds(infra.js, infra.jsm, infra.ns, county, households);
    const body = { commandId: 'roster-again', ...roster('RS-AGAIN', households) };
    const first = await app.inject({
      method: 'POST',
      url: `/v1/partitions/${county}/rosters`,
      headers: { authorization: `Bearer ${token}` },
      payload: body,
    });
    const second = await app.inject({
      method: 'POST',
      url: `/v1/partitions/${county}/rosters`,
      headers: { authorization: `Bearer ${token}` },
      payload: body,
    });
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(200);
    expect(second.json()).toEqual({ ...first.json(), duplicate: true });
    expect(second.json()).toMatchObject({ rowCount: 50, paymentCount: 50 });
  });

  it('refuses the rows of households whose every member is recorded dead, read from the registry stream', async () => {
    const households = Array.from({ length: 20 }, (_, i) => `DEATH${i}`);
    await registerHouseholds(infra.js, infra.jsm, infra.ns, county, households);
    // The fixture registers one member per household; member 1 of DEATH7 dies.
    await recordDeaths(infra.js, infra.jsm, infra.ns, county, [
      { householdId: 'DEATH7', memberNo: 1, diedOn: '2024-05-02' },
    ]);
    const before = await lastSequence(infra.jsm, ledgerStream());
    const { status, body } = await post('rosters', roster('RS-DEATH', households));
    expect(status).toBe(422);
    expect(body.error.details.errors).toEqual([expect.objectContaining({ row: 9, code: 'member_deceased' })]);
    expect(body.error.details.errors[0].message).toContain('第 1 号成员于 2024-05-02 死亡');
    expect(await lastSequence(infra.jsm, ledgerStream())).toBe(before);
    const living = households.filter((h) => h !== 'DEATH7');
    expect((await post('rosters', roster('RS-DEATH', living))).body).toMatchObject({ paymentCount: 19 });
  });
});
