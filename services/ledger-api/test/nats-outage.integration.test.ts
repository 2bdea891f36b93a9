import { type App, signToken } from '@fundtrace/service-kit';
import { type PrivateNats, startPrivateNats } from '@fundtrace/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, startWriters } from '../src/app';
import { readConfig } from '../src/config';
import type { Writers } from '../src/routes/shared';
import { fundPool, httpBody, pay, registerHouseholds, testNowMs } from './fixtures';
import { yuan } from './support';

/**
 * ledger-api while its NATS is away (a private nats-server killed under it, through service-kit's
 * NATS plugin as in production): a dry run appends nothing, so it is decided on the writer's state
 * in memory and answered — accepted or refused as the books stood — while a real command is
 * refused at once with 503 nats_unavailable. Once NATS is back the real command is booked.
 */
const secret = 'ledger-api-outage-secret-of-at-least-32-bytes';
const county = '411325';
const ns = 'outage';
let nats: PrivateNats;
let app: App;
let writers: Writers;
let token: string;

async function post(path: string, payload: object, dryRun = false) {
  const response = await app.inject({
    method: 'POST',
    url: `/v1/partitions/${county}/${path}${dryRun ? '?dryRun=true' : ''}`,
    headers: { authorization: `Bearer ${token}` },
    payload,
  });
  return { status: response.statusCode, body: response.json() };
}

/** A 低保 payment under N1 as the route takes it (the fixtures' `pay`). */
const payment = (paymentId: string, householdId: string, amountFen: bigint, quantity = 1) =>
  httpBody(`cmd-${paymentId}`, pay(paymentId, householdId, amountFen, quantity));

/** Resolves at the connection's next status change of this type. */
function nextStatus(type: 'disconnect' | 'reconnect'): Promise<void> {
  return (async () => {
    for await (const status of app.nats.status()) if (status.type === type) return;
  })();
}

beforeAll(async () => {
  nats = await startPrivateNats({ jetstream: true });
  const config = readConfig({
    JWT_SECRET: secret,
    NATS_URL: nats.url,
    FUNDTRACE_NAMESPACE: ns,
    LEDGER_PARTITIONS: county,
    LOG_LEVEL: 'silent',
  });
  ({ app, writers } = await buildApp(config, { now: () => testNowMs }));
  await app.ready();
  await startWriters(writers, app.jsm, ns);
  token = await signToken(
    secret,
    { sub: 'u1', role: 'finance', org: '内乡县财政局', partitions: [county] },
    3600,
  );
});

afterAll(async () => {
  await app?.close();
  await nats?.stop();
});

describe('ledger-api while NATS is away', () => {
  it('answers dry runs from the state in memory, refuses real commands, and books them once NATS is back', async () => {
    await fundPool(writers.get(county)!, yuan(500));
    await registerHouseholds(app.js, app.jsm, ns, county, ['H1', 'H2', 'H3']);
    const first = await post('payments', payment('P1', 'H1', yuan(190)));
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const seq = writers.get(county)!.state.seq;

    const away = nextStatus('disconnect');
    await nats.nodes[0]!.kill('SIGKILL');
    await away;

    // Decided on what the writer holds: 310 元 left in the pool.
    const dry = await post('payments', payment('P2', 'H2', yuan(190)), true);
    expect(dry.status, JSON.stringify(dry.body)).toBe(200);
    expect(dry.body).toMatchObject({ dryRun: true, duplicate: false, eventCount: 1, firstSeq: null });
    const tooMuch = await post('payments', payment('P3', 'H3', yuan(400), 3), true);
    expect(tooMuch.status).toBe(422);
    expect(tooMuch.body.error.code).toBe('insufficient_funds');
    const twice = await post('payments', payment('P4', 'H1', yuan(190)), true);
    expect(twice.body.error.code).toBe('duplicate_payment');
    const roster = await post(
      'rosters',
      {
        commandId: 'roster',
        rosterId: 'RS1',
        programmeCode: 'dibao_class1',
        period: '2024-06',
        accountId: 'POOL',
        noticeId: 'N1',
        rows: [
          { row: 2, householdId: 'H2', quantity: 1, amountFen: '19000' },
          { row: 3, householdId: 'H3', quantity: 1, amountFen: '1000' },
        ],
      },
      true,
    );
    expect(roster.status, JSON.stringify(roster.body)).toBe(200);
    expect(roster.body).toMatchObject({ dryRun: true, eventCount: 3, rowCount: 2, paymentCount: 2 });

    // A command that appends is refused at once, and nothing changed.
    const real = await post('payments', payment('P2', 'H2', yuan(190)));
    expect(real.status).toBe(503);
    expect(real.body.error.code).toBe('nats_unavailable');
    expect(writers.get(county)!.state.seq).toBe(seq);

    const back = nextStatus('reconnect');
    await nats.nodes[0]!.restart();
    await back;
    const booked = await post('payments', payment('P2', 'H2', yuan(190)));
    expect(booked.status, JSON.stringify(booked.body)).toBe(201);
    expect(booked.body).toMatchObject({ firstSeq: seq + 1, eventCount: 1 });
  }, 120_000);
});
