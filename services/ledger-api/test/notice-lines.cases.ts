import { ledger } from '@fundtrace/events';
import { describe, expect, it } from 'vitest';
import type { LedgerCommand } from '../src/ledger/commands';
import { evolve } from '../src/ledger/evolve';
import { decideNoticeRemainder } from '../src/ledger/notice-lines';
import {
  accepted,
  apply,
  context,
  externalReceipt,
  given,
  householdsWithDeaths,
  poolOpened,
  refused,
  registryOf,
  rowErrors,
  when,
  yuan,
} from './support';

/**
 * Given / when / then of a notice's list of proposed beneficiaries (公示名单): published with the
 * notice and validated like a roster, and then the only households a payment under the notice may
 * reach, at the listed amount (未经公示 otherwise). Called from decide.test.ts, whose last check
 * wants every rejection code shown refusing there.
 */

export type Line = {
  line: number;
  householdId: string;
  quantity?: number;
  amountFen?: bigint;
  memberNos?: number[];
};

/** A June 低保 roster notice with its list (公示名单); each line 3 persons at 570 元 unless it says. */
export function publish(lines: Line[], overrides: Record<string, unknown> = {}): LedgerCommand {
  return {
    type: 'PublishNotice',
    data: {
      noticeId: 'NL',
      kind: 'roster',
      title: '2024年6月农村低保发放名单公示',
      stage: 'approval',
      programmeCode: 'dibao_class1',
      period: '2024-06',
      subjectId: null,
      startsOn: '2024-06-01',
      endsOn: '2024-06-07',
      lines: lines.map((l) => ({
        line: l.line,
        householdId: l.householdId,
        memberNos: l.memberNos ?? [],
        quantity: l.quantity ?? 3,
        amountFen: l.amountFen ?? yuan(570),
      })),
      ...overrides,
    } as never,
  };
}

const listed: Line[] = [
  { line: 1, householdId: 'H001' },
  { line: 2, householdId: 'H002', quantity: 2, amountFen: yuan(380) },
];

function funded() {
  return given([poolOpened, externalReceipt('A', yuan(100_000), 'social_assistance')]);
}

function pay(householdId: string, amountFen: bigint, quantity: number, paymentId = `PAY-${householdId}`) {
  return {
    type: 'InstructPayment' as const,
    data: {
      paymentId,
      householdId,
      programmeCode: 'dibao_class1',
      period: '2024-06',
      quantity,
      amountFen,
      accountId: 'POOL',
      noticeId: 'NL',
      acceptanceRef: null,
    } as never,
  };
}

function rosterOf(rows: Array<{ row: number; householdId: string; quantity: number; amountFen: bigint }>) {
  return {
    type: 'SubmitRoster' as const,
    data: {
      rosterId: 'RSL',
      programmeCode: 'dibao_class1',
      period: '2024-06',
      accountId: 'POOL',
      noticeId: 'NL',
      rows: rows.map((r) => ({ ...r, acceptanceRef: null })),
    } as never,
  };
}

export function noticeLineCases(): void {
  describe('notice lines (公示名单)', () => {
    it('publishes the list with the notice, in the same decision, split into bounded parts', () => {
      const s = funded();
      const many: Line[] = Array.from({ length: ledger.noticeLinesPerEventMax + 1 }, (_, i) => ({
        line: i + 1,
        householdId: `HH${i + 1}`,
      }));
      const registry = registryOf(
        Object.fromEntries(many.map((l) => [l.householdId, { exited: false, accountBound: false }])),
      );
      const events = accepted(when(s, publish(many), context({ registry })));
      expect(events.map((e) => e.type)).toEqual([
        'NoticePublished',
        'NoticeLinesPublished',
        'NoticeLinesPublished',
      ]);
      const parts = events.slice(1).map((e) => e.data as ledger.LedgerData<'NoticeLinesPublished'>);
      expect(parts.map((p) => [p.part, p.partCount, p.lines.length])).toEqual([
        [1, 2, ledger.noticeLinesPerEventMax],
        [2, 2, 1],
      ]);
      expect(parts[1]!.lines[0]).toEqual({
        line: many.length,
        householdId: `HH${many.length}`,
        memberNos: [],
        quantity: 3,
        amountFen: yuan(570),
      });
      // The NoticePublished payload is the v1 shape: the list travels only in its own events.
      expect(Object.keys(events[0]!.data)).not.toContain('lines');
    });

    it('lists a household without a bound account yet (the account is checked when paying)', () => {
      accepted(when(funded(), publish([{ line: 1, householdId: 'NOCARD' }])));
    });

    it('validates the whole list like a roster and reports every bad line with its number', () => {
      const r = refused(
        when(
          funded(),
          publish([
            { line: 1, householdId: 'H001' },
            { line: 2, householdId: 'H999' },
            { line: 3, householdId: 'EXITED' },
            { line: 4, householdId: 'H002', amountFen: yuan(190) * 3n + 1n },
            { line: 4, householdId: 'H003' },
            { line: 5, householdId: 'H001' },
            { line: 6, householdId: 'H003', memberNos: [2, 2] },
          ]),
        ),
        'notice_lines_invalid',
      );
      const errors = rowErrors(r);
      expect(errors.map((e) => [e.row, e.code])).toEqual([
        [2, 'household_not_registered'],
        [3, 'household_exited'],
        [4, 'above_standard'],
        [4, 'duplicate_line'],
        [5, 'duplicate_line'],
        [6, 'duplicate_line'],
      ]);
    });

    describe('members recorded dead (member_deceased, as a payment is refused; decision 0032)', () => {
      // WIDOWED: three members, member 3 dead; EXTINCT: every member dead.
      const ctx = context({ registry: registryOf(householdsWithDeaths) });

      it('refuses a line paying more persons than are alive, or naming a dead member, with its line number', () => {
        const r = refused(
          when(
            funded(),
            publish([
              { line: 1, householdId: 'H001' },
              { line: 2, householdId: 'WIDOWED' }, // 3 persons for June, 2 alive
              { line: 3, householdId: 'EXTINCT', quantity: 1, amountFen: yuan(190) },
            ]),
            ctx,
          ),
          'notice_lines_invalid',
        );
        const errors = rowErrors(r);
        expect(errors.map((e) => [e.row, e.code])).toEqual([
          [2, 'member_deceased'],
          [3, 'member_deceased'],
        ]);
        expect(errors[0]!.message).toContain('在世成员只有 2 人（第 3 号成员于 2024-05-02 死亡）');
        const named = refused(
          when(
            funded(),
            publish([{ line: 7, householdId: 'WIDOWED', quantity: 1, amountFen: yuan(190), memberNos: [3] }]),
            ctx,
          ),
          'notice_lines_invalid',
        );
        const namedErrors = rowErrors(named);
        expect(namedErrors).toEqual([
          expect.objectContaining({
            row: 7,
            code: 'member_deceased',
            message: expect.stringContaining('第 3 号成员'),
          }),
        ]);
      });

      it('admits the living members, counting person-months over the notice period', () => {
        accepted(
          when(
            funded(),
            publish([
              { line: 1, householdId: 'H001' },
              { line: 2, householdId: 'WIDOWED', quantity: 2, amountFen: yuan(380), memberNos: [1, 2] },
            ]),
            ctx,
          ),
        );
        // A quarter: two living persons are 6 person-months; 9 would pay the dead member too.
        const quarter = (quantity: number) =>
          publish([{ line: 1, householdId: 'WIDOWED', quantity, amountFen: yuan(190) * BigInt(quantity) }], {
            period: '2024-Q2',
          });
        accepted(when(funded(), quarter(6), ctx));
        refused(when(funded(), quarter(9), ctx), 'notice_lines_invalid');
        // No period: any period's payment may follow, so a line is judged as a year's (two persons × 12).
        const anyPeriod = (quantity: number) =>
          publish([{ line: 1, householdId: 'WIDOWED', quantity, amountFen: yuan(190) * BigInt(quantity) }], {
            period: null,
          });
        accepted(when(funded(), anyPeriod(24), ctx));
        refused(when(funded(), anyPeriod(25), ctx), 'notice_lines_invalid');
      });
    });

    it('refuses a list on a notice that lists nobody (project) or has no programme', () => {
      refused(when(funded(), publish(listed, { kind: 'project' })), 'notice_lines_invalid');
      refused(
        when(funded(), publish(listed, { programmeCode: null, stage: 'general' })),
        'notice_lines_invalid',
      );
    });

    it('admits a payment of a listed household at the listed amount after the period', () => {
      const s = funded();
      apply(s, publish(listed));
      accepted(when(s, pay('H001', yuan(570), 3)));
      accepted(when(s, pay('H002', yuan(380), 2)));
    });

    it('refuses 未经公示: a household not on the list, or another amount or quantity than listed', () => {
      const s = funded();
      apply(s, publish(listed));
      const missing = refused(when(s, pay('H003', yuan(570), 3)), 'not_on_notice');
      expect(missing.message).toContain('未经公示');
      const less = refused(when(s, pay('H001', yuan(560), 3)), 'not_on_notice');
      expect(less.details).toMatchObject({ line: 1, listedFen: String(yuan(570)) });
      refused(when(s, pay('H002', yuan(380), 3)), 'not_on_notice');
    });

    it('refuses a roster with a row off the list, naming the row; admits the listed rows', () => {
      const s = funded();
      apply(s, publish(listed));
      const r = refused(
        when(
          s,
          rosterOf([
            { row: 2, householdId: 'H001', quantity: 3, amountFen: yuan(570) },
            { row: 3, householdId: 'H003', quantity: 3, amountFen: yuan(570) },
          ]),
        ),
        'roster_rows_invalid',
      );
      const errors = rowErrors(r);
      expect(errors.map((e) => [e.row, e.code])).toEqual([[3, 'not_on_notice']]);
      const events = accepted(
        when(
          s,
          rosterOf([
            { row: 2, householdId: 'H001', quantity: 3, amountFen: yuan(570) },
            { row: 3, householdId: 'H002', quantity: 2, amountFen: yuan(380) },
          ]),
        ),
      );
      expect(events.map((e) => e.type)).toEqual([
        'RosterSubmitted',
        'PaymentInstructed',
        'PaymentInstructed',
      ]);
    });

    it('keeps a line with an open objection waiting, and pays the others', () => {
      const s = funded();
      apply(s, publish(listed));
      apply(s, {
        type: 'FileObjection',
        data: {
          objectionId: 'OL1',
          noticeId: 'NL',
          householdId: 'H001',
          summary: '家中有车',
          channel: 'notice_board',
          filedOn: '2024-06-03',
        },
      });
      refused(when(s, pay('H001', yuan(570), 3)), 'objection_open');
      accepted(when(s, pay('H002', yuan(380), 2)));
      apply(s, {
        type: 'ResolveObjection',
        data: { objectionId: 'OL1', outcome: 'dismissed', note: '核实无车' },
      });
      accepted(when(s, pay('H001', yuan(570), 3)));
    });

    it('continues a list cut short after a prefix was stored with the parts not yet stored', () => {
      const s = funded();
      const many: Line[] = Array.from({ length: 2 * ledger.noticeLinesPerEventMax + 5 }, (_, i) => ({
        line: i + 1,
        householdId: `HH${i + 1}`,
      }));
      const registry = registryOf(
        Object.fromEntries(many.map((l) => [l.householdId, { exited: false, accountBound: true }])),
      );
      const command = publish(many);
      const events = accepted(when(s, command, context({ registry })));
      expect(events).toHaveLength(4);
      // The batch was cut after the notice and its first part: those two are facts in the log.
      for (const e of events.slice(0, 2)) evolve(s, e);
      const rest = accepted(decideNoticeRemainder(s, command.data as never));
      expect(rest).toEqual(events.slice(2));
      for (const e of rest) evolve(s, e);
      expect(s.notices.get('NL')!.lines.size).toBe(many.length);
    });
  });
}
