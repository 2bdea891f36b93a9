import { eventIdFor } from '@fundtrace/eventlog';
import {
  decodeEvent,
  EventDecodeError,
  encodeEvent,
  ledgerEvents,
  registryEvents,
  utcTimestamp,
} from '@fundtrace/events';
import { describe, expect, it } from 'vitest';
import type { LedgerEventInput } from '../src/ledger/evolve';
import { decodeLedgerEvent, decodeRegistryEvent } from '../src/writer/fast-decode';
import { apply, context, externalReceipt, given, poolOpened, yuan } from './support';

/** The rebuild's decoder must agree with the full schema decoder on every event type the writer produces. */

function scenario(): LedgerEventInput[] {
  const log: LedgerEventInput[] = [poolOpened, externalReceipt('A', yuan(100_000))];
  const s = given(log);
  const run = (c: Parameters<typeof apply>[1], ctx = context()) => log.push(...apply(s, c, ctx));
  run({ type: 'OpenAccount', data: { accountId: 'PRJ', kind: 'project', name: '项目' } });
  run({ type: 'OpenAccount', data: { accountId: 'UNIT', kind: 'implementing_unit', name: '单位' } });
  run({
    type: 'ApprovePlan',
    data: {
      planId: 'P',
      title: '方案',
      fiscalYear: 2024,
      documentNumber: '1号',
      totalFen: yuan(50_000),
      lines: [{ lineId: 'L1', category: 'infrastructure', title: '路', amountFen: yuan(50_000) }],
    },
  });
  run({
    type: 'AdjustPlan',
    data: {
      planId: 'P',
      documentNumber: '2号',
      reason: '调整',
      totalFen: yuan(60_000),
      lines: [{ lineId: 'L1', category: 'infrastructure', title: '路', amountFen: yuan(60_000) }],
    },
  });
  run({
    type: 'ApproveProject',
    data: {
      projectId: 'PJ',
      planId: 'P',
      lineId: 'L1',
      name: '路',
      villageCode: '411325100201',
      budgetFen: yuan(10_000),
      accountId: 'PRJ',
      implementingUnitAccountId: 'UNIT',
      reimbursement: true,
    },
  });
  run({
    type: 'AdjustProject',
    data: { projectId: 'PJ', budgetFen: yuan(20_000), implementingUnitAccountId: 'UNIT', reason: '增加' },
  });
  run({
    type: 'IntegrateFunds',
    data: {
      integrationId: 'IG',
      planId: 'P',
      lineId: 'L1',
      accountId: 'POOL',
      documentNumber: '3号',
      tranches: [{ trancheId: 'rc_A_1', amountFen: yuan(1_000) }],
    },
  });
  run({
    type: 'EarmarkFunds',
    data: { earmarkId: 'E', projectId: 'PJ', fromAccountId: 'POOL', amountFen: yuan(5_000) },
  });
  run({
    type: 'RecordAcceptance',
    data: {
      acceptanceId: 'AC',
      projectId: 'PJ',
      documentNumber: '验收1号',
      acceptedOn: '2024-06-01',
      inspectedBy: '扶贫办',
    },
  });
  run({
    type: 'DisburseFunds',
    data: { disbursementId: 'D', projectId: 'PJ', amountFen: yuan(1_000), acceptanceId: 'AC' },
  });
  run({
    type: 'IssueAllocation',
    data: {
      allocationId: 'AL',
      toPartition: '411326',
      fromAccountId: 'POOL',
      documentNumber: '4号',
      fundSource: 'county',
      purpose: 'general',
      fiscalYear: 2024,
      title: '下达',
      amountFen: yuan(1_000),
    },
  });
  run({
    type: 'PublishNotice',
    data: {
      noticeId: 'N',
      kind: 'programme',
      title: '公示',
      stage: 'approval',
      programmeCode: 'dibao_class1',
      period: '2024-06',
      subjectId: null,
      startsOn: '2024-06-01',
      endsOn: '2024-06-07',
    },
  });
  run({
    type: 'PublishNotice',
    data: {
      noticeId: 'NL',
      kind: 'roster',
      title: '名单公示',
      stage: 'first_review',
      programmeCode: 'dibao_class1',
      period: '2024-07',
      subjectId: null,
      startsOn: '2024-06-01',
      endsOn: '2024-06-07',
      lines: [{ line: 1, householdId: 'H001', memberNos: [1, 2], quantity: 2, amountFen: yuan(380) }],
    },
  });
  run({
    type: 'FileObjection',
    data: {
      objectionId: 'O',
      noticeId: 'N',
      householdId: 'H003',
      summary: '异议',
      channel: 'counter',
      filedOn: '2024-06-02',
    },
  });
  run({ type: 'ResolveObjection', data: { objectionId: 'O', outcome: 'dismissed', note: '不实' } });
  run({
    type: 'SubmitRoster',
    data: {
      rosterId: 'RS',
      programmeCode: 'dibao_class1',
      period: '2024-06',
      accountId: 'POOL',
      noticeId: 'N',
      rows: [
        { row: 2, householdId: 'H001', quantity: 1, amountFen: yuan(190), acceptanceRef: null },
        { row: 3, householdId: 'H002', quantity: 1, amountFen: yuan(190), acceptanceRef: null },
        { row: 4, householdId: 'H003', quantity: 1, amountFen: yuan(190), acceptanceRef: null },
      ],
    },
  });
  run({ type: 'SettlePayment', data: { paymentId: 'RS-r2', bankReference: 'B1', settledOn: '2024-06-14' } });
  run({ type: 'ReturnPayment', data: { paymentId: 'RS-r3', reason: '退回', returnedOn: '2024-06-14' } });
  run({
    type: 'ReverseMovement',
    data: { reversalId: 'RV', movementKind: 'payment', movementId: 'RS-r4', reason: '冲正' },
  });
  run({ type: 'CloseNotice', data: { noticeId: 'N', note: '期满' } });
  run({ type: 'CloseFiscalYear', data: { fiscalYear: 2024 } });
  return log;
}

describe('decodeLedgerEvent', () => {
  it('agrees with the full schema decoder on every ledger event type', () => {
    const log = scenario();
    expect(new Set(log.map((e) => e.type))).toEqual(new Set(ledgerEvents.map((d) => d.type)));
    for (const [i, e] of log.entries()) {
      const envelope = {
        id: eventIdFor(Date.parse('2024-06-15T00:00:00Z'), 'h', i),
        type: e.type,
        version: 1,
        partition: '411325',
        occurredAt: utcTimestamp(0),
        recordedAt: utcTimestamp(0),
        actor: { userId: 'u', role: 'finance' as const, org: 'o' },
        commandId: `c${i}`,
        correlationId: `c${i}`,
        data: e.data,
      };
      const bytes = encodeEvent(envelope as never);
      const full = decodeEvent(bytes);
      const fast = decodeLedgerEvent(bytes);
      expect(fast.id).toBe(full.id);
      expect(fast.event).toEqual({ type: full.type, data: full.data });
      expect(fast.event.data).toEqual(e.data);
    }
  });

  it('hands anything it does not recognise to the full decoder, which names the problem', () => {
    const unknown = new TextEncoder().encode('{"data":{},"id":"x","type":"Nope","version":1}');
    expect(() => decodeLedgerEvent(unknown)).toThrow(EventDecodeError);
    const badMoney = new TextEncoder().encode(
      '{"data":{"amountFen":12.5},"id":"x","type":"PaymentSettled","version":1}',
    );
    expect(() => decodeLedgerEvent(badMoney)).toThrow(EventDecodeError);
  });
});

describe('decodeRegistryEvent (the registry tail)', () => {
  it('reads what the full decoder reads, for every registry event type the tail applies', async () => {
    const { registryEventsForTest } = await import('./fixtures');
    for (const bytes of registryEventsForTest()) {
      const full = decodeEvent(bytes);
      const fast = decodeRegistryEvent(bytes);
      expect(fast.type).toBe(full.type);
      expect(fast.data).toEqual(full.data);
    }
  });
  it('takes the full path (and its error) for bytes that are not an event', () => {
    expect(() => decodeRegistryEvent(new TextEncoder().encode('{"type":"HouseholdRegistered"'))).toThrow(
      EventDecodeError,
    );
    expect(() =>
      decodeRegistryEvent(new TextEncoder().encode('{"type":"HouseholdRegistered","version":9,"data":{}}')),
    ).toThrow(EventDecodeError);
  });
  it('relies on registry payloads having no codecs, defaults or transforms (wire form = decoded form)', () => {
    const kinds = (node: unknown, out = new Set<string>(), seen = new Set<unknown>()): Set<string> => {
      if (seen.has(node)) return out;
      seen.add(node);
      const def = (node as { _zod: { def: Record<string, unknown> & { type: string } } })._zod.def;
      out.add(def.type);
      for (const [key, value] of Object.entries(def)) {
        if (key === 'checks') continue;
        if (key === 'shape') for (const child of Object.values(value as object)) kinds(child, out, seen);
        else if (value && typeof value === 'object' && '_zod' in value) kinds(value, out, seen);
        else if (Array.isArray(value)) for (const child of value) if (child?._zod) kinds(child, out, seen);
      }
      return out;
    };
    for (const definition of registryEvents) {
      const used = kinds(definition.data);
      for (const kind of ['pipe', 'default', 'prefault', 'transform', 'catch']) {
        expect(used.has(kind), `${definition.type} v${definition.version} uses ${kind}`).toBe(false);
      }
    }
  });
});
