import { ledger } from '@fundtrace/events';
import type { Programme, Reference } from '../reference/programmes';
import type { CommandData, LedgerCommand } from './commands';
import { Draft } from './draft';
import type { LedgerEventInput } from './evolve';
import { carryOverChunkMax } from './limits';
import { checkBeneficiary, checkLineAmount, checkLivingBeneficiaries } from './line-checks';
import { checkNoticeLines, checkOnNotice, noticeLineEvents } from './notice-lines';
import type { AccountRole } from './rejection-messages';
import { invariant, type Rejected, type RejectionCode, reject } from './rejections';
import {
  type AccountState,
  type LedgerState,
  movementKey,
  type NoticeState,
  originKey,
  type PaymentState,
  paymentKey,
  trancheIdFor,
} from './state';

type LedgerData<T extends ledger.LedgerEventType> = ledger.LedgerData<T>;
type TrancheCredit = ledger.TrancheCredit;
type TrancheDebit = ledger.TrancheDebit;

/** What ledger-api knows about a household from tailing REGISTRY_<code>. */
export interface HouseholdFacts {
  /** 脱贫 or 销号: no longer paid as a registered poor household. */
  readonly exited: boolean;
  /** Has a bound 一卡通 account to pay into. */
  readonly accountBound: boolean;
  /**
   * Members alive according to the registry (registered or added, less those
   * recorded dead). Undefined where a view knows nothing of members (test stubs);
   * the registry tail always knows.
   */
  readonly livingMembers?: number;
  /** Members recorded dead (MemberDeceased), with the day; undefined when none died. */
  readonly deceased?: ReadonlyArray<{ readonly memberNo: number; readonly diedOn: string }> | undefined;
}

export interface RegistryView {
  /** The REGISTRY_<code> sequence these facts are as of; recorded in every payment. */
  readonly seq: number;
  household(householdId: string): HouseholdFacts | undefined;
}

export interface DecideContext {
  readonly reference: Reference;
  readonly registry: RegistryView;
  /**
   * Today's date (Beijing) from the writer's clock. Notice periods are judged on
   * it, never on the command's business date, which may be back-dated (补发):
   * back-dating must not let a payment jump a notice period.
   */
  readonly today: string;
  /**
   * For a receipt from another partition: the issuer's AllocationIssued, read by
   * the writer from the issuer's LEDGER stream; null when it is not there.
   */
  readonly issued?: LedgerData<'AllocationIssued'> | null;
}

export type Decision = { readonly ok: true; readonly events: LedgerEventInput[] } | Rejected;

/** One refused roster row, for the officer's error list. */
export interface RowError {
  readonly row: number;
  readonly code: RejectionCode;
  readonly message: string;
}

/** A refused row for the officer's list: its number, with the refusal's code and message. */
function rowError(row: number, refusal: Rejected): RowError {
  return { row, code: refusal.code, message: refusal.message };
}

/**
 * decide(state, command, context) → events or a named rejection. Pure: no clock,
 * no ids, no I/O; time and ids arrive with the command and context, and the
 * state is only read.
 */
export function decide(state: LedgerState, command: LedgerCommand, ctx: DecideContext): Decision {
  switch (command.type) {
    case 'OpenAccount':
      return openAccount(state, command.data);
    case 'IssueAllocation':
      return issueAllocation(state, command.data, ctx);
    case 'ReceiveAllocation':
      return receiveAllocation(state, command.data, ctx);
    case 'IntegrateFunds':
      return integrateFunds(state, command.data);
    case 'ApprovePlan':
      return approvePlan(state, command.data, ctx);
    case 'AdjustPlan':
      return adjustPlan(state, command.data, ctx);
    case 'ApproveProject':
      return approveProject(state, command.data);
    case 'AdjustProject':
      return adjustProject(state, command.data);
    case 'RecordAcceptance':
      return recordAcceptance(state, command.data);
    case 'EarmarkFunds':
      return earmarkFunds(state, command.data, ctx);
    case 'DisburseFunds':
      return disburseFunds(state, command.data);
    case 'InstructPayment':
      return instructPayment(state, command.data, ctx);
    case 'SubmitRoster':
      return submitRoster(state, command.data, ctx);
    case 'SettlePayment':
      return settlePayment(state, command.data, ctx);
    case 'ReturnPayment':
      return returnPayment(state, command.data, ctx);
    case 'RecordBankResults':
      return recordBankResults(state, command.data, ctx);
    case 'ReverseMovement':
      return reverseMovement(state, command.data);
    case 'CloseFiscalYear':
      return closeFiscalYear(state, command.data);
    case 'PublishNotice':
      return publishNotice(state, command.data, ctx);
    case 'FileObjection':
      return fileObjection(state, command.data);
    case 'ResolveObjection':
      return resolveObjection(state, command.data);
    case 'CloseNotice':
      return closeNotice(state, command.data, ctx);
  }
}

const accepted = (...events: LedgerEventInput[]): Decision => ({ ok: true, events });

// ---------------------------------------------------------------- accounts

function openAccount(state: LedgerState, d: CommandData<'OpenAccount'>): Decision {
  if (state.accounts.has(d.accountId)) {
    return reject('account_exists', { accountId: d.accountId });
  }
  return accepted({ type: 'AccountOpened', data: d });
}

function findAccount(
  state: LedgerState,
  accountId: string,
  kind: AccountState['kind'] | null,
  role: AccountRole,
): AccountState | Rejected {
  const a = state.accounts.get(accountId);
  if (!a) return reject('account_not_found', { role, accountId });
  if (kind !== null && a.kind !== kind) {
    return reject(
      'account_kind_mismatch',
      { case: 'kind', role, accountId, kind: a.kind, expected: kind },
      { accountId, kind: a.kind, expected: kind },
    );
  }
  return a;
}

function isRejected(value: unknown): value is Rejected {
  return typeof value === 'object' && value !== null && (value as { ok?: unknown }).ok === false;
}

// ---------------------------------------------------------------- allocations

function issueAllocation(
  state: LedgerState,
  d: CommandData<'IssueAllocation'>,
  ctx: DecideContext,
): Decision {
  if (state.allocations.has(d.allocationId)) {
    return reject('allocation_exists', { allocationId: d.allocationId });
  }
  if (d.toPartition === state.partition) {
    return reject('allocation_to_self', { partition: state.partition });
  }
  const purposeProblem = checkPurpose(ctx, d.purpose);
  if (purposeProblem) return purposeProblem;
  if (state.closedYears.has(d.fiscalYear)) return yearClosed(d.fiscalYear);
  const from = findAccount(state, d.fromAccountId, 'pool', 'issuing');
  if (isRejected(from)) return from;
  const allows = (p: string) => ctx.reference.allows(p, d.purpose);
  const draft = new Draft(state);
  const picked = d.tranches
    ? draft.pickNamed(from, d.tranches, d.amountFen, allows, d.purpose)
    : draft.pickFifo(from, d.amountFen, allows, d.purpose);
  if (!picked.ok) return picked;
  const consumed = picked.consumed.map((p) => ({
    ...p,
    fundSource: state.tranches.get(p.trancheId)!.fundSource,
  }));
  const sourceProblem = checkFundSource(d.fundSource, consumed);
  if (sourceProblem) return sourceProblem;
  const { tranches: _named, ...facts } = d;
  return accepted({ type: 'AllocationIssued', data: { ...facts, consumed } });
}

/**
 * The 资金来源 an allocation is published under must be where its money came from: the source of
 * every tranche it draws. The one label that may stand for money of several sources is 统筹整合
 * (`integrated`): counties pool central, provincial and sector funds under one plan and allocate
 * them as such (DOMAIN.md, integration). A 市级 label on central money would show the board 市级
 * while the receiving tranches say central.
 */
function checkFundSource(
  label: ledger.FundSource,
  consumed: readonly { readonly trancheId: string; readonly fundSource: ledger.FundSource }[],
): Rejected | null {
  if (label === 'integrated') return null;
  const sources = [...new Set(consumed.map((c) => c.fundSource))];
  if (sources.length === 1 && sources[0] === label) return null;
  const other = consumed.filter((c) => c.fundSource !== label);
  return reject(
    'fund_source_mismatch',
    { fundSource: label, sources },
    { fundSource: label, consumedSources: sources, otherTranches: other.map((c) => c.trancheId) },
  );
}

function receiveAllocation(
  state: LedgerState,
  d: CommandData<'ReceiveAllocation'>,
  ctx: DecideContext,
): Decision {
  if (state.movements.has(movementKey('receipt', d.receiptId))) {
    return reject('receipt_exists', { receiptId: d.receiptId });
  }
  const to = findAccount(state, d.accountId, 'pool', 'receiving');
  if (isRejected(to)) return to;
  if (d.origin.kind === 'external') {
    const o = d.origin;
    const purposeProblem = checkPurpose(ctx, o.purpose);
    if (purposeProblem) return purposeProblem;
    if (state.closedYears.has(o.fiscalYear)) return yearClosed(o.fiscalYear);
    const created: TrancheCredit = {
      trancheId: trancheIdFor('rc', d.receiptId, 1),
      accountId: d.accountId,
      amountFen: d.amountFen,
      fundSource: o.fundSource,
      fiscalYear: o.fiscalYear,
      purpose: o.purpose,
      documentNumber: o.documentNumber,
      parents: [],
    };
    return accepted({
      type: 'AllocationReceived',
      data: {
        receiptId: d.receiptId,
        origin: { kind: 'external', payer: o.payer },
        accountId: d.accountId,
        documentNumber: o.documentNumber,
        fundSource: o.fundSource,
        purpose: o.purpose,
        fiscalYear: o.fiscalYear,
        amountFen: d.amountFen,
        created: [created],
      },
    });
  }
  const o = d.origin;
  const issued = ctx.issued;
  if (!issued || issued.allocationId !== o.allocationId) {
    return reject(
      'allocation_not_found',
      { partition: o.partition, allocationId: o.allocationId },
      { partition: o.partition, allocationId: o.allocationId },
    );
  }
  if (issued.toPartition !== state.partition) {
    return reject('allocation_not_addressed_here', {
      partition: o.partition,
      allocationId: o.allocationId,
      to: issued.toPartition,
      here: state.partition,
    });
  }
  if (state.receivedOrigins.has(originKey(o.partition, o.allocationId))) {
    return reject('allocation_already_received', { partition: o.partition, allocationId: o.allocationId });
  }
  if (issued.amountFen !== d.amountFen) {
    return reject(
      'allocation_amount_mismatch',
      { allocationId: o.allocationId, issuedFen: issued.amountFen, receivedFen: d.amountFen },
      { issuedFen: issued.amountFen.toString(), receivedFen: d.amountFen.toString() },
    );
  }
  if (state.closedYears.has(issued.fiscalYear)) return yearClosed(issued.fiscalYear);
  const purposeProblem = checkPurpose(ctx, issued.purpose);
  if (purposeProblem) return purposeProblem;
  // One child per parent tranche: each keeps its fund source, so 中央 money stays 中央 at every level.
  const created = issued.consumed.map(
    (parent, i): TrancheCredit => ({
      trancheId: trancheIdFor('rc', d.receiptId, i + 1),
      accountId: d.accountId,
      amountFen: parent.amountFen,
      fundSource: parent.fundSource,
      fiscalYear: issued.fiscalYear,
      purpose: issued.purpose,
      documentNumber: issued.documentNumber,
      parents: [{ partition: o.partition, trancheId: parent.trancheId, amountFen: parent.amountFen }],
    }),
  );
  return accepted({
    type: 'AllocationReceived',
    data: {
      receiptId: d.receiptId,
      origin: { kind: 'partition', partition: o.partition, allocationId: o.allocationId },
      accountId: d.accountId,
      documentNumber: issued.documentNumber,
      fundSource: issued.fundSource,
      purpose: issued.purpose,
      fiscalYear: issued.fiscalYear,
      amountFen: d.amountFen,
      created,
    },
  });
}

/** Children of consumed pieces, one per piece, keeping each parent's source and year. */
function childrenOf(
  state: LedgerState,
  consumed: readonly TrancheDebit[],
  prefix: 'ig' | 'em' | 'db',
  movementId: string,
  accountId: string,
  purpose: (parentPurpose: string) => string,
): TrancheCredit[] {
  return consumed.map((piece, i) => {
    const parent = state.tranches.get(piece.trancheId)!;
    return {
      trancheId: trancheIdFor(prefix, movementId, i + 1),
      accountId,
      amountFen: piece.amountFen,
      fundSource: parent.fundSource,
      fiscalYear: parent.fiscalYear,
      purpose: purpose(parent.purpose),
      documentNumber: parent.documentNumber,
      parents: [{ partition: null, trancheId: parent.id, amountFen: piece.amountFen }],
    };
  });
}

function integrateFunds(state: LedgerState, d: CommandData<'IntegrateFunds'>): Decision {
  if (state.movements.has(movementKey('integration', d.integrationId))) {
    return reject('integration_exists', { integrationId: d.integrationId });
  }
  const plan = state.plans.get(d.planId);
  if (!plan) return reject('plan_not_found', { planId: d.planId });
  const line = plan.lines.get(d.lineId);
  if (!line) return reject('plan_line_not_found', { planId: d.planId, lineId: d.lineId });
  const pool = findAccount(state, d.accountId, 'pool', 'integrating');
  if (isRejected(pool)) return pool;
  // 统筹整合 is precisely the re-purposing of sector funds under the plan: any purpose may be named.
  const picked = new Draft(state).pickNamed(pool, d.tranches, null, () => true, line.category);
  if (!picked.ok) return picked;
  const amountFen = picked.consumed.reduce((s, p) => s + p.amountFen, 0n);
  const room = line.amountFen - line.integratedFen;
  if (amountFen > room) {
    return reject(
      'plan_line_exceeded',
      { case: 'integration', planId: d.planId, lineId: d.lineId, roomFen: room, requestedFen: amountFen },
      { roomFen: room.toString(), requestedFen: amountFen.toString() },
    );
  }
  const created = childrenOf(state, picked.consumed, 'ig', d.integrationId, d.accountId, () => line.category);
  return accepted({
    type: 'FundsIntegrated',
    data: {
      integrationId: d.integrationId,
      planId: d.planId,
      lineId: d.lineId,
      accountId: d.accountId,
      documentNumber: d.documentNumber,
      purpose: line.category,
      amountFen,
      consumed: picked.consumed,
      created,
    },
  });
}

// ---------------------------------------------------------------- plans and projects

function checkPlanLines(
  ctx: DecideContext,
  totalFen: bigint,
  lines: readonly ledger.PlanLine[],
): Rejected | undefined {
  const ids = new Set<string>();
  for (const l of lines) {
    if (ids.has(l.lineId)) return reject('duplicate_line', { case: 'plan', lineId: l.lineId });
    ids.add(l.lineId);
    const purposeProblem = checkPurpose(ctx, l.category);
    if (purposeProblem) return purposeProblem;
  }
  const sum = lines.reduce((s, l) => s + l.amountFen, 0n);
  if (sum !== totalFen) {
    return reject(
      'total_mismatch',
      { totalFen, linesSumFen: sum },
      {
        totalFen: totalFen.toString(),
        linesSumFen: sum.toString(),
        differenceFen: (totalFen - sum).toString(),
      },
    );
  }
  return undefined;
}

function approvePlan(state: LedgerState, d: CommandData<'ApprovePlan'>, ctx: DecideContext): Decision {
  if (state.plans.has(d.planId)) return reject('plan_exists', { planId: d.planId });
  const problem = checkPlanLines(ctx, d.totalFen, d.lines);
  if (problem) return problem;
  return accepted({ type: 'PlanApproved', data: d });
}

function adjustPlan(state: LedgerState, d: CommandData<'AdjustPlan'>, ctx: DecideContext): Decision {
  const plan = state.plans.get(d.planId);
  if (!plan) return reject('plan_not_found', { planId: d.planId });
  const problem = checkPlanLines(ctx, d.totalFen, d.lines);
  if (problem) return problem;
  const next = new Map(d.lines.map((l) => [l.lineId, l]));
  for (const [lineId, old] of plan.lines) {
    const used = old.committedFen > old.integratedFen ? old.committedFen : old.integratedFen;
    const n = next.get(lineId);
    if (used > 0n && (!n || n.amountFen < used || n.category !== old.category)) {
      return reject(
        'plan_below_commitments',
        { lineId, usedFen: used },
        { lineId, usedFen: used.toString(), proposedFen: (n?.amountFen ?? 0n).toString() },
      );
    }
  }
  return accepted({ type: 'PlanAdjusted', data: d });
}

function approveProject(state: LedgerState, d: CommandData<'ApproveProject'>): Decision {
  if (state.projects.has(d.projectId)) return reject('project_exists', { projectId: d.projectId });
  const plan = state.plans.get(d.planId);
  if (!plan) return reject('plan_not_found', { planId: d.planId, forProject: true });
  const line = plan.lines.get(d.lineId);
  if (!line) return reject('plan_line_not_found', { planId: d.planId, lineId: d.lineId });
  const acct = findAccount(state, d.accountId, 'project', 'project');
  if (isRejected(acct)) return acct;
  for (const p of state.projects.values()) {
    if (p.accountId === d.accountId) {
      return reject('account_kind_mismatch', { case: 'taken', accountId: d.accountId, projectId: p.id });
    }
  }
  const unit = findAccount(state, d.implementingUnitAccountId, 'implementing_unit', 'implementing_unit');
  if (isRejected(unit)) return unit;
  const room = line.amountFen - line.committedFen;
  if (d.budgetFen > room) {
    return reject(
      'plan_line_exceeded',
      { case: 'project', planId: d.planId, lineId: d.lineId, roomFen: room, budgetFen: d.budgetFen },
      { roomFen: room.toString(), budgetFen: d.budgetFen.toString() },
    );
  }
  return accepted({ type: 'ProjectApproved', data: { ...d, category: line.category } });
}

function adjustProject(state: LedgerState, d: CommandData<'AdjustProject'>): Decision {
  const project = state.projects.get(d.projectId);
  if (!project) return reject('project_not_found', { projectId: d.projectId });
  const unit = findAccount(state, d.implementingUnitAccountId, 'implementing_unit', 'implementing_unit');
  if (isRejected(unit)) return unit;
  if (d.budgetFen < project.earmarkedFen) {
    return reject(
      'project_budget_below_earmarked',
      { projectId: d.projectId, earmarkedFen: project.earmarkedFen },
      { earmarkedFen: project.earmarkedFen.toString(), budgetFen: d.budgetFen.toString() },
    );
  }
  const line = state.plans.get(project.planId)!.lines.get(project.lineId)!;
  const room = line.amountFen - line.committedFen + project.budgetFen;
  if (d.budgetFen > room) {
    return reject(
      'plan_line_exceeded',
      {
        case: 'adjust',
        planId: project.planId,
        lineId: project.lineId,
        roomFen: room,
        budgetFen: d.budgetFen,
      },
      { roomFen: room.toString(), budgetFen: d.budgetFen.toString() },
    );
  }
  return accepted({ type: 'ProjectAdjusted', data: d });
}

function recordAcceptance(state: LedgerState, d: CommandData<'RecordAcceptance'>): Decision {
  if (state.acceptances.has(d.acceptanceId)) {
    return reject('acceptance_exists', { acceptanceId: d.acceptanceId });
  }
  if (!state.projects.has(d.projectId)) return reject('project_not_found', { projectId: d.projectId });
  return accepted({ type: 'AcceptanceRecorded', data: d });
}

function earmarkFunds(state: LedgerState, d: CommandData<'EarmarkFunds'>, ctx: DecideContext): Decision {
  if (state.movements.has(movementKey('earmark', d.earmarkId))) {
    return reject('earmark_exists', { earmarkId: d.earmarkId });
  }
  const project = state.projects.get(d.projectId);
  if (!project) return reject('project_not_found', { projectId: d.projectId });
  const pool = findAccount(state, d.fromAccountId, 'pool', 'source');
  if (isRejected(pool)) return pool;
  const room = project.budgetFen - project.earmarkedFen;
  if (d.amountFen > room) {
    return reject(
      'project_budget_exceeded',
      { projectId: d.projectId, roomFen: room, requestedFen: d.amountFen },
      { roomFen: room.toString(), requestedFen: d.amountFen.toString() },
    );
  }
  const allows = (p: string) => ctx.reference.allows(p, project.category);
  const draft = new Draft(state);
  const picked = d.tranches
    ? draft.pickNamed(pool, d.tranches, d.amountFen, allows, project.category)
    : draft.pickFifo(pool, d.amountFen, allows, project.category);
  if (!picked.ok) return picked;
  const created = childrenOf(
    state,
    picked.consumed,
    'em',
    d.earmarkId,
    project.accountId,
    () => project.category,
  );
  return accepted({
    type: 'FundsEarmarked',
    data: {
      earmarkId: d.earmarkId,
      projectId: d.projectId,
      fromAccountId: d.fromAccountId,
      toAccountId: project.accountId,
      amountFen: d.amountFen,
      consumed: picked.consumed,
      created,
    },
  });
}

function disburseFunds(state: LedgerState, d: CommandData<'DisburseFunds'>): Decision {
  if (state.movements.has(movementKey('disbursement', d.disbursementId))) {
    return reject('disbursement_exists', { disbursementId: d.disbursementId });
  }
  const project = state.projects.get(d.projectId);
  if (!project) return reject('project_not_found', { projectId: d.projectId });
  if (project.reimbursement && d.acceptanceId === null) {
    return reject('acceptance_required', { case: 'project', projectId: d.projectId });
  }
  if (d.acceptanceId !== null) {
    const of = state.acceptances.get(d.acceptanceId);
    if (of === undefined) return reject('acceptance_not_found', { acceptanceId: d.acceptanceId });
    if (of !== d.projectId) {
      return reject('acceptance_for_other_project', {
        acceptanceId: d.acceptanceId,
        of,
        projectId: d.projectId,
      });
    }
  }
  const from = state.accounts.get(project.accountId)!;
  const draft = new Draft(state);
  // Money on a project account is the project's already: any of its tranches may go to its unit.
  const picked = d.tranches
    ? draft.pickNamed(from, d.tranches, d.amountFen, () => true, project.category)
    : draft.pickFifo(from, d.amountFen, () => true, project.category);
  if (!picked.ok) return picked;
  const to = project.implementingUnitAccountId;
  const created = childrenOf(state, picked.consumed, 'db', d.disbursementId, to, (p) => p);
  return accepted({
    type: 'FundsDisbursed',
    data: {
      disbursementId: d.disbursementId,
      projectId: d.projectId,
      fromAccountId: project.accountId,
      toAccountId: to,
      amountFen: d.amountFen,
      acceptanceId: d.acceptanceId,
      consumed: picked.consumed,
      created,
    },
  });
}

// ---------------------------------------------------------------- payments

interface PaymentTerms {
  readonly programme: Programme;
  readonly account: AccountState;
  readonly notice: NoticeState | null;
  readonly allows: (purpose: string) => boolean;
}

/** Checks shared by a single payment and a whole roster: programme, account, notice. */
function paymentTerms(
  state: LedgerState,
  ctx: DecideContext,
  programmeCode: string,
  period: string,
  accountId: string,
  noticeId: string | null,
): PaymentTerms | Rejected {
  const programme = ctx.reference.programmes.get(programmeCode);
  if (!programme) {
    return reject('unknown_programme', { programmeCode, version: ctx.reference.version });
  }
  const account = findAccount(state, accountId, 'pool', 'paying');
  if (isRejected(account)) return account;
  let notice: NoticeState | null = null;
  if (programme.notice !== null) {
    const chain = programme.notice.chain;
    const finalStage = chain[chain.length - 1]!;
    if (noticeId === null) {
      return reject('notice_required', { programmeCode, stage: finalStage }, { stage: finalStage });
    }
    const n = state.notices.get(noticeId);
    if (!n) return reject('notice_not_found', { noticeId });
    if (
      n.programmeCode !== programmeCode ||
      (n.period !== null && n.period !== period) ||
      n.stage !== finalStage
    ) {
      return reject(
        'notice_mismatch',
        {
          case: 'payment',
          noticeId,
          stage: n.stage,
          noticeProgramme: n.programmeCode,
          noticePeriod: n.period,
          neededStage: finalStage,
          programmeCode,
          period,
        },
        { noticeId, stage: n.stage, programmeCode: n.programmeCode, period: n.period },
      );
    }
    if (!(ctx.today > n.endsOn)) {
      return reject(
        'notice_period_not_over',
        { case: 'pay', noticeId, endsOn: n.endsOn },
        { endsOn: n.endsOn, today: ctx.today },
      );
    }
    if (n.openWide > 0) {
      return reject('objection_open', { case: 'notice', noticeId, count: n.openWide });
    }
    notice = n;
  }
  const allows = (p: string) => programme.purposes.some((use) => ctx.reference.allows(p, use));
  return { programme, account, notice, allows };
}

interface PaymentLine {
  readonly householdId: string;
  readonly quantity: number;
  readonly amountFen: bigint;
  readonly acceptanceRef: string | null;
}

/** The per-household rules; `seen` holds the keys already taken earlier in the same roster. */
function checkPaymentLine(
  state: LedgerState,
  ctx: DecideContext,
  terms: PaymentTerms,
  period: string,
  line: PaymentLine,
  seen: Set<string> | null,
): Rejected | undefined {
  const { programme } = terms;
  // Who is paid, then whether they were paid already, then how much: a row naming an unregistered
  // household or paying one twice is reported as that, whatever its amount.
  const householdProblem = checkBeneficiary(ctx.registry, line.householdId, true);
  if (householdProblem) return householdProblem;
  const key = paymentKey(line.householdId, programme.code, period);
  const existing = state.paymentKeys.get(key);
  if (existing !== undefined || seen?.has(key)) {
    return reject('duplicate_payment', {
      householdId: line.householdId,
      programmeCode: programme.code,
      period,
      paymentId: existing ?? null,
    });
  }
  const deathProblem = checkLivingBeneficiaries(
    programme,
    period,
    line,
    ctx.registry.household(line.householdId)!,
  );
  if (deathProblem) return deathProblem;
  const amountProblem = checkLineAmount(programme, line.quantity, line.amountFen);
  if (amountProblem) return amountProblem;
  if (terms.notice !== null) {
    const n = terms.notice;
    const unnoticed = checkOnNotice(n, line);
    if (unnoticed) return unnoticed;
    if ((n.openByHousehold.get(line.householdId) ?? 0) > 0) {
      return reject('objection_open', { case: 'household', noticeId: n.id, householdId: line.householdId });
    }
    if (n.upheldHouseholds.has(line.householdId)) {
      return reject('objection_upheld', { noticeId: n.id, householdId: line.householdId });
    }
  }
  if (programme.needsAcceptance && line.acceptanceRef === null) {
    return reject('acceptance_required', { case: 'programme', programme: programme.name });
  }
  return undefined;
}

function instructPayment(
  state: LedgerState,
  d: CommandData<'InstructPayment'>,
  ctx: DecideContext,
): Decision {
  if (state.payments.has(d.paymentId)) return reject('payment_exists', { paymentId: d.paymentId });
  const terms = paymentTerms(state, ctx, d.programmeCode, d.period, d.accountId, d.noticeId);
  if (isRejected(terms)) return terms;
  const problem = checkPaymentLine(state, ctx, terms, d.period, d, null);
  if (problem) return problem;
  const draft = new Draft(state);
  const picked = d.tranches
    ? draft.pickNamed(terms.account, d.tranches, d.amountFen, terms.allows, d.programmeCode)
    : draft.pickFifo(terms.account, d.amountFen, terms.allows, d.programmeCode);
  if (!picked.ok) return picked;
  return accepted({
    type: 'PaymentInstructed',
    data: {
      paymentId: d.paymentId,
      rosterId: null,
      row: null,
      householdId: d.householdId,
      programmeCode: d.programmeCode,
      period: d.period,
      quantity: d.quantity,
      amountFen: d.amountFen,
      accountId: d.accountId,
      noticeId: terms.notice?.id ?? null,
      acceptanceRef: d.acceptanceRef,
      registrySeq: ctx.registry.seq,
      consumed: picked.consumed,
    },
  });
}

/** Payment id of a roster row: the events package's rule, which the CLI's settlements import shares. */
const { rosterPaymentId } = ledger;
export { rosterPaymentId };

/**
 * A roster is validated as a whole before anything is appended: every bad row
 * is reported with its number and reason, and one bad row refuses the roster.
 */
function submitRoster(state: LedgerState, d: CommandData<'SubmitRoster'>, ctx: DecideContext): Decision {
  if (state.rosters.has(d.rosterId)) {
    return reject('roster_exists', { rosterId: d.rosterId });
  }
  return decideRoster(state, d, ctx, false);
}

/**
 * The rest of a roster whose pipelined append was cut short by another writer
 * after a prefix was stored: the rows not yet instructed, decided against the
 * state that now includes the prefix and the other writer's events.
 */
export function decideRosterRemainder(
  state: LedgerState,
  d: CommandData<'SubmitRoster'>,
  ctx: DecideContext,
): Decision {
  invariant(state.rosters.has(d.rosterId), `roster ${d.rosterId} has no stored prefix to continue`);
  const rows = d.rows.filter((r) => !state.payments.has(rosterPaymentId(d.rosterId, r.row)));
  if (rows.length === 0) return { ok: true, events: [] };
  return decideRoster(state, { ...d, rows }, ctx, true);
}

function decideRoster(
  state: LedgerState,
  d: CommandData<'SubmitRoster'>,
  ctx: DecideContext,
  remainder: boolean,
): Decision {
  const terms = paymentTerms(state, ctx, d.programmeCode, d.period, d.accountId, d.noticeId);
  if (isRejected(terms)) return terms;
  const errors: RowError[] = [];
  const seen = new Set<string>();
  const rows = new Set<number>();
  let totalFen = 0n;
  for (const r of d.rows) {
    if (rows.has(r.row)) {
      errors.push(rowError(r.row, reject('roster_row_duplicate', { row: r.row })));
      continue;
    }
    rows.add(r.row);
    const problem = checkPaymentLine(state, ctx, terms, d.period, r, seen);
    // Taken even when the row is refused: a second row for the household pays it twice whatever
    // was wrong with the first.
    seen.add(paymentKey(r.householdId, d.programmeCode, d.period));
    if (problem) {
      errors.push(rowError(r.row, problem));
      continue;
    }
    if (state.payments.has(rosterPaymentId(d.rosterId, r.row))) {
      errors.push(
        rowError(r.row, reject('payment_exists', { paymentId: rosterPaymentId(d.rosterId, r.row) })),
      );
      continue;
    }
    totalFen += r.amountFen;
  }
  if (errors.length > 0) {
    return reject(
      'roster_rows_invalid',
      { case: 'rows', errorCount: errors.length, rowCount: d.rows.length },
      { rowCount: d.rows.length, errorCount: errors.length, errors },
    );
  }
  const draft = new Draft(state);
  // Check the whole amount first: one clear shortfall instead of thousands of row errors.
  if (draft.availableFor(terms.account, terms.allows) < totalFen) {
    const refused = new Draft(state).pickFifo(terms.account, totalFen, terms.allows, d.programmeCode);
    invariant(!refused.ok, 'a roster short of funds picked its total successfully');
    return refused;
  }
  const events: LedgerEventInput[] = [];
  if (!remainder) {
    events.push({
      type: 'RosterSubmitted',
      data: {
        rosterId: d.rosterId,
        programmeCode: d.programmeCode,
        period: d.period,
        accountId: d.accountId,
        noticeId: terms.notice?.id ?? null,
        rowCount: d.rows.length,
        totalFen,
        registrySeq: ctx.registry.seq,
      },
    });
  }
  for (const r of d.rows) {
    const picked = draft.pickFifo(terms.account, r.amountFen, terms.allows, d.programmeCode);
    if (!picked.ok) return picked;
    events.push({
      type: 'PaymentInstructed',
      data: {
        paymentId: rosterPaymentId(d.rosterId, r.row),
        rosterId: d.rosterId,
        row: r.row,
        householdId: r.householdId,
        programmeCode: d.programmeCode,
        period: d.period,
        quantity: r.quantity,
        amountFen: r.amountFen,
        accountId: d.accountId,
        noticeId: terms.notice?.id ?? null,
        acceptanceRef: r.acceptanceRef,
        registrySeq: ctx.registry.seq,
        consumed: picked.consumed,
      },
    });
  }
  return { ok: true, events };
}

/**
 * The bank's date of a settlement or return is not after today (Beijing, the writer's clock): a
 * result the bank has not produced yet is a typo (a year or a month mistyped), as a registry date
 * is (decision 0093). Today itself is allowed.
 */
function notAfterToday(on: string, ctx: DecideContext): Rejected | undefined {
  if (on <= ctx.today) return undefined;
  return reject('date_in_future', { date: on, today: ctx.today }, { date: on, today: ctx.today });
}

/** The bank's result for one payment, as a settle or return command or a 回盘 row gives it. */
type BankResult =
  | { readonly result: 'settled'; readonly bankReference: string; readonly on: string }
  | { readonly result: 'returned'; readonly on: string };

/**
 * What a bank result for a payment comes to before any event is made, the same by hand
 * (SettlePayment, ReturnPayment) as in a 回盘 (decision 0134): the payment must exist and the
 * bank's date not be after today. A payment that already has this result needs no event when
 * what is recorded agrees (a settlement: the same 银行流水号 and date; a return: the same date,
 * whatever words its 失败原因 is given in), so a bank's file sent again, a cut-short command
 * decided again or a settlement keyed twice records nothing twice; when it does not agree, the
 * bank reports a second, different result for one payment (a double credit, a wrong file, a
 * typo), which is refused (`bank_result_conflict`) for the officer to check with the bank.
 * Any other state than in flight is `payment_not_in_flight` (settled for a returned payment, or
 * the reverse). Undefined: the payment is in flight and the result is new.
 */
function alreadyDecided(
  state: LedgerState,
  paymentId: string,
  given: BankResult,
  ctx: DecideContext,
): Decision | undefined {
  const p = state.payments.get(paymentId);
  if (!p) return reject('payment_not_found', { paymentId });
  const late = notAfterToday(given.on, ctx);
  if (late) return late;
  if (p.status === given.result) return conflictWith(p, given) ?? accepted();
  if (p.status !== 'instructed') {
    return reject('payment_not_in_flight', { paymentId, status: p.status }, { status: p.status });
  }
  return undefined;
}

/** The refusal of a result that is not the one recorded for the payment, or undefined when it agrees. */
function conflictWith(p: PaymentState, given: BankResult): Rejected | undefined {
  invariant(p.resultOn !== null, `payment ${p.id} is ${p.status} without the bank's date`);
  if (given.result === 'returned') {
    if (given.on === p.resultOn) return undefined;
    return reject(
      'bank_result_conflict',
      { case: 'returned', paymentId: p.id, recordedOn: p.resultOn, givenOn: given.on },
      { paymentId: p.id, recorded: { returnedOn: p.resultOn }, given: { returnedOn: given.on } },
    );
  }
  invariant(p.bankReference !== null, `payment ${p.id} is settled without its bank reference`);
  if (given.bankReference === p.bankReference && given.on === p.resultOn) return undefined;
  const recorded = { bankReference: p.bankReference, settledOn: p.resultOn };
  const row = { bankReference: given.bankReference, settledOn: given.on };
  return reject(
    'bank_result_conflict',
    { case: 'settled', paymentId: p.id, recorded, given: row },
    { paymentId: p.id, recorded, given: row },
  );
}

function settlePayment(state: LedgerState, d: CommandData<'SettlePayment'>, ctx: DecideContext): Decision {
  const given = { result: 'settled', bankReference: d.bankReference, on: d.settledOn } as const;
  const decided = alreadyDecided(state, d.paymentId, given, ctx);
  if (decided) return decided;
  return accepted({ type: 'PaymentSettled', data: d });
}

function returnPayment(state: LedgerState, d: CommandData<'ReturnPayment'>, ctx: DecideContext): Decision {
  const decided = alreadyDecided(state, d.paymentId, { result: 'returned', on: d.returnedOn }, ctx);
  if (decided) return decided;
  const p = state.payments.get(d.paymentId)!;
  // The money goes back to exactly the tranches it came from.
  return accepted({ type: 'PaymentReturned', data: { ...d, restored: [...p.consumed] } });
}

type BankRow = CommandData<'RecordBankResults'>['rows'][number];

/**
 * A bank result file (回盘) is decided as a whole, like a roster: every row is checked, every
 * refused row is reported with its number and reason, and one refused row refuses the file
 * (decision 0129). Each row is decided as its single command would be (alreadyDecided): a row
 * whose payment already has that result, as recorded (by hand, by an earlier file, or by the
 * stored part of this command cut short), makes no event, so the bank sending its results again
 * does not fail on what was done before and a cut-short command is finished by deciding it
 * again; a row contradicting what is recorded refuses the file (decision 0134).
 */
function recordBankResults(
  state: LedgerState,
  d: CommandData<'RecordBankResults'>,
  ctx: DecideContext,
): Decision {
  const errors: RowError[] = [];
  const rowNumbers = new Set<number>();
  /** Payment id → the row that named it first. */
  const named = new Map<string, number>();
  const events: LedgerEventInput[] = [];
  for (const r of d.rows) {
    const decided = decideBankRow(state, ctx, r, rowNumbers, named);
    if (decided.ok) events.push(...decided.events);
    else errors.push(rowError(r.row, decided));
  }
  if (errors.length > 0) {
    return reject(
      'bank_results_invalid',
      { case: 'rows', errorCount: errors.length, rowCount: d.rows.length },
      { rowCount: d.rows.length, errorCount: errors.length, errors },
    );
  }
  return { ok: true, events };
}

/** One bank row: its event, none when its payment already has that result, or its refusal. */
function decideBankRow(
  state: LedgerState,
  ctx: DecideContext,
  r: BankRow,
  rowNumbers: Set<number>,
  named: Map<string, number>,
): Decision {
  if (rowNumbers.has(r.row)) return reject('row_number_duplicate', { row: r.row });
  rowNumbers.add(r.row);
  const earlier = named.get(r.paymentId);
  if (earlier !== undefined) {
    return reject(
      'bank_row_payment_twice',
      { paymentId: r.paymentId, row: earlier },
      { paymentId: r.paymentId, row: earlier },
    );
  }
  named.set(r.paymentId, r.row);
  const p = state.payments.get(r.paymentId);
  if (!p) return reject('payment_not_found', { paymentId: r.paymentId });
  const household =
    r.householdId !== null && r.householdId !== p.householdId
      ? { given: r.householdId, payment: p.householdId }
      : null;
  const amount =
    r.amountFen !== null && r.amountFen !== p.amountFen
      ? { givenFen: r.amountFen, paymentFen: p.amountFen }
      : null;
  if (household !== null || amount !== null) {
    return reject(
      'bank_row_mismatch',
      { paymentId: r.paymentId, household, amount },
      { paymentId: r.paymentId },
    );
  }
  return r.result === 'settled'
    ? settlePayment(
        state,
        { paymentId: r.paymentId, bankReference: r.bankReference, settledOn: r.settledOn },
        ctx,
      )
    : returnPayment(state, { paymentId: r.paymentId, reason: r.reason, returnedOn: r.returnedOn }, ctx);
}

// ---------------------------------------------------------------- reversals and year close

function reverseMovement(state: LedgerState, d: CommandData<'ReverseMovement'>): Decision {
  if (state.reversals.has(d.reversalId)) return reject('reversal_exists', { reversalId: d.reversalId });
  const base = {
    reversalId: d.reversalId,
    movementKind: d.movementKind,
    movementId: d.movementId,
    reason: d.reason,
  };
  if (d.movementKind === 'payment') {
    const p = state.payments.get(d.movementId);
    if (!p) return reject('movement_not_found', { kind: 'payment', movementId: d.movementId });
    if (p.status !== 'instructed') {
      return reject(
        'movement_not_reversible',
        { case: 'payment', paymentId: d.movementId, status: p.status },
        { status: p.status },
      );
    }
    return accepted({
      type: 'MovementReversed',
      data: { ...base, amountFen: p.amountFen, cancelled: [], restored: [...p.consumed] },
    });
  }
  const m = state.movements.get(movementKey(d.movementKind, d.movementId));
  if (!m) return reject('movement_not_found', { kind: d.movementKind, movementId: d.movementId });
  if (m.reversed)
    return reject('movement_already_reversed', { kind: d.movementKind, movementId: d.movementId });
  if (m.kind === 'receipt' && !m.external) {
    return reject('movement_not_reversible', { case: 'receipt', receiptId: d.movementId });
  }
  const cancelled: TrancheDebit[] = [];
  for (const trancheId of m.created) {
    const t = state.tranches.get(trancheId)!;
    if (t.remainingFen !== t.amountFen) {
      return reject(
        'reversal_blocked_downstream',
        {
          kind: d.movementKind,
          movementId: d.movementId,
          trancheId: t.id,
          movedOnFen: t.amountFen - t.remainingFen,
        },
        { trancheId: t.id, movedOnFen: (t.amountFen - t.remainingFen).toString() },
      );
    }
    cancelled.push({ trancheId, amountFen: t.amountFen });
  }
  return accepted({
    type: 'MovementReversed',
    data: { ...base, amountFen: m.amountFen, cancelled, restored: [...m.consumed] },
  });
}

function closeFiscalYear(state: LedgerState, d: CommandData<'CloseFiscalYear'>): Decision {
  const year = d.fiscalYear;
  if (state.closedYears.has(year)) return yearClosed(year);
  let inFlightCount = 0;
  for (const p of state.payments.values()) {
    if (p.status !== 'instructed') continue;
    if (p.consumed.some((c) => state.tranches.get(c.trancheId)!.fiscalYear === year)) inFlightCount++;
  }
  if (inFlightCount > 0) {
    return reject(
      'payments_in_flight',
      { fiscalYear: year, count: inFlightCount },
      { inFlight: inFlightCount },
    );
  }
  const consumed: TrancheDebit[] = [];
  const created: TrancheCredit[] = [];
  for (const t of state.tranches.values()) {
    if (t.fiscalYear !== year || t.remainingFen === 0n) continue;
    consumed.push({ trancheId: t.id, amountFen: t.remainingFen });
    created.push({
      // Numbered after every tranche that exists, so a close resumed after a cut-short append never reuses an id.
      trancheId: trancheIdFor('co', String(year), state.tranches.size + created.length + 1),
      accountId: t.accountId,
      amountFen: t.remainingFen,
      fundSource: t.fundSource,
      fiscalYear: year + 1,
      purpose: t.purpose,
      documentNumber: t.documentNumber,
      parents: [{ partition: null, trancheId: t.id, amountFen: t.remainingFen }],
    });
  }
  const events: LedgerEventInput[] = [];
  for (let i = 0; i * carryOverChunkMax < consumed.length; i++) {
    const from = i * carryOverChunkMax;
    events.push({
      type: 'TranchesCarriedOver',
      data: {
        fiscalYear: year,
        chunk: (state.carryOverChunks.get(year) ?? 0) + i,
        consumed: consumed.slice(from, from + carryOverChunkMax),
        created: created.slice(from, from + carryOverChunkMax),
      },
    });
  }
  events.push({
    type: 'FiscalYearClosed',
    data: {
      fiscalYear: year,
      carriedOverFen: consumed.reduce((s, c) => s + c.amountFen, 0n),
      trancheCount: consumed.length,
      chunkCount: (state.carryOverChunks.get(year) ?? 0) + events.length,
    },
  });
  return { ok: true, events };
}

// ---------------------------------------------------------------- notices

function daysInclusive(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000) + 1;
}

function publishNotice(state: LedgerState, d: CommandData<'PublishNotice'>, ctx: DecideContext): Decision {
  if (state.notices.has(d.noticeId)) return reject('notice_exists', { noticeId: d.noticeId });
  if (d.endsOn < d.startsOn) {
    return reject('notice_period_invalid', { startsOn: d.startsOn, endsOn: d.endsOn });
  }
  if (d.programmeCode !== null) {
    const programme = ctx.reference.programmes.get(d.programmeCode);
    if (!programme) return reject('unknown_programme', { programmeCode: d.programmeCode });
    if (programme.notice !== null) {
      if (!programme.notice.chain.includes(d.stage)) {
        return reject('notice_mismatch', {
          case: 'stage',
          programme: programme.name,
          chain: programme.notice.chain,
          stage: d.stage,
        });
      }
      const days = daysInclusive(d.startsOn, d.endsOn);
      if (days < programme.notice.minDays) {
        return reject(
          'notice_period_too_short',
          { programme: programme.name, minDays: programme.notice.minDays, days },
          { minDays: programme.notice.minDays, days },
        );
      }
    }
  }
  const { lines = [], ...published } = d;
  const linesProblem = checkNoticeLines(ctx, d, lines);
  if (linesProblem) return linesProblem;
  return {
    ok: true,
    events: [{ type: 'NoticePublished', data: published }, ...noticeLineEvents(d.noticeId, lines)],
  };
}

function fileObjection(state: LedgerState, d: CommandData<'FileObjection'>): Decision {
  if (state.objections.has(d.objectionId)) {
    return reject('objection_exists', { objectionId: d.objectionId });
  }
  const n = state.notices.get(d.noticeId);
  if (!n) return reject('notice_not_found', { noticeId: d.noticeId });
  if (n.closed) return reject('notice_closed', { noticeId: d.noticeId });
  return accepted({ type: 'ObjectionFiled', data: d });
}

function resolveObjection(state: LedgerState, d: CommandData<'ResolveObjection'>): Decision {
  const o = state.objections.get(d.objectionId);
  if (!o) return reject('objection_not_found', { objectionId: d.objectionId });
  if (o.outcome !== null) {
    return reject('objection_already_resolved', { objectionId: d.objectionId, outcome: o.outcome });
  }
  return accepted({ type: 'ObjectionResolved', data: { ...d, noticeId: o.noticeId } });
}

function closeNotice(state: LedgerState, d: CommandData<'CloseNotice'>, ctx: DecideContext): Decision {
  const n = state.notices.get(d.noticeId);
  if (!n) return reject('notice_not_found', { noticeId: d.noticeId });
  if (n.closed) return reject('notice_already_closed', { noticeId: d.noticeId });
  if (!(ctx.today > n.endsOn)) {
    return reject('notice_period_not_over', { case: 'close', noticeId: d.noticeId, endsOn: n.endsOn });
  }
  if (n.openWide > 0 || n.openByHousehold.size > 0) {
    return reject('objection_open', { case: 'close', noticeId: d.noticeId });
  }
  return accepted({ type: 'NoticeClosed', data: d });
}

// ---------------------------------------------------------------- shared checks

function checkPurpose(ctx: DecideContext, purpose: string): Rejected | undefined {
  if (ctx.reference.purposes.has(purpose)) return undefined;
  return reject('unknown_purpose', { purpose, known: [...ctx.reference.purposes.keys()] });
}

function yearClosed(year: number): Rejected {
  return reject('fiscal_year_closed', { fiscalYear: year });
}
