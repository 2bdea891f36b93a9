import { daysBetween, ledgerRef, yuan } from '../support';
import type { FindingDraft, Rule, RuleInput, TrancheFact } from '../types';

/**
 * 滞留 (funds held idle): money that sits in a county pool or project account, unspent, longer
 * than the configured number of days. The plans require spending progress every ten days and
 * 100% of special funds within the year (002 L53); 180 days is the default because a tranche
 * idle for half a fiscal year cannot reach that target, and inspectors may set their own.
 */
export interface IdleFundsParams {
  readonly idleDaysMax: number;
}

const spendingAccounts: ReadonlySet<string> = new Set(['pool', 'project']);

export const idleFunds: Rule<IdleFundsParams> = {
  id: 'idle_funds',
  version: 1,
  description: '资金滞留：县级资金池或项目账户中的资金超过设定天数仍未支出。',
  defaults: { idleDaysMax: 180 },
  run(input: RuleInput, params: IdleFundsParams): FindingDraft[] {
    // Province and city books only pass money on; holding it there is 截留 (withheld_funds).
    if (input.level !== 'county') return [];
    return input.tranches
      .filter(
        (t) =>
          spendingAccounts.has(t.accountKind) &&
          t.remainingFen > 0n &&
          daysBetween(t.createdOn, input.asOf) > params.idleDaysMax,
      )
      .map((t) => draft(input, t, params));
  },
};

function draft(input: RuleInput, t: TrancheFact, params: IdleFundsParams): FindingDraft {
  const days = daysBetween(t.createdOn, input.asOf);
  return {
    key: t.trancheId,
    severity: days > params.idleDaysMax * 2 ? 'high' : 'medium',
    subjects: [ledgerRef(input.partition, 'account', t.accountId)],
    evidence: [t.created],
    amounts: [
      { label: 'idle', amountFen: t.remainingFen },
      { label: 'tranche', amountFen: t.amountFen },
    ],
    summary: `资金滞留：${t.documentNumber} 资金 ${yuan(t.remainingFen)}（资金批次 ${t.trancheId}）自 ${t.createdOn} 起在账户 ${t.accountId} 闲置 ${days} 天，超过 ${params.idleDaysMax} 天的期限。`,
  };
}
