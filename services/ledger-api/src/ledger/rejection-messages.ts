import { ledger } from '@fundtrace/events';
import { formatYuan } from '@fundtrace/money';
import type { RejectionCode } from './rejections';

type AccountKind = ledger.AccountKind;
type ReversibleKind = ledger.ReversibleKind;

/**
 * How the ledger words each refusal, in Chinese, for the finance officer (财政局 / 乡村振兴局) who
 * must act on it: what was refused, the ids, amounts (元, from bigint fen) and dates involved, and
 * what to do (decision 0131). One entry per RejectionCode: the decider names the code and hands
 * over the facts; the words live here, in the glossary's terms (DOMAIN.md). Codes and `details`
 * are the API's contract and do not depend on these words. No personal data enters a message
 * (household ids and member numbers only).
 */

/** Money as the officer reads it: "1,234.56 元". */
export function yuan(fen: bigint): string {
  return `${formatYuan(fen)} 元`;
}

/** Which account a command names, in the words of the step it takes part in. */
export type AccountRole =
  | 'issuing'
  | 'receiving'
  | 'integrating'
  | 'project'
  | 'implementing_unit'
  | 'source'
  | 'paying';

const roleLabels: Readonly<Record<AccountRole, string>> = {
  issuing: '下达资金的',
  receiving: '接收到账的',
  integrating: '统筹整合的',
  project: '项目',
  implementing_unit: '实施单位',
  source: '安排资金的',
  paying: '发放补贴的',
};

const kindLabels: Readonly<Record<AccountKind, string>> = {
  pool: '资金专户',
  project: '项目账户',
  implementing_unit: '实施单位账户',
};

const movementLabels: Readonly<Record<ReversibleKind, string>> = {
  receipt: '到账',
  integration: '统筹整合',
  earmark: '资金安排',
  disbursement: '拨付',
  payment: '补贴发放',
};

/** The unit a programme's standard counts ("每户", "每人每月"). */
const unitLabels: Readonly<Record<string, string>> = {
  household: '户',
  person: '人',
  person_month: '人每月',
  person_year: '人每年',
  household_year: '户每年',
  student_year: '名学生每年',
  m2: '平方米',
};

const {
  codeLabel: label,
  noticeKindLabels,
  noticeStageLabels,
  objectionOutcomeLabels,
  paymentStatusLabels,
} = ledger;
const source = (code: string) => ledger.fundSourceLabel(code);
const deaths = (deceased: readonly Deceased[]) =>
  deceased.map((d) => `第 ${d.memberNo} 号成员于 ${d.diedOn} 死亡`).join('，');

interface Deceased {
  readonly memberNo: number;
  readonly diedOn: string;
}

/** A body of rows refused before it was decided (routes/commands.ts): bad rows and head problems. */
interface Malformed {
  readonly case: 'malformed';
  readonly badRows: number;
  readonly headIssues: readonly string[];
}

/** What each refusal's message is made of: the facts the decider hands over with the code. */
export interface RejectionArgs {
  account_not_found: { role: AccountRole; accountId: string };
  allocation_not_found: { partition: string; allocationId: string };
  plan_not_found: { planId: string; forProject?: boolean };
  plan_line_not_found: { planId: string; lineId: string };
  project_not_found: { projectId: string };
  acceptance_not_found: { acceptanceId: string };
  payment_not_found: { paymentId: string };
  notice_not_found: { noticeId: string };
  objection_not_found: { objectionId: string };
  movement_not_found: { kind: ReversibleKind; movementId: string };
  tranche_not_found: { trancheId: string };
  unknown_programme: { programmeCode: string; version?: number };
  unknown_purpose: { purpose: string; known: readonly string[] };
  account_exists: { accountId: string };
  allocation_exists: { allocationId: string };
  receipt_exists: { receiptId: string };
  allocation_already_received: { partition: string; allocationId: string };
  integration_exists: { integrationId: string };
  plan_exists: { planId: string };
  project_exists: { projectId: string };
  acceptance_exists: { acceptanceId: string };
  earmark_exists: { earmarkId: string };
  disbursement_exists: { disbursementId: string };
  payment_exists: { paymentId: string };
  roster_exists: { rosterId: string };
  notice_exists: { noticeId: string };
  objection_exists: { objectionId: string };
  reversal_exists: { reversalId: string };
  payment_not_in_flight: { paymentId: string; status: string };
  bank_result_conflict:
    | {
        case: 'settled';
        paymentId: string;
        recorded: { bankReference: string; settledOn: string };
        given: { bankReference: string; settledOn: string };
      }
    | { case: 'returned'; paymentId: string; recordedOn: string; givenOn: string };
  objection_already_resolved: { objectionId: string; outcome: 'upheld' | 'dismissed' };
  notice_already_closed: { noticeId: string };
  movement_already_reversed: { kind: ReversibleKind; movementId: string };
  fiscal_year_closed: { fiscalYear: number };
  idempotency_key_reused: { commandId: string };
  insufficient_funds:
    | { case: 'tranche'; trancheId: string; leftFen: bigint; namedFen: bigint }
    | { case: 'account'; accountId: string; use: string; availableFen: bigint; requestedFen: bigint };
  purpose_not_allowed:
    | { case: 'tranche'; trancheId: string; purpose: string; use: string }
    | {
        case: 'account';
        accountId: string;
        use: string;
        balanceFen: bigint;
        allowedFen: bigint;
        requestedFen: bigint;
      };
  tranche_not_in_account: { trancheId: string; accountId: string; named: string };
  too_many_tranches: { count: number; max: number };
  named_tranches_mismatch:
    | { case: 'twice'; trancheId: string }
    | { case: 'sum'; namedFen: bigint; amountFen: bigint };
  account_kind_mismatch:
    | { case: 'kind'; role: AccountRole; accountId: string; kind: AccountKind; expected: AccountKind }
    | { case: 'taken'; accountId: string; projectId: string };
  allocation_to_self: { partition: string };
  fund_source_mismatch: { fundSource: string; sources: readonly string[] };
  allocation_not_addressed_here: { partition: string; allocationId: string; to: string; here: string };
  allocation_amount_mismatch: { allocationId: string; issuedFen: bigint; receivedFen: bigint };
  total_mismatch: { totalFen: bigint; linesSumFen: bigint };
  duplicate_line:
    | { case: 'plan'; lineId: string }
    | { case: 'line_number'; line: number }
    | { case: 'household'; householdId: string }
    | { case: 'member'; line: number };
  plan_line_exceeded:
    | { case: 'integration'; planId: string; lineId: string; roomFen: bigint; requestedFen: bigint }
    | { case: 'project'; planId: string; lineId: string; roomFen: bigint; budgetFen: bigint }
    | { case: 'adjust'; planId: string; lineId: string; roomFen: bigint; budgetFen: bigint };
  plan_below_commitments: { lineId: string; usedFen: bigint };
  project_budget_exceeded: { projectId: string; roomFen: bigint; requestedFen: bigint };
  project_budget_below_earmarked: { projectId: string; earmarkedFen: bigint };
  acceptance_required: { case: 'project'; projectId: string } | { case: 'programme'; programme: string };
  acceptance_for_other_project: { acceptanceId: string; of: string; projectId: string };
  household_not_registered: { householdId: string; registrySeq: number };
  household_exited: { householdId: string };
  household_without_account: { householdId: string };
  member_deceased:
    | { case: 'all'; householdId: string; deceased: readonly Deceased[] }
    | {
        case: 'persons';
        programme: string;
        householdId: string;
        persons: number;
        livingMembers: number;
        deceased: readonly Deceased[];
      }
    | { case: 'listed'; line: number; householdId: string; deceased: readonly Deceased[] };
  duplicate_payment: { householdId: string; programmeCode: string; period: string; paymentId: string | null };
  above_standard: {
    programme: string;
    unit: string;
    amountFen: bigint;
    standardFen: bigint;
    quantity: number;
  };
  below_standard: {
    programme: string;
    unit: string;
    amountFen: bigint;
    standardFen: bigint;
    quantity: number;
  };
  amount_above_limit: { amountFen: bigint; limitFen: bigint };
  notice_required: { programmeCode: string; stage: string };
  notice_mismatch:
    | {
        case: 'payment';
        noticeId: string;
        stage: string;
        noticeProgramme: string | null;
        noticePeriod: string | null;
        neededStage: string;
        programmeCode: string;
        period: string;
      }
    | { case: 'stage'; programme: string; chain: readonly string[]; stage: string };
  notice_period_not_over: { case: 'pay' | 'close'; noticeId: string; endsOn: string };
  notice_period_too_short: { programme: string; minDays: number; days: number };
  notice_period_invalid: { startsOn: string; endsOn: string };
  objection_open:
    | { case: 'notice'; noticeId: string; count: number }
    | { case: 'household'; noticeId: string; householdId: string }
    | { case: 'close'; noticeId: string };
  objection_upheld: { noticeId: string; householdId: string };
  notice_closed: { noticeId: string };
  notice_lines_invalid:
    | { case: 'kind'; noticeId: string; kind: string; programmeCode: string | null }
    | { case: 'lines'; errorCount: number; lineCount: number };
  not_on_notice:
    | { case: 'absent'; noticeId: string; householdId: string; listed: number }
    | {
        case: 'amount';
        noticeId: string;
        line: number;
        householdId: string;
        listedFen: bigint;
        listedQuantity: number;
        paymentFen: bigint;
        paymentQuantity: number;
      };
  roster_rows_invalid: { case: 'rows'; errorCount: number; rowCount: number } | Malformed;
  roster_row_duplicate: { row: number };
  bank_results_invalid: { case: 'rows'; errorCount: number; rowCount: number } | Malformed;
  bank_row_mismatch: {
    paymentId: string;
    household: { given: string; payment: string } | null;
    amount: { givenFen: bigint; paymentFen: bigint } | null;
  };
  bank_row_payment_twice: { paymentId: string; row: number };
  row_number_duplicate: { row: number };
  date_in_future: { date: string; today: string };
  movement_not_reversible:
    | { case: 'payment'; paymentId: string; status: string }
    | { case: 'receipt'; receiptId: string };
  reversal_blocked_downstream: {
    kind: ReversibleKind;
    movementId: string;
    trancheId: string;
    movedOnFen: bigint;
  };
  payments_in_flight: { fiscalYear: number; count: number };
}

/** Every code's wording; a code without one does not compile (and the catalogue test says which). */
export const rejectionMessages: { readonly [C in RejectionCode]: (a: RejectionArgs[C]) => string } = {
  // ---------------------------------------------------------------- existence
  account_not_found: (a) =>
    `${roleLabels[a.role]}账户 ${a.accountId} 未在本级账套开立；请核对账户编号，或先开立该账户。`,
  allocation_not_found: (a) =>
    `账套 ${a.partition} 没有下达资金 ${a.allocationId}；请核对下达文件和下达资金的账套。`,
  plan_not_found: (a) =>
    a.forProject
      ? `规划 ${a.planId} 未批复；项目跟着规划走，请先批复规划，再批复项目。`
      : `规划 ${a.planId} 未在本级账套批复；请核对规划编号。`,
  plan_line_not_found: (a) => `规划 ${a.planId} 没有明细行 ${a.lineId}；请核对规划明细行编号。`,
  project_not_found: (a) => `项目 ${a.projectId} 不在项目库中；请核对项目编号，或先批复该项目。`,
  acceptance_not_found: (a) => `验收 ${a.acceptanceId} 未登记；请先登记验收，再引用其编号。`,
  payment_not_found: (a) => `补贴发放 ${a.paymentId} 不存在；请核对支付编号。`,
  notice_not_found: (a) => `公示 ${a.noticeId} 未在本级账套发布；请核对公示编号。`,
  objection_not_found: (a) => `异议 ${a.objectionId} 未登记；请核对异议编号。`,
  movement_not_found: (a) =>
    `本级账套没有编号为 ${a.movementId} 的${movementLabels[a.kind]}；请核对要冲正的业务类型和编号。`,
  tranche_not_found: (a) => `资金批次 ${a.trancheId} 不在本级账套中；请核对资金批次编号。`,
  unknown_programme: (a) =>
    `补助项目 ${a.programmeCode} 不在参考数据中${a.version === undefined ? '' : `（第 ${a.version} 版）`}；请核对补助项目代码。`,
  unknown_purpose: (a) => `用途 ${a.purpose} 不在参考数据中；可用的用途代码：${a.known.join('、')}。`,
  // ---------------------------------------------------------------- conflicts with what exists
  account_exists: (a) => `账户 ${a.accountId} 已开立；请另选账户编号。`,
  allocation_exists: (a) => `资金下达 ${a.allocationId} 已登记下达；新的下达请另选编号。`,
  receipt_exists: (a) => `到账 ${a.receiptId} 已登记；请勿重复登记，新的到账请另选编号。`,
  allocation_already_received: (a) =>
    `账套 ${a.partition} 下达的资金 ${a.allocationId} 已在本级登记到账；请勿重复登记。`,
  integration_exists: (a) => `统筹整合 ${a.integrationId} 已登记；新的统筹整合请另选编号。`,
  plan_exists: (a) => `规划 ${a.planId} 已批复；如需修改请调整规划。`,
  project_exists: (a) => `项目 ${a.projectId} 已批复入库；如需修改请调整项目。`,
  acceptance_exists: (a) => `验收 ${a.acceptanceId} 已登记；新的验收请另选编号。`,
  earmark_exists: (a) => `资金安排 ${a.earmarkId} 已登记；新的资金安排请另选编号。`,
  disbursement_exists: (a) => `拨付 ${a.disbursementId} 已登记；新的拨付请另选编号。`,
  payment_exists: (a) => `补贴发放 ${a.paymentId} 已登记；新的发放请另选支付编号。`,
  roster_exists: (a) => `发放花名册 ${a.rosterId} 已提交；新的花名册请另选编号。`,
  notice_exists: (a) => `公示 ${a.noticeId} 已发布；新的公示请另选编号。`,
  objection_exists: (a) => `异议 ${a.objectionId} 已登记；新的异议请另选编号。`,
  reversal_exists: (a) => `冲正 ${a.reversalId} 已登记；新的冲正请另选编号。`,
  payment_not_in_flight: (a) =>
    `补贴发放 ${a.paymentId} 的状态已是“${label(paymentStatusLabels, a.status)}”；只有发放中的补贴才能登记到账或退回。`,
  bank_result_conflict: (a) => {
    const check = '；已登记的结果未改动，请与银行核对该笔发放。';
    if (a.case === 'returned')
      return `补贴发放 ${a.paymentId} 已登记银行退回（退回日期 ${a.recordedOn}），本次却是退回日期 ${a.givenOn}：同一笔发放出现了两个不同的退回结果（回盘文件有误或录入错误）${check}`;
    const { recorded: r, given: g } = a;
    const differ = [
      g.bankReference === r.bankReference ? null : '银行流水号',
      g.settledOn === r.settledOn ? null : '到账日期',
    ].filter((w) => w !== null);
    return `补贴发放 ${a.paymentId} 已登记到账（银行流水号 ${r.bankReference}，到账日期 ${r.settledOn}），本次却是银行流水号 ${g.bankReference}，到账日期 ${g.settledOn}，${differ.join('和')}不符：同一笔发放出现了两个不同的到账结果（重复入账、回盘文件有误或录入错误）${check}`;
  },
  objection_already_resolved: (a) =>
    `异议 ${a.objectionId} 已处理（${label(objectionOutcomeLabels, a.outcome)}）；不能再次处理。`,
  notice_already_closed: (a) => `公示 ${a.noticeId} 已结束；无需再次结束。`,
  movement_already_reversed: (a) => `${movementLabels[a.kind]} ${a.movementId} 已冲正；不能重复冲正。`,
  fiscal_year_closed: (a) =>
    `${a.fiscalYear} 年度已结账；请记入 ${a.fiscalYear + 1} 年度（结余资金已结转）。`,
  idempotency_key_reused: (a) =>
    `指令编号 ${a.commandId} 已用于另一条内容不同的指令；新的指令请生成新的编号。`,
  // ---------------------------------------------------------------- business rules
  insufficient_funds: (a) =>
    a.case === 'tranche'
      ? `资金批次 ${a.trancheId} 余额 ${yuan(a.leftFen)}，不足指定的 ${yuan(a.namedFen)}；请少指定一些，或改指定其他资金批次。`
      : `账户 ${a.accountId} 可用于 ${a.use} 的资金为 ${yuan(a.availableFen)}，本次需要 ${yuan(a.requestedFen)}，差 ${yuan(a.requestedFen - a.availableFen)}；请待资金到账后再办理，或减少金额。`,
  purpose_not_allowed: (a) =>
    a.case === 'tranche'
      ? `资金批次 ${a.trancheId} 的用途为 ${a.purpose}，不得用于 ${a.use}（专款专用）；请改指定用途相符的资金批次。`
      : `账户 ${a.accountId} 余额 ${yuan(a.balanceFen)}，其中可用于 ${a.use} 的只有 ${yuan(a.allowedFen)}（专款专用），本次需要 ${yuan(a.requestedFen)}；请先下达或统筹整合用途相符的资金。`,
  tranche_not_in_account: (a) =>
    `资金批次 ${a.trancheId} 属于账户 ${a.accountId}，不属于账户 ${a.named}；请指定本账户的资金批次。`,
  too_many_tranches: (a) =>
    `本次需要动用 ${a.count} 个资金批次，一笔业务最多 ${a.max} 个；请把金额拆成几笔办理。`,
  named_tranches_mismatch: (a) =>
    a.case === 'twice'
      ? `资金批次 ${a.trancheId} 被指定了两次；每个资金批次只指定一次。`
      : `指定的资金批次合计 ${yuan(a.namedFen)}，业务金额为 ${yuan(a.amountFen)}，相差 ${yuan(a.amountFen - a.namedFen)}；请使两者相等。`,
  account_kind_mismatch: (a) =>
    a.case === 'kind'
      ? `${roleLabels[a.role]}账户 ${a.accountId} 是${kindLabels[a.kind]}，此处需要${kindLabels[a.expected]}；请改用${kindLabels[a.expected]}。`
      : `账户 ${a.accountId} 已是项目 ${a.projectId} 的项目账户；每个项目请开立自己的项目账户。`,
  allocation_to_self: (a) =>
    `资金下达只能下达给其他账套，不能下达给本级账套 ${a.partition}；本级使用资金请做资金安排。`,
  fund_source_mismatch: (a) =>
    a.sources.length === 1
      ? `所动用资金的资金来源是${source(a.sources[0]!)}，不是${source(a.fundSource)}；请按${source(a.sources[0]!)}下达，或指定${source(a.fundSource)}的资金批次。`
      : `所动用资金混合了${a.sources.map(source).join('、')}；请按统筹整合涉农资金下达，或只指定${source(a.fundSource)}的资金批次。`,
  allocation_not_addressed_here: (a) =>
    `账套 ${a.partition} 的资金下达 ${a.allocationId} 是下达给 ${a.to} 的，不是本级账套 ${a.here}；请由 ${a.to} 登记到账。`,
  allocation_amount_mismatch: (a) =>
    `资金下达 ${a.allocationId} 的下达金额为 ${yuan(a.issuedFen)}，本次登记到账 ${yuan(a.receivedFen)}，相差 ${yuan(a.issuedFen - a.receivedFen)}；请按下达金额登记到账。`,
  total_mismatch: (a) =>
    `填写的合计 ${yuan(a.totalFen)} 不等于各明细行之和 ${yuan(a.linesSumFen)}，相差 ${yuan(a.totalFen - a.linesSumFen)}；请核对合计和明细行。`,
  duplicate_line: (a) => {
    switch (a.case) {
      case 'plan':
        return `明细行 ${a.lineId} 出现了两次；每个明细行编号只用一次。`;
      case 'line_number':
        return `行号 ${a.line} 出现了两次；每个行号只用一次。`;
      case 'household':
        return `户 ${a.householdId} 列了两次；每户只列一行，数量填全。`;
      case 'member':
        return `第 ${a.line} 行把同一名成员列了两次；每名成员只列一次。`;
    }
  },
  plan_line_exceeded: (a) => {
    const over = yuan((a.case === 'integration' ? a.requestedFen : a.budgetFen) - a.roomFen);
    switch (a.case) {
      case 'integration':
        return `规划 ${a.planId} 明细行 ${a.lineId} 还可统筹整合 ${yuan(a.roomFen)}，本次指定 ${yuan(a.requestedFen)}，超出 ${over}；请减少金额或调整规划。`;
      case 'project':
        return `规划 ${a.planId} 明细行 ${a.lineId} 尚未安排给项目的额度为 ${yuan(a.roomFen)}，本项目预算 ${yuan(a.budgetFen)}，超出 ${over}；请调减预算或调整规划。`;
      case 'adjust':
        return `规划 ${a.planId} 明细行 ${a.lineId} 允许本项目预算最多 ${yuan(a.roomFen)}，本次调整为 ${yuan(a.budgetFen)}，超出 ${over}；请调减预算或调整规划。`;
    }
  },
  plan_below_commitments: (a) =>
    `明细行 ${a.lineId} 已承担项目或统筹整合资金 ${yuan(a.usedFen)}；不能删除、改变类别或调减到低于该金额。`,
  project_budget_exceeded: (a) =>
    `项目 ${a.projectId} 预算中尚未安排的资金为 ${yuan(a.roomFen)}，本次安排 ${yuan(a.requestedFen)}，超出 ${yuan(a.requestedFen - a.roomFen)}；请减少金额或先调整项目预算。`,
  project_budget_below_earmarked: (a) =>
    `项目 ${a.projectId} 已安排资金 ${yuan(a.earmarkedFen)}；项目预算不能调减到低于该金额。`,
  acceptance_required: (a) =>
    a.case === 'project'
      ? `项目 ${a.projectId} 实行报账制：请先登记验收，并在拨付时填写验收编号。`
      : `「${a.programme}」须验收后才能发放；请填写验收文件编号。`,
  acceptance_for_other_project: (a) =>
    `验收 ${a.acceptanceId} 是项目 ${a.of} 的验收，不是项目 ${a.projectId} 的；请填写本项目的验收编号。`,
  household_not_registered: (a) =>
    `户 ${a.householdId} 不在扶贫对象登记库中（登记库序号 ${a.registrySeq}）；请核对户编号，或先在登记库中登记该户。`,
  household_exited: (a) => `户 ${a.householdId} 已退出登记库（脱贫或销号）；不能再按扶贫对象发放。`,
  household_without_account: (a) =>
    `户 ${a.householdId} 尚未绑定一卡通账户；请先在登记库中绑定一卡通，再发放。`,
  member_deceased: (a) => {
    switch (a.case) {
      case 'all':
        return `户 ${a.householdId} 的成员均已登记死亡（${deaths(a.deceased)}）；不能向该户发放（虚报冒领）。`;
      case 'persons':
        return `「${a.programme}」按人发放：本次按 ${a.persons} 人发放，但户 ${a.householdId} 在世成员只有 ${a.livingMembers} 人（${deaths(a.deceased)}）；请只为在世成员发放。`;
      case 'listed':
        return `第 ${a.line} 行列入了户 ${a.householdId} 已登记死亡的成员（${deaths(a.deceased)}）；请只列在世成员。`;
    }
  },
  duplicate_payment: (a) =>
    `户 ${a.householdId} 已发放过 ${a.programmeCode} ${a.period} 期的补贴${a.paymentId === null ? '（本花名册前面的行）' : `（支付编号 ${a.paymentId}）`}；同一户同一项目同一期只能发放一次（重复发放）。`,
  above_standard: (a) =>
    `${yuan(a.amountFen)} 高于「${a.programme}」的标准：每${label(unitLabels, a.unit)} ${yuan(a.standardFen)} × ${a.quantity} = ${yuan(a.standardFen * BigInt(a.quantity))}（超标准发放）；请按标准核对金额和数量。`,
  below_standard: (a) =>
    `${yuan(a.amountFen)} 低于「${a.programme}」的标准：每${label(unitLabels, a.unit)} ${yuan(a.standardFen)} × ${a.quantity} = ${yuan(a.standardFen * BigInt(a.quantity))}；请按标准核对金额和数量。`,
  amount_above_limit: (a) =>
    `${yuan(a.amountFen)} 超过一户一笔补贴发放的上限 ${yuan(a.limitFen)}；请检查是否把万元当作元填写。`,
  notice_required: (a) =>
    `补助项目 ${a.programmeCode} 须在${label(noticeStageLabels, a.stage)}期满后才能发放；请填写该公示的编号。`,
  notice_mismatch: (a) =>
    a.case === 'payment'
      ? `公示 ${a.noticeId} 是${a.noticeProgramme === null ? '' : ` ${a.noticeProgramme}`}${a.noticePeriod === null ? '' : ` ${a.noticePeriod}`} 的${label(noticeStageLabels, a.stage)}；本次发放需要 ${a.programmeCode} ${a.period} 的${label(noticeStageLabels, a.neededStage)}。请填写对应的公示编号。`
      : `「${a.programme}」的公示阶段为 ${a.chain.map((c) => `${c}（${label(noticeStageLabels, c)}）`).join('、')}，${a.stage} 不在其中；请填写其中一个阶段代码。`,
  notice_period_not_over: (a) =>
    a.case === 'pay'
      ? `公示 ${a.noticeId} 的公示期到 ${a.endsOn} 为止；请从次日起再发放。`
      : `公示 ${a.noticeId} 的公示期到 ${a.endsOn} 为止；请在期满后再结束公示。`,
  notice_period_too_short: (a) =>
    `「${a.programme}」的公示期至少 ${a.minDays} 天，本次只有 ${a.days} 天；请延长公示期。`,
  notice_period_invalid: (a) => `公示结束日期 ${a.endsOn} 早于开始日期 ${a.startsOn}；请核对公示期。`,
  objection_open: (a) => {
    switch (a.case) {
      case 'notice':
        return `公示 ${a.noticeId} 有 ${a.count} 件针对整个公示的异议尚未处理；请处理后再发放。`;
      case 'household':
        return `公示 ${a.noticeId} 中针对户 ${a.householdId} 的异议尚未处理；请处理后再发放。`;
      case 'close':
        return `公示 ${a.noticeId} 还有未处理的异议；请处理后再结束公示。`;
    }
  },
  objection_upheld: (a) =>
    `公示 ${a.noticeId} 中针对户 ${a.householdId} 的异议成立；不能按此公示向该户发放。`,
  notice_closed: (a) => `公示 ${a.noticeId} 已结束；不能再对其提出异议。`,
  notice_lines_invalid: (a) =>
    a.case === 'kind'
      ? `只有填写了补助项目的发放名单或补助对象公示才能列出受益户；公示 ${a.noticeId} 是${label(noticeKindLabels, a.kind)}公示${a.programmeCode === null ? '，且未填写补助项目' : `（补助项目 ${a.programmeCode}）`}。`
      : `公示名单 ${a.lineCount} 行中有 ${a.errorCount} 行不符合要求，公示未发布；请改正后重新发布。`,
  not_on_notice: (a) =>
    a.case === 'absent'
      ? `未经公示：户 ${a.householdId} 不在公示 ${a.noticeId} 的名单上（名单共 ${a.listed} 户），不能按此公示发放；请先发布列有该户的公示。`
      : `未经公示：公示 ${a.noticeId} 第 ${a.line} 行列的户 ${a.householdId} 为 ${yuan(a.listedFen)}（数量 ${a.listedQuantity}），本次发放 ${yuan(a.paymentFen)}（数量 ${a.paymentQuantity}）；请按公示的金额发放，或发布更正后的公示。`,
  roster_rows_invalid: (a) =>
    a.case === 'rows'
      ? `发放花名册 ${a.rowCount} 行中有 ${a.errorCount} 行不符合要求，整个花名册未登记；请改正后重新提交。`
      : `发放花名册格式有误：${malformedProblems(a)}；未登记任何内容，请改正后重新提交。`,
  roster_row_duplicate: (a) => `行号 ${a.row} 出现了两次；每个行号只用一次。`,
  bank_results_invalid: (a) =>
    a.case === 'rows'
      ? `银行回盘 ${a.rowCount} 行中有 ${a.errorCount} 行不符合要求，整个文件未登记；请改正后重新导入。`
      : `银行回盘格式有误：${malformedProblems(a)}；未登记任何内容，请改正后重新导入。`,
  bank_row_mismatch: (a) => {
    const problems: string[] = [];
    if (a.household !== null)
      problems.push(`户编号 ${a.household.given} 与该笔发放的户 ${a.household.payment} 不符`);
    if (a.amount !== null)
      problems.push(`金额 ${yuan(a.amount.givenFen)} 与该笔发放的 ${yuan(a.amount.paymentFen)} 不符`);
    return `补贴发放 ${a.paymentId}：${problems.join('，')}；请核对回盘是否对应这份花名册，行是否错位。`;
  },
  bank_row_payment_twice: (a) =>
    `补贴发放 ${a.paymentId} 已在第 ${a.row} 行出现；银行对每笔发放只回盘一个结果。`,
  row_number_duplicate: (a) => `行号 ${a.row} 在文件中出现了两次；每个行号只用一次。`,
  date_in_future: (a) => `银行回盘日期 ${a.date} 晚于今天（${a.today}）；请核对到账或退回日期。`,
  movement_not_reversible: (a) =>
    a.case === 'payment'
      ? `补贴发放 ${a.paymentId} 的状态是“${label(paymentStatusLabels, a.status)}”；这里只能冲正银行尚未办结的发放。已发出的资金请通过追回另行登记到账。`
      : `到账 ${a.receiptId} 来自其他账套；请向下达方做一笔资金下达退回资金，使双方账套一致。`,
  reversal_blocked_downstream: (a) =>
    `${movementLabels[a.kind]} ${a.movementId} 登记的资金中已有 ${yuan(a.movedOnFen)} 被后续业务使用（资金批次 ${a.trancheId}）；请先冲正后续业务。`,
  payments_in_flight: (a) =>
    `${a.count} 笔动用 ${a.fiscalYear} 年度资金的补贴发放尚待银行回盘；请先登记到账或退回，再结账。`,
};

function malformedProblems(a: Malformed): string {
  const parts = a.badRows > 0 ? [`${a.badRows} 行有错误`] : [];
  return [...parts, ...a.headIssues].join('；');
}

/** The message of a refusal: the code's wording applied to its facts. */
export function rejectionMessage<C extends RejectionCode>(code: C, args: RejectionArgs[C]): string {
  // Indexing the mapped type with a generic code is one function per code to TypeScript; the
  // signature above already ties `args` to `code`.
  const wording = rejectionMessages[code] as unknown as (a: unknown) => string;
  return wording(args);
}
