import { ensurePartitionStreams, silentLogger } from '@fundtrace/eventlog';
import { streamName } from '@fundtrace/events';
import { staleStreamInfo, useTestInfra } from '@fundtrace/testkit';
import { describe, expect, it } from 'vitest';
import type { LedgerCommand } from '../src/ledger/commands';
import { RegistryTail } from '../src/writer/registry-tail';
import {
  type CommandOutcome,
  type CommandRequest,
  type LedgerWriter,
  PartitionBusyError,
} from '../src/writer/writer';
import { financeActor, fundPool, pay, registerHouseholds, startWriter } from './fixtures';
import { yuan } from './support';

/**
 * The writer against the machine's real NATS: state rebuilt from the stream,
 * OCC appends, idempotency across restarts, two instances on one partition,
 * the registry tail, and receipts checked against the issuer's stream.
 */

const infra = useTestInfra({ database: false });
let counter = 0;

function request(command: LedgerCommand, commandId = `cmd-${++counter}`): CommandRequest {
  return { commandId, actor: financeActor, command };
}

function ok(outcome: CommandOutcome) {
  if (!outcome.ok) throw new Error(`refused ${outcome.code}: ${outcome.message}`);
  return outcome.result;
}

describe('LedgerWriter on real NATS', () => {
  it('a retried command returns the original result; the same id with other content is refused, also after a restart', async () => {
    const { js, jsm, ns } = infra;
    const partition = '411325';
    const writer = await startWriter(js, jsm, ns, partition);
    await fundPool(writer, yuan(10_000));
    await registerHouseholds(js, jsm, ns, partition, ['H1']);

    const first = ok(await writer.execute(request(pay('P1', 'H1', yuan(190)), 'pay-once')));
    expect(first).toMatchObject({ duplicate: false, eventCount: 1 });
    const again = ok(await writer.execute(request(pay('P1', 'H1', yuan(190)), 'pay-once')));
    expect(again).toEqual({ ...first, duplicate: true });
    const other = await writer.execute(request(pay('P1', 'H1', yuan(180)), 'pay-once'));
    expect(other).toMatchObject({ ok: false, code: 'idempotency_key_reused' });

    await writer.stop();
    const restarted = await startWriter(js, jsm, ns, partition);
    expect(restarted.state.seq).toBe(writer.state.seq);
    expect(restarted.state.totals).toEqual(writer.state.totals);
    expect(ok(await restarted.execute(request(pay('P1', 'H1', yuan(190)), 'pay-once')))).toEqual({
      ...first,
      duplicate: true,
    });
    expect(await restarted.execute(request(pay('P1', 'H1', yuan(180)), 'pay-once'))).toMatchObject({
      ok: false,
      code: 'idempotency_key_reused',
    });
    // The payment records the registry sequence it was decided against.
    expect(restarted.state.payments.get('P1')?.status).toBe('instructed');
    await restarted.stop();
  });

  it('knows households only from the registry stream: unregistered, exited and card-less households are refused', async () => {
    const { js, jsm, ns } = infra;
    const partition = '411326';
    const writer = await startWriter(js, jsm, ns, partition);
    await fundPool(writer, yuan(10_000));
    expect(await writer.execute(request(pay('P1', 'H1', yuan(100))))).toMatchObject({
      code: 'household_not_registered',
    });
    // Registered after the writer started: the tail catches up before the payment is decided.
    await registerHouseholds(js, jsm, ns, partition, ['H1']);
    await registerHouseholds(js, jsm, ns, partition, ['H2'], { withAccount: false });
    await registerHouseholds(js, jsm, ns, partition, ['H3'], { exited: true });
    ok(await writer.execute(request(pay('P1', 'H1', yuan(100)))));
    expect(await writer.execute(request(pay('P2', 'H2', yuan(100))))).toMatchObject({
      code: 'household_without_account',
    });
    expect(await writer.execute(request(pay('P3', 'H3', yuan(100))))).toMatchObject({
      code: 'household_exited',
    });
    expect(writer.registry.seq).toBe(6);
    await writer.stop();
  });

  it('two instances writing one partition concurrently never double-spend', async () => {
    const { js, jsm, ns } = infra;
    const partition = '411327';
    const a = await startWriter(js, jsm, ns, partition);
    const b = await startWriter(js, jsm, ns, partition);
    await fundPool(a, yuan(1_000));
    const households = Array.from({ length: 20 }, (_, i) => `H${i}`);
    await registerHouseholds(js, jsm, ns, partition, households);

    // 20 payments of 100 元 against 1,000 元, alternating between the instances, all at once.
    const runOn = async (writer: LedgerWriter, command: LedgerCommand, commandId: string) => {
      for (;;) {
        try {
          return await writer.execute(request(command, commandId));
        } catch (error) {
          if (!(error instanceof PartitionBusyError)) throw error; // a client retries a 503
        }
      }
    };
    const outcomes = await Promise.all(
      households.map((h, i) => runOn(i % 2 === 0 ? a : b, pay(`P${i}`, h, yuan(100)), `race-${i}`)),
    );
    const accepted = outcomes.filter((o) => o.ok);
    const refused = outcomes.filter((o) => !o.ok);
    expect(accepted).toHaveLength(10);
    expect(refused.every((o) => !o.ok && o.code === 'insufficient_funds')).toBe(true);

    // A third instance rebuilt cold from the stream sees exactly the money that was there.
    const c = await startWriter(js, jsm, ns, partition);
    expect(c.state.accounts.get('POOL')!.balanceFen).toBe(0n);
    expect(c.state.totals.reservedFen).toBe(yuan(1_000));
    expect(c.state.payments.size).toBe(10);
    // Each accepted command is in the log exactly once, under the seq it was answered with.
    const seqs = accepted.map((o) => (o.ok ? o.result.firstSeq : null));
    expect(new Set(seqs).size).toBe(10);
    await Promise.all([a.stop(), b.stop(), c.stop()]);
  });

  it('appends a roster as pipelined bursts (crossing chunk boundaries) and rebuilds the same state cold', async () => {
    const { js, jsm, ns } = infra;
    const partition = '411328';
    // Chunks of 300 events: the 1,001 events of this roster go out in four overlapping bursts.
    const writer = await startWriter(js, jsm, ns, partition, undefined, { appendChunkEvents: 300 });
    await fundPool(writer, yuan(1_000_000));
    const rows = 1_000;
    const households = Array.from({ length: rows }, (_, i) => `H${i}`);
    await registerHouseholds(js, jsm, ns, partition, households);
    const roster: LedgerCommand = {
      type: 'SubmitRoster',
      data: {
        rosterId: 'RS-2024-06',
        programmeCode: 'dibao_class1',
        period: '2024-06',
        accountId: 'POOL',
        noticeId: 'N1',
        rows: households.map((householdId, i) => ({
          row: i + 2,
          householdId,
          quantity: 2,
          amountFen: yuan(380),
          acceptanceRef: null,
        })),
      },
    };
    const dry = ok(await writer.execute({ ...request(roster, 'roster-dry'), dryRun: true }));
    expect(dry).toMatchObject({ dryRun: true, eventCount: rows + 1, firstSeq: null });
    const before = writer.state.seq;
    const result = ok(await writer.execute(request(roster, 'roster-1')));
    expect(result).toMatchObject({ eventCount: rows + 1, firstSeq: before + 1, lastSeq: before + rows + 1 });
    expect(writer.state.rosters.get('RS-2024-06')).toMatchObject({ rowCount: rows, instructed: rows });

    const cold = await startWriter(js, jsm, ns, partition);
    expect(cold.state.totals).toEqual(writer.state.totals);
    expect(cold.state.payments.size).toBe(rows);
    expect(ok(await cold.execute(request(roster, 'roster-1')))).toEqual({ ...result, duplicate: true });
    await Promise.all([writer.stop(), cold.stop()]);
  });

  it('receives an allocation only as the issuer booked it, and only once', async () => {
    const { js, jsm, ns } = infra;
    const city = await startWriter(js, jsm, ns, '410300');
    const county = await startWriter(js, jsm, ns, '410323');
    await fundPool(city, yuan(500_000), 'general', 'city');
    ok(
      await county.execute(
        request({ type: 'OpenAccount', data: { accountId: 'POOL', kind: 'pool', name: '新安县专户' } }),
      ),
    );
    ok(
      await city.execute(
        request({
          type: 'IssueAllocation',
          data: {
            allocationId: 'AL1',
            toPartition: '410323',
            fromAccountId: 'POOL',
            documentNumber: '洛财农〔2024〕12号',
            fundSource: 'city',
            purpose: 'general',
            fiscalYear: 2024,
            title: '市级财政专项扶贫资金',
            amountFen: yuan(200_000),
          },
        }),
      ),
    );
    const receive = (amountFen: bigint, allocationId = 'AL1', receiptId = 'RC1'): LedgerCommand => ({
      type: 'ReceiveAllocation',
      data: {
        receiptId,
        accountId: 'POOL',
        amountFen,
        origin: { kind: 'partition', partition: '410300', allocationId },
      },
    });
    expect(await county.execute(request(receive(yuan(1))))).toMatchObject({
      code: 'allocation_amount_mismatch',
    });
    expect(await county.execute(request(receive(yuan(1), 'AL9')))).toMatchObject({
      code: 'allocation_not_found',
    });
    ok(await county.execute(request(receive(yuan(200_000)))));
    expect(await county.execute(request(receive(yuan(200_000), 'AL1', 'RC2')))).toMatchObject({
      code: 'allocation_already_received',
    });
    const tranche = county.state.tranches.get('rc_RC1_1')!;
    expect(tranche).toMatchObject({ amountFen: yuan(200_000), documentNumber: '洛财农〔2024〕12号' });
    await Promise.all([city.stop(), county.stop()]);
  });
});

describe('the registry tail of a partition without a REGISTRY stream', () => {
  it('looks for the stream less and less often, yet a household registered once it exists is payable at once', async () => {
    const { js, jsm, ns } = infra;
    const partition = '411329';
    const tail = new RegistryTail(js, jsm, streamName('registry', partition, ns), silentLogger());
    await tail.start();
    // Looks at 0, 2 and 6 s find nothing; the next would come at 14 s.
    await new Promise((resolve) => setTimeout(resolve, 6_500));
    await ensurePartitionStreams(jsm, { partition, ns, contexts: ['registry'] });
    await registerHouseholds(js, jsm, ns, partition, ['H1']);
    // catchUp finds the stream has news and starts the tail now, well inside 5 s.
    await tail.catchUp(5_000);
    expect(tail.household('H1')).toMatchObject({ exited: false, accountBound: true });
    await tail.stop();
  }, 30_000);

  it('a stale stream info does not end the registry catch-up before a household registered a moment ago (0122)', async () => {
    const { js, jsm, ns } = infra;
    const partition = '411331';
    // Every stream info this tail gets lags far behind: it says the registry is empty.
    const stale = staleStreamInfo(js, 1_000);
    const tail = new RegistryTail(
      stale,
      await stale.jetstreamManager(),
      streamName('registry', partition, ns),
      silentLogger(),
    );
    // No stream yet: the tail pauses before it looks again, so it has applied nothing on its own.
    await tail.start();
    await ensurePartitionStreams(jsm, { partition, ns, contexts: ['registry'] });
    await registerHouseholds(js, jsm, ns, partition, ['H1']);
    // Sized by stream info alone, the catch-up ended at once and H1 was unknown to the ledger.
    await tail.catchUp();
    expect(tail.household('H1')).toMatchObject({ exited: false, accountBound: true });
    // Once running, the same: the consumer's server counts what stream info leaves out.
    await registerHouseholds(js, jsm, ns, partition, ['H2']);
    await tail.catchUp();
    expect(tail.household('H2')).toMatchObject({ exited: false, accountBound: true });
    await tail.stop();
  });

  it('a stale stream info (a replica that just restarted) does not keep a writer deciding on a short state: it reads as far as its lost race showed (0122)', async () => {
    const { js, jsm, ns } = infra;
    const partition = '411330';
    const open = (accountId: string): LedgerCommand => ({
      type: 'OpenAccount',
      data: { accountId, kind: 'implementing_unit', name: `单位 ${accountId}` },
    });
    // A's stream info lags three messages behind; B's is current.
    const a = await startWriter(staleStreamInfo(js, 3), jsm, ns, partition);
    const b = await startWriter(js, jsm, ns, partition);
    expect(ok(await a.execute(request(open('A1'))))).toMatchObject({ firstSeq: 1 });
    await b.catchUp();
    for (const id of ['B1', 'B2', 'B3']) ok(await b.execute(request(open(id))));
    // A decides at 1 and loses the race to 4; its stream info still says 1, the conflict said 4.
    expect(ok(await a.execute(request(open('A2'))))).toMatchObject({ firstSeq: 5 });
    expect([...a.state.accounts.keys()].sort()).toEqual(['A1', 'A2', 'B1', 'B2', 'B3']);
    await Promise.all([a.stop(), b.stop()]);
  });
});
