import { daysBetween, ledgerRef, yuan } from '../support';
import type { FindingDraft, Rule, RuleInput } from '../types';

/**
 * 截留 (withheld on the way): money received by a level whose job is to pass it on, still held
 * there after the pass-on deadline. In fundtrace's books the levels that only pass money on are
 * the province and city partitions (townships keep no books of their own: their money lives in
 * the county's), so the rule looks at money received there (到账) and not issued onwards. The
 * default of 30 days is the national rule for passing special poverty funds down after receipt
 * (中央财政专项扶贫资金管理办法: 下达后 30 日内分解下达).
 */
export interface WithheldFundsParams {
  readonly passOnDaysMax: number;
}

export const withheldFunds: Rule<WithheldFundsParams> = {
  id: 'withheld_funds',
  version: 1,
  description: '资金截留：省级或市级收到的资金超过设定天数仍未下达。',
  defaults: { passOnDaysMax: 30 },
  run(input: RuleInput, params: WithheldFundsParams): FindingDraft[] {
    if (input.level !== 'province' && input.level !== 'city') return [];
    return input.tranches
      .filter(
        (t) =>
          t.movementKind === 'receipt' &&
          t.remainingFen > 0n &&
          daysBetween(t.createdOn, input.asOf) > params.passOnDaysMax,
      )
      .map((t) => {
        const days = daysBetween(t.createdOn, input.asOf);
        return {
          key: t.trancheId,
          severity: 'high' as const,
          subjects: [ledgerRef(input.partition, 'account', t.accountId)],
          evidence: [t.created],
          amounts: [
            { label: 'withheld', amountFen: t.remainingFen },
            { label: 'received', amountFen: t.amountFen },
          ],
          summary: `资金截留：${t.documentNumber} 资金 ${yuan(t.remainingFen)}（资金批次 ${t.trancheId}）于 ${t.createdOn} 到账，${days} 天后仍未下达，超过 ${params.passOnDaysMax} 天的下达期限。`,
        };
      });
  },
};
