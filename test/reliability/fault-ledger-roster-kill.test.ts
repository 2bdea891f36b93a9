import { defaultNatsUrl } from '@fundtrace/devstack';
import { ensurePartitionStreams, lastSequence, readStreamRaw } from '@fundtrace/eventlog';
import { decodeEvent, streamName } from '@fundtrace/events';
import { recordReliability, reliabilityIterations, useTestInfra } from '@fundtrace/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerHouseholds } from '../../services/ledger-api/test/fixtures';
import {
  call,
  dibaoPerPersonFen,
  faultLogDir,
  openFundedPool,
  type ServiceProcess,
  startService,
  testJwtSecret,
  token,
} from './support/faults';

/**
 * A ledger-api process is SIGKILLed while it appends a 50,000-row roster, restarted, and the roster
 * resubmitted with the same command id. Every payment must exist exactly once, the answer must be
 * what an uninterrupted submission answers, and the faulted partition's log must equal a clean run
 * of the same roster on another partition, event for event (ids and clocks aside).
 */

const infra = useTestInfra({ database: false });
const faulted = '411325';
const clean = '411326';
const rows = 50_000;
/** Households registered per append (two events each, within the eventlog's batch limit). */
const registerChunk = 10_000;
const quantity = 2;
const amountFen = dibaoPerPersonFen * BigInt(quantity);
const secret = testJwtSecret();
let ledger: ServiceProcess;
let bearer: string;

beforeAll(async () => {
  const households = Array.from({ length: rows }, (_, i) => `H${String(i).padStart(6, '0')}`);
  for (const partition of [faulted, clean]) {
    await ensurePartitionStreams(infra.jsm, { partition, ns: infra.ns, contexts: ['ledger', 'registry'] });
    for (let from = 0; from < rows; from += registerChunk) {
      await registerHouseholds(
        infra.js,
        infra.jsm,
        infra.ns,
        partition,
        households.slice(from, from + registerChunk),
      );
    }
  }
  ledger = await startService(
    'ledger-api',
    {
      NATS_URL: process.env.NATS_URL ?? defaultNatsUrl,
      FUNDTRACE_NAMESPACE: infra.ns,
      JWT_SECRET: secret,
      LEDGER_PARTITIONS: `${faulted},${clean}`,
    },
    { logDir: faultLogDir(infra.ns) },
  );
  bearer = await token(secret, 'finance', [faulted, clean]);
}, 600_000);

afterAll(async () => {
  await ledger?.stop();
});

function roster(partition: string, period: string, noticeId: string) {
  return {
    commandId: `roster-${partition}`,
    rosterId: `RS-${period}`,
    programmeCode: 'dibao_class1',
    period,
    accountId: 'POOL',
    noticeId,
    rows: Array.from({ length: rows }, (_, i) => ({
      row: i + 2,
      householdId: `H${String(i).padStart(6, '0')}`,
      quantity,
      amountFen: amountFen.toString(),
      acceptanceRef: null,
    })),
  };
}

/** The partition's events as an independent reader sees them: decoded with the published schemas. */
async function readLedger(partition: string) {
  const stream = streamName('ledger', partition, infra.ns);
  const last = await lastSequence(infra.jsm, stream);
  const out: Array<{
    seq: number;
    msgId: string | undefined;
    type: string;
    commandId: string;
    data: unknown;
  }> = [];
  for await (const m of readStreamRaw(infra.js, { stream, fromSeq: 1, toSeq: last })) {
    const event = decodeEvent(m.bytes);
    out.push({ seq: m.seq, msgId: m.msgId, type: event.type, commandId: event.commandId, data: event.data });
  }
  return out;
}

describe('ledger-api SIGKILLed in the middle of a 50,000-row roster', () => {
  it('books every payment exactly once after a restart and a resubmission with the same command id', async () => {
    const funds = amountFen * BigInt(rows) + 100_000n;
    const terms = await openFundedPool(ledger.url, bearer, faulted, funds, 'f');
    await openFundedPool(ledger.url, bearer, clean, funds, 'f');
    const url = (p: string) => `${ledger.url}/v1/partitions/${p}/rosters`;

    // The clean run: the same roster, nothing killed.
    const cleanAnswer = await call('POST', url(clean), bearer, roster(clean, terms.period, terms.noticeId));
    expect(cleanAnswer.status, JSON.stringify(cleanAnswer.body)).toBe(201);

    const kills = reliabilityIterations(1, 3);
    const stream = streamName('ledger', faulted, infra.ns);
    const before = await lastSequence(infra.jsm, stream);
    const storedAtKill: number[] = [];
    const body = roster(faulted, terms.period, terms.noticeId);
    for (let k = 0; k < kills; k++) {
      let settled = false;
      const submitting = call('POST', url(faulted), bearer, body).then(
        (a) => a,
        (error: unknown) => error,
      );
      void submitting.finally(() => {
        settled = true;
      });
      // Kill at a random point of the burst, once this attempt has stored something.
      const current = await lastSequence(infra.jsm, stream);
      const remaining = before + rows + 1 - current;
      const target = current + 1 + Math.floor(Math.random() * Math.min(10_000, remaining / 2));
      while (!settled && (await lastSequence(infra.jsm, stream)) < target) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await ledger.kill();
      const outcome = await submitting;
      // The client never got an answer.
      expect(outcome, `answered before the kill: ${JSON.stringify(outcome)}`).toBeInstanceOf(Error);
      const after = (await lastSequence(infra.jsm, stream)) - before;
      expect(after, 'the kill landed after the roster was complete').toBeLessThan(rows + 1);
      storedAtKill.push(after);
      await ledger.restart();
    }
    const answer = await call('POST', url(faulted), bearer, body);
    // The answer an uninterrupted submission would have given: every event, from the first stored.
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    expect(answer.body).toMatchObject({
      commandId: body.commandId,
      eventCount: rows + 1,
      firstSeq: before + 1,
      lastSeq: before + rows + 1,
    });
    const repeat = await call('POST', url(faulted), bearer, body);
    expect(repeat).toMatchObject({ status: 200, body: { ...answer.body, duplicate: true } });

    // Independent check 1: the log holds each row's payment exactly once, in message-id order.
    const events = await readLedger(faulted);
    const rosterEvents = events.filter((e) => e.commandId === body.commandId);
    expect(rosterEvents.map((e) => e.msgId)).toEqual(
      Array.from({ length: rows + 1 }, (_, i) => `${body.commandId}:${i}`),
    );
    const payments = rosterEvents.filter((e) => e.type === 'PaymentInstructed');
    const paidRows = new Set(payments.map((e) => (e.data as { row: number }).row));
    const paidHouseholds = new Set(payments.map((e) => (e.data as { householdId: string }).householdId));
    expect([payments.length, paidRows.size, paidHouseholds.size]).toEqual([rows, rows, rows]);
    const total = payments.reduce((sum, e) => sum + BigInt((e.data as { amountFen: string }).amountFen), 0n);
    expect(total).toBe(amountFen * BigInt(rows));
    expect(events.length).toBe(before + rows + 1);

    // Independent check 2: the books equal the clean run's, event for event.
    const comparable = (list: Awaited<ReturnType<typeof readLedger>>) =>
      list.map((e) => ({ type: e.type, data: e.data, index: e.msgId?.split(':').at(-1) }));
    const cleanEvents = await readLedger(clean);
    expect(comparable(events)).toEqual(comparable(cleanEvents));

    // Independent check 3: a cold rebuild (the restarted writer) reports the same roster and balance.
    const progress = await call('GET', `${url(faulted)}/${body.rosterId}`, bearer);
    const cleanProgress = await call('GET', `${url(clean)}/${body.rosterId}`, bearer);
    expect(progress.status).toBe(200);
    expect(progress.body).toEqual(cleanProgress.body);
    const pool = await call('GET', `${ledger.url}/v1/partitions/${faulted}/accounts/POOL`, bearer);
    const cleanPool = await call('GET', `${ledger.url}/v1/partitions/${clean}/accounts/POOL`, bearer);
    expect(pool.body).toEqual(cleanPool.body);

    recordReliability({
      suite: 'fault',
      name: 'ledger-api killed mid roster',
      injected: `SIGKILL of the ledger-api process (whole process group) while it appended a ${rows.toLocaleString('en-US')}-row roster; restart; resubmission with the same command id`,
      iterations: kills,
      checked:
        'each row paid exactly once (50,000 PaymentInstructed, message ids contiguous); the resubmission answers the uninterrupted result and a repeat answers it as a duplicate; the log equals a clean run of the same roster event for event; roster progress and pool balance equal the clean run',
      result: 'passed',
      details: {
        rows,
        eventsStoredAtEachKill: storedAtKill,
        eventsAfterResubmission: rows + 1,
        totalPaidFen: total.toString(),
      },
    });
  }, 1_200_000);
});
