import { ledger } from '@fundtrace/events';
import type { CommandData } from './commands';
import type { DecideContext, Decision, RowError } from './decide';
import type { LedgerEventInput } from './evolve';
import { checkBeneficiary, checkLineAmount, checkLivingBeneficiaries, type MemberFacts } from './line-checks';
import { invariant, type Rejected, reject } from './rejections';
import type { LedgerState, NoticeState } from './state';

/**
 * The proposed beneficiaries of a notice (公示名单). 公示 exists so villagers can check the list
 * during the period and object before anyone is paid (DOMAIN.md, procedures: 低保 first-review
 * and approval notices, 危房改造's 三榜公示). So the list is published with the notice, in the same
 * batch, validated like a roster; and a payment under a notice that lists households must be one
 * of its lines at the listed amount, else it is refused as 未经公示 (`not_on_notice`).
 */

type NoticeLineInput = NonNullable<CommandData<'PublishNotice'>['lines']>[number];

/** Notice kinds that list households; allocation and project notices publish no beneficiaries. */
const listingKinds: ReadonlySet<string> = new Set(['roster', 'programme']);

/** Every bad line with its number and reason; one bad line refuses the notice, as with a roster. */
export function checkNoticeLines(
  ctx: DecideContext,
  d: Pick<CommandData<'PublishNotice'>, 'noticeId' | 'kind' | 'programmeCode' | 'period' | 'startsOn'>,
  lines: readonly NoticeLineInput[],
): Rejected | undefined {
  if (lines.length === 0) return undefined;
  if (!listingKinds.has(d.kind) || d.programmeCode === null) {
    return reject(
      'notice_lines_invalid',
      { case: 'kind', noticeId: d.noticeId, kind: d.kind, programmeCode: d.programmeCode },
      { kind: d.kind, programmeCode: d.programmeCode },
    );
  }
  const programme = ctx.reference.programmes.get(d.programmeCode);
  if (!programme) return reject('unknown_programme', { programmeCode: d.programmeCode });
  // A notice without a period may be paid for any period (decide.ts, notice_mismatch): judge its
  // lines as a year's, the longest period, so only a line no payment could make is refused.
  const period = d.period ?? d.startsOn.slice(0, 4);
  const errors: RowError[] = [];
  const numbers = new Set<number>();
  const households = new Set<string>();
  for (const l of lines) {
    const refuse = (r: Rejected) => errors.push({ row: l.line, code: r.code, message: r.message });
    if (numbers.has(l.line)) {
      refuse(reject('duplicate_line', { case: 'line_number', line: l.line }));
      continue;
    }
    numbers.add(l.line);
    if (households.has(l.householdId)) {
      // A payment is one per household, programme and period: two lines could never both be paid.
      refuse(reject('duplicate_line', { case: 'household', householdId: l.householdId }));
      continue;
    }
    households.add(l.householdId);
    if (new Set(l.memberNos).size !== l.memberNos.length) {
      refuse(reject('duplicate_line', { case: 'member', line: l.line }));
      continue;
    }
    const problem =
      checkLineAmount(programme, l.quantity, l.amountFen) ??
      checkBeneficiary(ctx.registry, l.householdId, false) ??
      checkListedMembersLiving(l, ctx.registry.household(l.householdId)!) ??
      checkLivingBeneficiaries(programme, period, l, ctx.registry.household(l.householdId)!);
    if (problem) refuse(problem);
  }
  if (errors.length === 0) return undefined;
  return reject(
    'notice_lines_invalid',
    { case: 'lines', errorCount: errors.length, lineCount: lines.length },
    { lineCount: lines.length, errorCount: errors.length, errors },
  );
}

/**
 * A line that names its members (雨露计划's student) must not name one recorded dead: the registry
 * names members, so here the check is exact where a payment's can only count (decision 0032).
 */
function checkListedMembersLiving(l: NoticeLineInput, h: MemberFacts): Rejected | undefined {
  const dead = (h.deceased ?? []).filter((m) => l.memberNos.includes(m.memberNo));
  if (dead.length === 0) return undefined;
  return reject(
    'member_deceased',
    { case: 'listed', line: l.line, householdId: l.householdId, deceased: dead },
    { memberNos: dead.map((m) => m.memberNo), deceased: dead },
  );
}

/** The list as events: parts of at most `noticeLinesPerEventMax` lines, appended with the notice. */
export function noticeLineEvents(noticeId: string, lines: readonly NoticeLineInput[]): LedgerEventInput[] {
  const size = ledger.noticeLinesPerEventMax;
  const partCount = Math.ceil(lines.length / size);
  const events: LedgerEventInput[] = [];
  for (let part = 1; part <= partCount; part++) {
    events.push({
      type: 'NoticeLinesPublished',
      data: { noticeId, part, partCount, lines: lines.slice((part - 1) * size, part * size) },
    });
  }
  return events;
}

/**
 * The rest of a notice whose batch was cut short by another writer after a prefix was stored:
 * the parts not yet stored. Parts are stored in order and all but the last are full, so the
 * lines in the state say how many parts are there.
 */
export function decideNoticeRemainder(state: LedgerState, d: CommandData<'PublishNotice'>): Decision {
  const n = state.notices.get(d.noticeId);
  invariant(n, `notice ${d.noticeId} has no stored prefix to continue`);
  const size = ledger.noticeLinesPerEventMax;
  const partsStored = Math.ceil(n.lines.size / size);
  const events = noticeLineEvents(d.noticeId, d.lines ?? []).slice(partsStored);
  return { ok: true, events };
}

/** 未经公示: a payment under a notice that lists households must be a listed line, at its amount and quantity. */
export function checkOnNotice(
  n: NoticeState,
  payment: { readonly householdId: string; readonly quantity: number; readonly amountFen: bigint },
): Rejected | undefined {
  if (n.lines.size === 0) return undefined;
  const l = n.lines.get(payment.householdId);
  if (l === undefined) {
    return reject(
      'not_on_notice',
      { case: 'absent', noticeId: n.id, householdId: payment.householdId, listed: n.lines.size },
      { noticeId: n.id, householdId: payment.householdId },
    );
  }
  if (l.amountFen !== payment.amountFen || l.quantity !== payment.quantity) {
    return reject(
      'not_on_notice',
      {
        case: 'amount',
        noticeId: n.id,
        line: l.line,
        householdId: payment.householdId,
        listedFen: l.amountFen,
        listedQuantity: l.quantity,
        paymentFen: payment.amountFen,
        paymentQuantity: payment.quantity,
      },
      {
        noticeId: n.id,
        line: l.line,
        listedFen: l.amountFen.toString(),
        listedQuantity: l.quantity,
        paymentFen: payment.amountFen.toString(),
        paymentQuantity: payment.quantity,
      },
    );
  }
  return undefined;
}
