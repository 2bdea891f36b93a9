import { audit } from '@fundtrace/events';
import { ledgerRef, yuan } from '../support';
import type { FindingDraft, PaymentFact, Rule } from '../types';

/**
 * Notice kinds that name the households to be paid (as the ledger writer's `listingKinds`):
 * allocation and project notices publish money moved between accounts, not beneficiaries.
 */
const listingKinds: ReadonlySet<string> = new Set(['roster', 'programme']);

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
  description: '未公示名单: payments under a programme notice published without its list of households',
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
          `未公示名单: ${paid.length} payment(s) of ${yuan(totalFen)} to ${households} household(s) under ${n.kind} notice ${n.noticeId} (${n.programmeCode}, ${n.startsOn} to ${n.endsOn}), published without its list of households` +
          (cited.length < paid.length ? `; the first ${cited.length} are cited` : ''),
      });
    }
    return out;
  },
};
