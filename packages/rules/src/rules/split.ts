import { daysBetween, ledgerRef, yuan } from '../support';
import type { DisbursementFact, FindingDraft, Rule } from '../types';

/**
 * Split payments (拆分支付, 化整为零): several disbursements of one project to the same implementing
 * unit, each below the approval threshold, within a short window, that together reach it — the
 * way a payment that needs a higher approval (e.g. 县级审批 or a tender) is made to look small.
 * Both numbers are configurable because each county sets its own approval limits; the defaults
 * (30,000 元, 30 days) are a common county threshold and one month of 报账.
 */
export interface SplitPaymentParams {
  readonly approvalThresholdFen: bigint;
  readonly windowDays: number;
}

export const splitPayment: Rule<SplitPaymentParams> = {
  id: 'split_payment',
  version: 1,
  description: '拆分支付：同一项目拨付给同一实施单位的多笔款项各自低于审批限额，却在设定天数内合计达到限额。',
  defaults: { approvalThresholdFen: 3_000_000n, windowDays: 30 },
  run(input, params) {
    const groups = new Map<string, DisbursementFact[]>();
    for (const d of input.disbursements) {
      if (d.reversed || d.amountFen >= params.approvalThresholdFen) continue;
      const key = `${d.projectId}|${d.toAccountId}`;
      groups.set(key, [...(groups.get(key) ?? []), d]);
    }
    const out: FindingDraft[] = [];
    for (const [key, list] of groups) {
      const sorted = [...list].sort((a, b) =>
        a.disbursedOn === b.disbursedOn
          ? a.disbursed.seq - b.disbursed.seq
          : a.disbursedOn < b.disbursedOn
            ? -1
            : 1,
      );
      // Greedy windows from the first disbursement: each run of disbursements within windowDays of
      // its first that reaches the threshold is one finding; the next run starts after it.
      let start = 0;
      while (start < sorted.length) {
        let end = start;
        let total = 0n;
        while (
          end < sorted.length &&
          daysBetween(sorted[start]!.disbursedOn, sorted[end]!.disbursedOn) <= params.windowDays
        ) {
          total += sorted[end]!.amountFen;
          end++;
        }
        const run = sorted.slice(start, end);
        if (run.length >= 2 && total >= params.approvalThresholdFen) {
          const first = run[0]!;
          out.push({
            key: `${key}|${first.disbursementId}`,
            severity: 'medium',
            subjects: [
              ledgerRef(input.partition, 'project', first.projectId),
              ledgerRef(input.partition, 'account', first.toAccountId),
              ...run.map((d) => ledgerRef(input.partition, 'disbursement', d.disbursementId)),
            ],
            evidence: run.map((d) => d.disbursed),
            amounts: [
              { label: 'total', amountFen: total },
              { label: 'threshold', amountFen: params.approvalThresholdFen },
            ],
            summary: `拆分支付：项目 ${first.projectId} 在 ${first.disbursedOn} 至 ${run[run.length - 1]!.disbursedOn} 间向账户 ${first.toAccountId} 拨付 ${run.length} 笔，每笔低于审批限额 ${yuan(params.approvalThresholdFen)}，合计 ${yuan(total)}。`,
          });
          start = end;
        } else start++;
      }
    }
    return out;
  },
};
