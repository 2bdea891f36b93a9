import { appendAckTimeoutMs, lastSequence, readRange } from '@fundtrace/eventlog';
import { decodeEvent, streamName } from '@fundtrace/events';
import { type App, signToken } from '@fundtrace/service-kit';
import { useTestInfra } from '@fundtrace/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bankResultRowsMax } from '../src/ledger/limits';
import type { Writers } from '../src/routes/shared';
import { startTestApp } from './app-fixture';
import { fundPool, httpBody, interceptPublishes, pay, registerHouseholds, testNowMs } from './fixtures';

/**
 * `POST /v1/partitions/:p/bank-results` (回盘, decision 0129) against real NATS: the bank's result
 * file is one command. Accepted, every row's PaymentSettled or PaymentReturned is appended once
 * under `<commandId>:<index>`; one refused row refuses the file, names every bad row, and appends
 * nothing; the same command id again appends nothing more; a file cut short by NATS going away is
 * finished, not doubled, by sending it again. The same results sent again in another file append
 * nothing; a row contradicting a recorded result (another 银行流水号 or date) refuses the file, and
 * the single settle and return routes follow the same rule (decision 0134). A payment's read shows
 * the bank's result as recorded.
 *
 * Each test owns the roster rows it gives results to (named in its comment), so the tests pass in
 * any order and alone (`-t`).
 */
const infra = useTestInfra({ database: false });
const secret = 'ledger-api-bank-results-secret-of-32-bytes!';
const county = '411325';
const rosterId = 'RS-BANK';
const households = Array.from({ length: 23 }, (_, i) => `HB${i + 1}`);
let app: App;
let writers: Writers;
let token: string;
let nowMs = testNowMs;
/** Publishes to the ledger stream after this many are lost (the connection dies under them); null: none. */
let passBeforeLosing: number | null = null;

beforeAll(async () => {
  const ledgerSubjects = `${infra.ns}.ledger.${county}.`;
  const appendConnection = interceptPublishes(infra.nc, (forward, subject, payload, options) => {
    if (passBeforeLosing === null || !subject.startsWith(ledgerSubjects))
      return forward(subject, payload, options);
    if (passBeforeLosing > 0) {
      passBeforeLosing -= 1;
      return forward(subject, payload, options);
    }
    // The writer would notice after its ack timeout: that much time passes on its clock.
    nowMs += appendAckTimeoutMs;
    throw new Error('connection lost under the publish');
  });
  ({ app, writers } = await startTestApp(infra, {
    partitions: [county],
    jwtSecret: secret,
    deps: { now: () => nowMs, appendConnection },
  }));
  token = await sign([county]);
  await fundPool(writers.get(county)!, 100_000_000n);
  await registerHouseholds(infra.js, infra.jsm, infra.ns, county, households);
  // A June 低保 roster of 23 households: payments RS-BANK-r2 … RS-BANK-r24 (row r pays HB<r-1>), 190 元 each.
  const roster = await post('rosters', {
    commandId: 'roster-bank',
    rosterId,
    programmeCode: 'dibao_class1',
    period: '2024-06',
    accountId: 'POOL',
    noticeId: 'N1',
    rows: households.map((householdId, i) => ({ row: i + 2, householdId, quantity: 1, amountFen: '19000' })),
  });
  expect(roster.status, JSON.stringify(roster.body)).toBe(201);
});

afterAll(async () => {
  await app?.close();
});

function sign(partitions: string[], role: 'finance' | 'registry' = 'finance') {
  return signToken(secret, { sub: 'clerk', role, org: '内乡县财政局', partitions }, 3600);
}

async function get(path: string) {
  const response = await app.inject({
    method: 'GET',
    url: `/v1/partitions/${county}/${path}`,
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: response.statusCode, body: response.json() };
}

async function post(path: string, body: unknown, query = '', as = token) {
  const response = await app.inject({
    method: 'POST',
    url: `/v1/partitions/${county}/${path}${query}`,
    headers: { authorization: `Bearer ${as}` },
    payload: body as Record<string, unknown>,
  });
  return { status: response.statusCode, body: response.json() };
}

const paymentOf = (rosterRow: number) => `${rosterId}-r${rosterRow}`;
const status = (rosterRow: number) => writers.get(county)!.state.payments.get(paymentOf(rosterRow))?.status;
/** The roster's counts of results now (a copy: other tests' results add to them). */
const rosterCounts = () => {
  const { settled, returned } = writers.get(county)!.state.rosters.get(rosterId)!;
  return { settled, returned };
};
const stream = () => streamName('ledger', county, infra.ns);
const tail = () => lastSequence(infra.jsm, stream());

/** A bank row for roster row `rosterRow`, as the file's row `row`: 成功 unless a reason is given. */
function settled(row: number, rosterRow: number, settledOn = '2024-06-14') {
  return {
    row,
    paymentId: paymentOf(rosterRow),
    result: 'settled',
    bankReference: `B${rosterRow}`,
    settledOn,
  };
}
function returned(row: number, rosterRow: number, returnedOn = '2024-06-14') {
  return { row, paymentId: paymentOf(rosterRow), result: 'returned', reason: '账户已销户', returnedOn };
}

/** A settlement keyed by hand (the single `payment-settlements` route). */
function settleByHand(commandId: string, paymentId: string, bankReference: string, settledOn = '2024-06-14') {
  return post('payment-settlements', { commandId, paymentId, bankReference, settledOn });
}

/** The stored messages after `after`, as (message id, event type, payment id). */
async function storedAfter(after: number) {
  const last = await tail();
  if (last === after) return [];
  const messages = await readRange(infra.js, { stream: stream(), fromSeq: after + 1, toSeq: last });
  return messages.map((m) => {
    const event = decodeEvent(m.bytes);
    return [m.msgId, event.type, (event.data as { paymentId: string }).paymentId];
  });
}

describe('a bank result file (回盘) is one command', () => {
  // Rows 2–5.
  it('appends every row of settlements and returns exactly once, and the payments show their results', async () => {
    const before = await tail();
    const counted = rosterCounts();
    const rows = [
      { ...settled(2, 2), householdId: 'HB1', amountFen: '19000' },
      returned(3, 3),
      settled(4, 4, '2024-06-15'),
      returned(5, 5),
    ];
    // A dry run decides the whole file and appends nothing.
    const dry = await post('bank-results', { commandId: 'bank-a', rows }, '?dryRun=true');
    expect(dry.status, JSON.stringify(dry.body)).toBe(200);
    expect(dry.body).toMatchObject({ dryRun: true, eventCount: 4, rowCount: 4, alreadyRecorded: 0 });
    expect(await tail()).toBe(before);

    const answer = await post('bank-results', { commandId: 'bank-a', rows });
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    expect(answer.body).toMatchObject({
      commandId: 'bank-a',
      duplicate: false,
      eventCount: 4,
      firstSeq: before + 1,
      lastSeq: before + 4,
      rowCount: 4,
      settledRows: 2,
      returnedRows: 2,
      alreadyRecorded: 0,
    });
    expect(await storedAfter(before)).toEqual([
      ['bank-a:0', 'PaymentSettled', paymentOf(2)],
      ['bank-a:1', 'PaymentReturned', paymentOf(3)],
      ['bank-a:2', 'PaymentSettled', paymentOf(4)],
      ['bank-a:3', 'PaymentReturned', paymentOf(5)],
    ]);
    expect([2, 3, 4, 5].map(status)).toEqual(['settled', 'returned', 'settled', 'returned']);
    expect(rosterCounts()).toEqual({ settled: counted.settled + 2, returned: counted.returned + 2 });
  });

  // Rows 6–8 stay in flight; row 17 is settled here first, so a return for it is not in flight.
  it('refuses the whole file for one bad row, naming each refused row, and appends nothing', async () => {
    const first = await settleByHand('bank-b-settled', paymentOf(17), 'B17');
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const before = await tail();
    const good = [settled(2, 6), returned(3, 7)];
    for (const [bad, code] of [
      [settled(4, 99), 'payment_not_found'],
      [settled(4, 8, '2024-06-16'), 'date_in_future'],
      [returned(4, 6), 'bank_row_payment_twice'],
      [{ ...settled(4, 8), amountFen: '19100' }, 'bank_row_mismatch'],
      [returned(4, 17), 'payment_not_in_flight'],
    ] as const) {
      const answer = await post('bank-results', { commandId: `bank-b-${code}`, rows: [...good, bad] });
      expect(answer.status, JSON.stringify(answer.body)).toBe(422);
      expect(answer.body.error.code).toBe('bank_results_invalid');
      expect(answer.body.error.message).toContain('整个文件未登记');
      expect(answer.body.error.details.errors).toEqual([{ row: 4, code, message: expect.any(String) }]);
    }
    // Every bad row at once, each named.
    const all = await post('bank-results', {
      commandId: 'bank-b-all',
      rows: [...good, settled(4, 99), settled(5, 8, '2025-06-14'), returned(6, 6)],
    });
    expect(all.status).toBe(422);
    expect(all.body.error.details.errors.map((e: { row: number; code: string }) => [e.row, e.code])).toEqual([
      [4, 'payment_not_found'],
      [5, 'date_in_future'],
      [6, 'bank_row_payment_twice'],
    ]);
    expect(all.body.error.details.errors[2].message).toContain('已在第 2 行出现');
    // Nothing of any of them was appended: the good rows' payments are still in flight.
    expect(await tail()).toBe(before);
    expect([6, 7, 8].map(status)).toEqual(['instructed', 'instructed', 'instructed']);
    expect(status(17)).toBe('settled');
  });

  // Rows 18–20.
  it('appends once when the same command id is sent twice', async () => {
    const body = { commandId: 'bank-c', rows: [settled(2, 18), returned(3, 19)] };
    const before = await tail();
    const first = await post('bank-results', body);
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const again = await post('bank-results', body);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({
      duplicate: true,
      eventCount: 2,
      firstSeq: first.body.firstSeq,
      lastSeq: first.body.lastSeq,
      alreadyRecorded: 0,
    });
    expect(await tail()).toBe(before + 2);
    expect((await storedAfter(before)).map(([id]) => id)).toEqual(['bank-c:0', 'bank-c:1']);
    // The same id for other content is refused, as for every command.
    const other = await post('bank-results', { ...body, rows: [settled(2, 20)] });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('idempotency_key_reused');
    // Another file repeating results already recorded appends only what is new.
    const overlap = await post('bank-results', {
      commandId: 'bank-c2',
      rows: [settled(2, 18), settled(3, 20)],
    });
    expect(overlap.status, JSON.stringify(overlap.body)).toBe(201);
    expect(overlap.body).toMatchObject({ eventCount: 1, alreadyRecorded: 1 });
    expect(await tail()).toBe(before + 3);
  });

  // Rows 9–13.
  it('finishes a file cut short by NATS going away when it is sent again, appending each row once', async () => {
    const rows = [9, 10, 11, 12, 13].map((rosterRow, i) => settled(i + 2, rosterRow));
    const before = await tail();
    // The first two events are stored, then the connection dies under every publish.
    passBeforeLosing = 2;
    const cut = await post('bank-results', { commandId: 'bank-d', rows });
    expect(cut.status, JSON.stringify(cut.body)).toBe(503);
    expect(cut.body.error.code).toBe('nats_unavailable');
    expect(await tail()).toBe(before + 2);
    passBeforeLosing = null;
    const again = await post('bank-results', { commandId: 'bank-d', rows });
    expect(again.status, JSON.stringify(again.body)).toBe(201);
    expect(again.body).toMatchObject({ eventCount: 5, firstSeq: before + 1, lastSeq: before + 5 });
    expect(await storedAfter(before)).toEqual(
      [9, 10, 11, 12, 13].map((rosterRow, i) => [`bank-d:${i}`, 'PaymentSettled', paymentOf(rosterRow)]),
    );
    expect([9, 10, 11, 12, 13].map(status)).toEqual(Array(5).fill('settled'));
  });

  // Every file here is refused: no row gets a result.
  it('is bounded, documented, and authorized as the single settle and return routes', async () => {
    const before = await tail();
    const tooMany = Array.from({ length: bankResultRowsMax + 1 }, (_, i) => settled(i + 2, 2));
    const big = await post('bank-results', { commandId: 'bank-e', rows: tooMany });
    expect(big.status).toBe(422);
    expect(big.body.error.code).toBe('bank_results_invalid');
    expect(big.body.error.details.headIssues).toEqual([
      `rows：银行回盘共 ${bankResultRowsMax + 1} 行，超过上限 ${bankResultRowsMax} 行；请拆分成几个文件`,
    ]);
    // A malformed row (neither a settlement nor a return) is named by its row number.
    const malformed = await post('bank-results', {
      commandId: 'bank-f',
      rows: [settled(2, 8), { row: 3, paymentId: paymentOf(8), result: 'pending' }],
    });
    expect(malformed.status).toBe(422);
    expect(malformed.body.error.details.errors).toEqual([
      { row: 3, index: 1, code: 'invalid_row', message: expect.stringMatching(/^第 3 行格式有误（/) },
    ]);
    const body = { commandId: 'bank-g', rows: [settled(2, 8)] };
    expect((await post('bank-results', body, '', await sign(['411326']))).status).toBe(403);
    expect((await post('bank-results', body, '', await sign([county], 'registry'))).status).toBe(403);
    expect(await tail()).toBe(before);

    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, { post?: { summary?: string; security?: unknown } }>;
    };
    const route = doc.paths['/v1/partitions/{partition}/bank-results']?.post;
    expect(route?.summary).toContain(`up to ${bankResultRowsMax} rows`);
    expect(route?.security).toEqual(
      doc.paths['/v1/partitions/{partition}/payment-settlements']?.post?.security,
    );
  });
});

describe('a result that contradicts the one recorded is refused, not dropped (0134)', () => {
  // Roster rows 14 and 15 get their results here; row 16 stays in flight, the good row of every refused file.
  const recorded = [settled(2, 14), returned(3, 15)];
  const recordedOnce = async () => {
    if (status(14) === 'instructed') {
      const first = await post('bank-results', { commandId: 'bank-h', rows: recorded });
      expect(first.status, JSON.stringify(first.body)).toBe(201);
    }
  };

  it('records nothing for the same results sent again in another file, and succeeds', async () => {
    await recordedOnce();
    const before = await tail();
    const again = await post('bank-results', { commandId: 'bank-h-again', rows: recorded });
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.body).toMatchObject({ duplicate: false, eventCount: 0, rowCount: 2, alreadyRecorded: 2 });
    expect(await tail()).toBe(before);
  });

  it('refuses the whole file for a row giving another 银行流水号 or date, naming the row, and appends nothing', async () => {
    await recordedOnce();
    const before = await tail();
    for (const [i, [bad, said]] of (
      [
        [
          { ...settled(3, 14), bankReference: 'B14-X' },
          `补贴发放 ${paymentOf(14)} 已登记到账（银行流水号 B14，到账日期 2024-06-14），本次却是银行流水号 B14-X，到账日期 2024-06-14，银行流水号不符`,
        ],
        [settled(3, 14, '2024-06-13'), '本次却是银行流水号 B14，到账日期 2024-06-13，到账日期不符'],
        [
          returned(3, 15, '2024-06-12'),
          `补贴发放 ${paymentOf(15)} 已登记银行退回（退回日期 2024-06-14），本次却是退回日期 2024-06-12`,
        ],
      ] as const
    ).entries()) {
      const answer = await post('bank-results', {
        commandId: `bank-i-${i}`,
        rows: [settled(2, 16), bad],
      });
      expect(answer.status, JSON.stringify(answer.body)).toBe(422);
      expect(answer.body.error.code).toBe('bank_results_invalid');
      expect(answer.body.error.message).toContain('整个文件未登记');
      const [error, ...others] = answer.body.error.details.errors;
      expect(others).toEqual([]);
      expect(error).toMatchObject({ row: 3, code: 'bank_result_conflict' });
      expect(error.message).toContain(said);
      expect(error.message).toContain('请与银行核对');
    }
    // Nothing appended: the good row's payment is still in flight, the recorded results stand.
    expect(await tail()).toBe(before);
    expect([14, 15, 16].map(status)).toEqual(['settled', 'returned', 'instructed']);
  });

  it('answers a settlement or return by hand the same way: the same again records nothing, another is 409', async () => {
    await recordedOnce();
    const before = await tail();
    const settle = (commandId: string, bankReference: string) =>
      settleByHand(commandId, paymentOf(14), bankReference);
    const giveBack = (commandId: string, returnedOn: string) =>
      post('payment-returns', { commandId, paymentId: paymentOf(15), reason: '户名不符', returnedOn });
    // Keyed again under another command id: what is recorded agrees (a return's reason is not compared).
    for (const same of [
      await settle('hand-settle-same', 'B14'),
      await giveBack('hand-return-same', '2024-06-14'),
    ]) {
      expect(same.status, JSON.stringify(same.body)).toBe(200);
      expect(same.body).toMatchObject({ duplicate: false, eventCount: 0, firstSeq: null });
    }
    const other = await settle('hand-settle-other', 'B14-Y');
    expect(other.status).toBe(409);
    expect(other.body.error).toMatchObject({
      code: 'bank_result_conflict',
      details: {
        paymentId: paymentOf(14),
        recorded: { bankReference: 'B14', settledOn: '2024-06-14' },
        given: { bankReference: 'B14-Y', settledOn: '2024-06-14' },
      },
    });
    expect(other.body.error.message).toContain('银行流水号 B14-Y');
    const otherDate = await giveBack('hand-return-other', '2024-06-13');
    expect(otherDate.status).toBe(409);
    expect(otherDate.body.error.code).toBe('bank_result_conflict');
    // The other result for a payment (a return of a settled one) is still not in flight.
    const reverse = await post('payment-returns', {
      commandId: 'hand-return-settled',
      paymentId: paymentOf(14),
      reason: '户名不符',
      returnedOn: '2024-06-14',
    });
    expect(reverse.status).toBe(409);
    expect(reverse.body.error.code).toBe('payment_not_in_flight');
    expect(await tail()).toBe(before);
  });
});

describe('a payment read shows the bank result as recorded (0134)', () => {
  // Rows 21–24, and the re-payment RP-HB23 of row 24's household.
  it('shows the 流水号 and date of a settlement and the date of a return, each payment its own for a re-paid household, and none while instructed', async () => {
    const recorded = await post('bank-results', {
      commandId: 'bank-read',
      rows: [settled(2, 22, '2024-06-13'), returned(3, 23), returned(4, 24, '2024-06-12')],
    });
    expect(recorded.status, JSON.stringify(recorded.body)).toBe(201);
    // 补发: row 24's household (HB23) is paid June again under a new payment id, then settled by hand.
    const repay = await post('payments', httpBody('bank-read-repay', pay('RP-HB23', 'HB23', 19000n)));
    expect(repay.status, JSON.stringify(repay.body)).toBe(201);
    const repaid = await settleByHand('bank-read-repaid', 'RP-HB23', 'RCC-RP-HB23', '2024-06-15');
    expect(repaid.status, JSON.stringify(repaid.body)).toBe(201);

    const read = async (paymentId: string) => {
      const answer = await get(`payments/${paymentId}`);
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      return answer.body as Record<string, unknown>;
    };
    const bankResult = (p: Record<string, unknown>) => ({
      status: p.status,
      householdId: p.householdId,
      bankReference: p.bankReference,
      settledOn: p.settledOn,
      returnedOn: p.returnedOn,
    });
    const none = { bankReference: null, settledOn: null, returnedOn: null };
    const ids = [paymentOf(21), paymentOf(22), paymentOf(23), paymentOf(24), 'RP-HB23'];
    const payments = await Promise.all(ids.map(read));
    expect(payments.map(bankResult)).toEqual([
      { status: 'instructed', householdId: 'HB20', ...none },
      { status: 'settled', householdId: 'HB21', ...none, bankReference: 'B22', settledOn: '2024-06-13' },
      { status: 'returned', householdId: 'HB22', ...none, returnedOn: '2024-06-14' },
      { status: 'returned', householdId: 'HB23', ...none, returnedOn: '2024-06-12' },
      {
        status: 'settled',
        householdId: 'HB23',
        ...none,
        bankReference: 'RCC-RP-HB23',
        settledOn: '2024-06-15',
      },
    ]);
    // The read many at once answers each as the read of one does.
    const many = await post('payments/lookup', { paymentIds: ids });
    expect(many.status, JSON.stringify(many.body)).toBe(200);
    expect(many.body).toEqual({ payments, missing: [] });

    // What an officer refused with bank_result_conflict is told is recorded is what the read shows.
    const conflict = await settleByHand('bank-read-conflict', paymentOf(22), 'B22-X', '2024-06-13');
    expect(conflict.status, JSON.stringify(conflict.body)).toBe(409);
    expect(conflict.body.error.details.recorded).toEqual({
      bankReference: payments[1]!.bankReference,
      settledOn: payments[1]!.settledOn,
    });

    // The API document names the three fields of the read.
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, { get?: { responses?: Record<string, unknown> } }>;
    };
    const answered = JSON.stringify(
      doc.paths['/v1/partitions/{partition}/payments/{key}']?.get?.responses?.['200'],
    );
    for (const field of ['bankReference', 'settledOn', 'returnedOn'])
      expect(answered).toContain(`"${field}"`);
  });
});
