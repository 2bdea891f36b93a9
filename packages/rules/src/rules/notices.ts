import { audit } from '@fundtrace/events';
import { householdRef, ledgerRef, programmeName, yuan } from '../support';
import type { FindingDraft, ObjectionFact, PaymentFact, Rule } from '../types';

/**
 * Notice kinds that name the households to be paid (as the ledger writer's `listingKinds`):
 * allocation and project notices publish money moved between accounts, not beneficiaries.
 */
const listingKinds: ReadonlySet<string> = new Set(['roster', 'programme']);

/** What a summary calls a listing notice: the notice board's names for these kinds. */
const listingKindNames: Readonly<Record<string, string>> = { roster: '发放名单', programme: '补助对象' };

/** Payments cited by one finding: the notice takes a subject and an evidence slot of its own. */
const paymentsCitedMax = Math.min(audit.findingSubjectsMax, audit.findingEvidenceMax) - 1;

/**
 * 未公示名单 (no published list): payments booked under a programme or roster notice that was
 * published without its list of proposed households (公示名单, decision 0071). 公示 exists so
 * villagers can see who will be paid and object during the period; a notice without its list
 * shows nobody anything to object to. The ledger writer checks a payment against the list only
 * when the notice has one (`not_on_notice`) and accepts notices without one (every notice
 * recorded before lists existed, and imports of legacy books), so this rule is where an inspector
 * sees such payments, whether written today, imported from legacy books or by another writer.
 *
 * One finding per notice (the payments are its consequence, and a county's monthly rosters would
 * otherwise raise one per household), citing its first payments by ledger sequence; a payment of a
 * programme that needs no notice, or a returned or reversed one, does not count.
 * Decision 0073.
 */
export const noticeWithoutList: Rule<Record<string, never>> = {
  id: 'notice_without_list',
  version: 1,
  description: '未公示名单：补贴依据的公示发布时未附补助对象名单。',
  defaults: {},
  run(input) {
    const paidUnder = new Map<string, PaymentFact[]>();
    for (const p of input.payments) {
      if (p.noticeId === null || (p.status !== 'instructed' && p.status !== 'settled')) continue;
      if (input.programmes.get(p.programmeCode)?.needsNotice !== true) continue;
      const list = paidUnder.get(p.noticeId);
      if (list === undefined) paidUnder.set(p.noticeId, [p]);
      else list.push(p);
    }
    const out: FindingDraft[] = [];
    for (const n of input.notices) {
      if (!listingKinds.has(n.kind) || n.programmeCode === null || n.lineCount > 0) continue;
      const paid = paidUnder.get(n.noticeId);
      if (paid === undefined) continue;
      paid.sort((a, b) => a.instructed.seq - b.instructed.seq);
      const cited = paid.slice(0, paymentsCitedMax);
      const totalFen = paid.reduce((sum, p) => sum + p.amountFen, 0n);
      const households = new Set(paid.map((p) => p.householdId)).size;
      out.push({
        key: `notice:${n.noticeId}`,
        severity: 'medium',
        subjects: [
          ledgerRef(input.partition, 'notice', n.noticeId),
          ...cited.map((p) => ledgerRef(input.partition, 'payment', p.paymentId)),
        ],
        evidence: [n.published, ...cited.map((p) => p.instructed)],
        amounts: [{ label: 'paid', amountFen: totalFen }],
        summary:
          `未公示名单：${listingKindNames[n.kind] ?? n.kind}公示 ${n.noticeId}（${programmeName(input, n.programmeCode)}，${n.startsOn} 至 ${n.endsOn}）发布时未公布户名单，其下已发放 ${paid.length} 笔共 ${yuan(totalFen)}，涉及 ${households} 户` +
          (cited.length < paid.length ? `，本预警引用其中前 ${cited.length} 笔` : '') +
          '。',
      });
    }
    return out;
  },
};

/**
 * 异议成立仍发放 (paid although the objection was upheld): a payment under a notice to a household
 * whose line on it drew an objection that was upheld (异议成立: the household is not to be paid under
 * this notice), still instructed or settled: not returned by the bank, not reversed (冲正). The
 * ledger writer refuses to pay such a line once the objection is upheld (`objection_upheld`) and
 * while it is open (`objection_open`), but a payment instructed before the objection was filed
 * stays booked: finance must reverse it by hand, and this is the warning that tells an inspector to
 * check that it was. Also raised for a payment booked after the objection was upheld (imports of
 * legacy books, another writer). An objection to the notice as a whole names no household and does
 * not stop a payment once resolved, in the writer as here (decision 0074).
 *
 * One finding per payment (what finance must reverse), citing the payment, the household's line on
 * the published list (or the notice, when it was published without one), and the objection's filing
 * and upholding. Once the payment is returned or reversed a run raises nothing for it; an already
 * raised finding is closed through its review steps, citing the reversal in the payment's trail.
 */
/**
 * Upheld objections one finding cites: each takes a subject and two evidence slots (filed, upheld)
 * beside the payment, household and notice (subjects) and the payment and line (evidence).
 */
/** A booked payment's status as the notice board shows it (发放中, 已到账). */
const paymentStatusNames: Readonly<Record<string, string>> = { instructed: '发放中', settled: '已到账' };

const objectionsCitedMax = Math.min(audit.findingSubjectsMax - 3, (audit.findingEvidenceMax - 2) / 2);

export const objectionUpheldPaid: Rule<Record<string, never>> = {
  id: 'objection_upheld_paid',
  version: 1,
  description: '异议成立仍发放：公示名单上某户的异议已成立，发给该户的款项却既未退回也未冲正。',
  defaults: {},
  run(input) {
    // notice id → household id → the upheld objections on its line
    const upheld = new Map<string, Map<string, ObjectionFact[]>>();
    const notices = new Map(input.notices.map((n) => [n.noticeId, n]));
    for (const n of input.notices) {
      for (const o of n.objections) {
        if (o.householdId === null || o.outcome !== 'upheld' || o.resolved === null) continue;
        const byHousehold = upheld.get(n.noticeId) ?? new Map<string, ObjectionFact[]>();
        byHousehold.set(o.householdId, [...(byHousehold.get(o.householdId) ?? []), o]);
        upheld.set(n.noticeId, byHousehold);
      }
    }
    const out: FindingDraft[] = [];
    for (const p of input.payments) {
      if (p.noticeId === null || (p.status !== 'instructed' && p.status !== 'settled')) continue;
      const all = upheld.get(p.noticeId)?.get(p.householdId);
      if (all === undefined) continue;
      const objections = all.slice(0, objectionsCitedMax);
      const notice = notices.get(p.noticeId)!;
      const line = objections.find((o) => o.line !== null)?.line ?? null;
      const when = (o: ObjectionFact) =>
        p.instructed.seq < o.filed.seq
          ? '发放在异议提出之前'
          : p.instructed.seq < o.resolved!.seq
            ? '发放时异议尚在处理'
            : '发放在异议成立之后';
      out.push({
        key: `payment:${p.paymentId}`,
        severity: 'high',
        subjects: [
          ledgerRef(input.partition, 'payment', p.paymentId),
          householdRef(input.partition, p.householdId),
          ledgerRef(input.partition, 'notice', notice.noticeId),
          ...objections.map((o) => ledgerRef(input.partition, 'objection', o.objectionId)),
        ],
        evidence: [
          p.instructed,
          line === null ? notice.published : line.published,
          ...objections.flatMap((o) => [o.filed, o.resolved!]),
        ],
        amounts: [{ label: 'paid', amountFen: p.amountFen }],
        summary: `异议成立仍发放：公示 ${notice.noticeId}${line === null ? ' 中' : ` 第 ${line.lineNo} 行`}的户 ${p.householdId} 异议成立，补贴发放 ${p.paymentId}（${programmeName(input, p.programmeCode)}，${p.period}）金额 ${yuan(p.amountFen)}，款项${paymentStatusNames[p.status] ?? p.status}，未退回也未冲正；成立的异议：${objections.map((o) => `${o.objectionId}（${when(o)}）`).join('、')}${all.length > objections.length ? `，另有 ${all.length - objections.length} 件` : ''}。`,
      });
    }
    return out;
  },
};
