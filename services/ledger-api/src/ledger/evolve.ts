import type { ledger } from '@fundtrace/events';
import { invariant } from './rejections';

type LedgerData<T extends ledger.LedgerEventType> = ledger.LedgerData<T>;
type LedgerEventType = ledger.LedgerEventType;
type TrancheCredit = ledger.TrancheCredit;
type TrancheDebit = ledger.TrancheDebit;

import {
  type AccountState,
  type LedgerState,
  type MovementState,
  movementKey,
  originKey,
  type PlanLineState,
  paymentKey,
} from './state';

/** A ledger event as evolve sees it: its type and decoded data (the envelope is not needed). */
export type LedgerEventInput = { [T in LedgerEventType]: { type: T; data: LedgerData<T> } }[LedgerEventType];

/**
 * Applies one event to the state, in place, and returns it. Events are facts:
 * evolve never refuses one. If an event contradicts the state (a tranche going
 * below zero, an unknown account) the log or the decider is broken, and it
 * throws a LedgerInvariantError, which stops the writer.
 */
export function evolve(state: LedgerState, event: LedgerEventInput): LedgerState {
  state.eventCounts.set(event.type, (state.eventCounts.get(event.type) ?? 0) + 1);
  switch (event.type) {
    case 'AccountOpened': {
      const d = event.data;
      invariant(!state.accounts.has(d.accountId), `account ${d.accountId} opened twice`);
      state.accounts.set(d.accountId, {
        id: d.accountId,
        kind: d.kind,
        name: d.name,
        balanceFen: 0n,
        tranches: [],
        exhaustedBefore: 0,
      });
      return state;
    }
    case 'AllocationIssued': {
      const d = event.data;
      book(state, 'allocation', d.allocationId, {
        amountFen: d.amountFen,
        fromAccountId: d.fromAccountId,
        consumed: d.consumed,
      });
      state.allocations.set(d.allocationId, {
        id: d.allocationId,
        toPartition: d.toPartition,
        amountFen: d.amountFen,
        fiscalYear: d.fiscalYear,
      });
      state.totals.issuedFen += d.amountFen;
      return state;
    }
    case 'AllocationReceived': {
      const d = event.data;
      book(state, 'receipt', d.receiptId, {
        amountFen: d.amountFen,
        created: d.created,
        external: d.origin.kind === 'external',
      });
      if (d.origin.kind === 'partition') {
        state.receivedOrigins.add(originKey(d.origin.partition, d.origin.allocationId));
        state.totals.receivedFromPartitionsFen += d.amountFen;
      } else {
        state.totals.rootReceivedFen += d.amountFen;
      }
      return state;
    }
    case 'FundsIntegrated': {
      const d = event.data;
      book(state, 'integration', d.integrationId, {
        amountFen: d.amountFen,
        fromAccountId: d.accountId,
        consumed: d.consumed,
        created: d.created,
        planLine: { planId: d.planId, lineId: d.lineId },
      });
      line(state, d.planId, d.lineId).integratedFen += d.amountFen;
      return state;
    }
    case 'PlanApproved': {
      const d = event.data;
      invariant(!state.plans.has(d.planId), `plan ${d.planId} approved twice`);
      const lines = new Map<string, PlanLineState>();
      for (const l of d.lines) {
        lines.set(l.lineId, {
          category: l.category,
          amountFen: l.amountFen,
          committedFen: 0n,
          integratedFen: 0n,
        });
      }
      state.plans.set(d.planId, { id: d.planId, fiscalYear: d.fiscalYear, totalFen: d.totalFen, lines });
      return state;
    }
    case 'PlanAdjusted': {
      const d = event.data;
      const plan = state.plans.get(d.planId);
      invariant(plan, `adjustment of unknown plan ${d.planId}`);
      const lines = new Map<string, PlanLineState>();
      for (const l of d.lines) {
        const old = plan.lines.get(l.lineId);
        lines.set(l.lineId, {
          category: l.category,
          amountFen: l.amountFen,
          committedFen: old?.committedFen ?? 0n,
          integratedFen: old?.integratedFen ?? 0n,
        });
      }
      for (const [lineId, old] of plan.lines) {
        invariant(
          lines.has(lineId) || (old.committedFen === 0n && old.integratedFen === 0n),
          `plan ${d.planId} adjustment dropped line ${lineId} that projects or integrations use`,
        );
      }
      plan.lines = lines;
      plan.totalFen = d.totalFen;
      return state;
    }
    case 'ProjectApproved': {
      const d = event.data;
      invariant(!state.projects.has(d.projectId), `project ${d.projectId} approved twice`);
      line(state, d.planId, d.lineId).committedFen += d.budgetFen;
      state.projects.set(d.projectId, {
        id: d.projectId,
        planId: d.planId,
        lineId: d.lineId,
        category: d.category,
        villageCode: d.villageCode,
        accountId: d.accountId,
        reimbursement: d.reimbursement,
        budgetFen: d.budgetFen,
        implementingUnitAccountId: d.implementingUnitAccountId,
        earmarkedFen: 0n,
        disbursedFen: 0n,
      });
      return state;
    }
    case 'ProjectAdjusted': {
      const d = event.data;
      const project = state.projects.get(d.projectId);
      invariant(project, `adjustment of unknown project ${d.projectId}`);
      line(state, project.planId, project.lineId).committedFen += d.budgetFen - project.budgetFen;
      project.budgetFen = d.budgetFen;
      project.implementingUnitAccountId = d.implementingUnitAccountId;
      return state;
    }
    case 'AcceptanceRecorded': {
      const d = event.data;
      invariant(state.projects.has(d.projectId), `acceptance of unknown project ${d.projectId}`);
      state.acceptances.set(d.acceptanceId, d.projectId);
      return state;
    }
    case 'FundsEarmarked': {
      const d = event.data;
      book(state, 'earmark', d.earmarkId, d);
      project(state, d.projectId).earmarkedFen += d.amountFen;
      return state;
    }
    case 'FundsDisbursed': {
      const d = event.data;
      book(state, 'disbursement', d.disbursementId, d);
      project(state, d.projectId).disbursedFen += d.amountFen;
      return state;
    }
    case 'RosterSubmitted': {
      const d = event.data;
      invariant(!state.rosters.has(d.rosterId), `roster ${d.rosterId} submitted twice`);
      state.rosters.set(d.rosterId, {
        id: d.rosterId,
        programmeCode: d.programmeCode,
        period: d.period,
        rowCount: d.rowCount,
        totalFen: d.totalFen,
        instructed: 0,
        settled: 0,
        returned: 0,
        reversed: 0,
        settledFen: 0n,
      });
      return state;
    }
    case 'PaymentInstructed': {
      const d = event.data;
      invariant(!state.payments.has(d.paymentId), `payment ${d.paymentId} instructed twice`);
      debit(state, d.accountId, d.consumed);
      state.payments.set(d.paymentId, {
        id: d.paymentId,
        householdId: d.householdId,
        programmeCode: d.programmeCode,
        period: d.period,
        amountFen: d.amountFen,
        accountId: d.accountId,
        rosterId: d.rosterId,
        consumed: d.consumed,
        status: 'instructed',
        bankReference: null,
        resultOn: null,
      });
      const key = paymentKey(d.householdId, d.programmeCode, d.period);
      invariant(!state.paymentKeys.has(key), `duplicate payment ${key} reached the log`);
      state.paymentKeys.set(key, d.paymentId);
      state.totals.reservedFen += d.amountFen;
      if (d.rosterId !== null) roster(state, d.rosterId).instructed += 1;
      return state;
    }
    case 'PaymentSettled': {
      const d = event.data;
      const p = inFlightPayment(state, d.paymentId);
      p.status = 'settled';
      p.bankReference = d.bankReference;
      p.resultOn = d.settledOn;
      state.totals.reservedFen -= p.amountFen;
      state.totals.settledFen += p.amountFen;
      if (p.rosterId !== null) {
        const r = roster(state, p.rosterId);
        r.settled += 1;
        r.settledFen += p.amountFen;
      }
      return state;
    }
    case 'PaymentReturned': {
      const d = event.data;
      const p = inFlightPayment(state, d.paymentId);
      restore(state, d.restored);
      p.status = 'returned';
      p.resultOn = d.returnedOn;
      state.paymentKeys.delete(paymentKey(p.householdId, p.programmeCode, p.period));
      state.totals.reservedFen -= p.amountFen;
      if (p.rosterId !== null) roster(state, p.rosterId).returned += 1;
      return state;
    }
    case 'MovementReversed': {
      applyReversal(state, event.data);
      return state;
    }
    case 'TranchesCarriedOver': {
      const d = event.data;
      for (const piece of d.consumed) {
        const t = state.tranches.get(piece.trancheId);
        invariant(t, `carry-over of unknown tranche ${piece.trancheId}`);
        debit(state, t.accountId, [piece]);
      }
      credit(state, d.created);
      state.carryOverChunks.set(d.fiscalYear, (state.carryOverChunks.get(d.fiscalYear) ?? 0) + 1);
      return state;
    }
    case 'FiscalYearClosed': {
      state.closedYears.add(event.data.fiscalYear);
      return state;
    }
    case 'NoticePublished': {
      const d = event.data;
      invariant(!state.notices.has(d.noticeId), `notice ${d.noticeId} published twice`);
      state.notices.set(d.noticeId, {
        id: d.noticeId,
        kind: d.kind,
        programmeCode: d.programmeCode,
        period: d.period,
        stage: d.stage,
        subjectId: d.subjectId,
        startsOn: d.startsOn,
        endsOn: d.endsOn,
        closed: false,
        openWide: 0,
        openByHousehold: new Map(),
        upheldHouseholds: new Set(),
        lines: new Map(),
      });
      return state;
    }
    case 'NoticeLinesPublished': {
      const n = notice(state, event.data.noticeId);
      for (const l of event.data.lines) {
        invariant(!n.lines.has(l.householdId), `household ${l.householdId} listed twice on ${n.id}`);
        n.lines.set(l.householdId, { line: l.line, quantity: l.quantity, amountFen: l.amountFen });
      }
      return state;
    }
    case 'ObjectionFiled': {
      const d = event.data;
      const n = notice(state, d.noticeId);
      invariant(!state.objections.has(d.objectionId), `objection ${d.objectionId} filed twice`);
      state.objections.set(d.objectionId, {
        id: d.objectionId,
        noticeId: d.noticeId,
        householdId: d.householdId,
        outcome: null,
      });
      if (d.householdId === null) n.openWide += 1;
      else n.openByHousehold.set(d.householdId, (n.openByHousehold.get(d.householdId) ?? 0) + 1);
      return state;
    }
    case 'ObjectionResolved': {
      const d = event.data;
      const o = state.objections.get(d.objectionId);
      invariant(o && o.outcome === null, `objection ${d.objectionId} is unknown or already resolved`);
      o.outcome = d.outcome;
      const n = notice(state, o.noticeId);
      if (o.householdId === null) {
        n.openWide -= 1;
      } else {
        const open = (n.openByHousehold.get(o.householdId) ?? 0) - 1;
        invariant(open >= 0, `objection count of ${o.householdId} on ${o.noticeId} went negative`);
        if (open === 0) n.openByHousehold.delete(o.householdId);
        else n.openByHousehold.set(o.householdId, open);
        if (d.outcome === 'upheld') n.upheldHouseholds.add(o.householdId);
      }
      return state;
    }
    case 'NoticeClosed': {
      notice(state, event.data.noticeId).closed = true;
      return state;
    }
  }
}

function ids(created: readonly TrancheCredit[]): string[] {
  return created.map((t) => t.trancheId);
}

function account(state: LedgerState, accountId: string): AccountState {
  const a = state.accounts.get(accountId);
  invariant(a, `event names unknown account ${accountId}`);
  return a;
}

function line(state: LedgerState, planId: string, lineId: string): PlanLineState {
  const l = state.plans.get(planId)?.lines.get(lineId);
  invariant(l, `event names unknown plan line ${planId}/${lineId}`);
  return l;
}

function project(state: LedgerState, projectId: string) {
  const p = state.projects.get(projectId);
  invariant(p, `event names unknown project ${projectId}`);
  return p;
}

function roster(state: LedgerState, rosterId: string) {
  const r = state.rosters.get(rosterId);
  invariant(r, `event names unknown roster ${rosterId}`);
  return r;
}

function notice(state: LedgerState, noticeId: string) {
  const n = state.notices.get(noticeId);
  invariant(n, `event names unknown notice ${noticeId}`);
  return n;
}

function inFlightPayment(state: LedgerState, paymentId: string) {
  const p = state.payments.get(paymentId);
  invariant(p && p.status === 'instructed', `payment ${paymentId} is not in flight`);
  return p;
}

/** Consumes tranche pieces of one account. */
function debit(state: LedgerState, accountId: string, pieces: readonly TrancheDebit[]): void {
  const a = account(state, accountId);
  for (const piece of pieces) {
    const t = state.tranches.get(piece.trancheId);
    invariant(
      t && t.accountId === accountId,
      `debit of tranche ${piece.trancheId} not in account ${accountId}`,
    );
    invariant(piece.amountFen > 0n, `debit of ${piece.amountFen} fen from tranche ${t.id}`);
    t.remainingFen -= piece.amountFen;
    invariant(t.remainingFen >= 0n, `tranche ${t.id} went negative (${t.remainingFen} fen)`);
    a.balanceFen -= piece.amountFen;
    state.totals.balanceFen -= piece.amountFen;
  }
  invariant(a.balanceFen >= 0n, `account ${accountId} went negative`);
  while (a.exhaustedBefore < a.tranches.length && a.tranches[a.exhaustedBefore]!.remainingFen === 0n) {
    a.exhaustedBefore += 1;
  }
}

/** Gives money back to tranches it was taken from (a returned or reversed payment, a reversal). */
function restore(state: LedgerState, pieces: readonly TrancheDebit[]): void {
  for (const piece of pieces) {
    const t = state.tranches.get(piece.trancheId);
    invariant(t, `restore to unknown tranche ${piece.trancheId}`);
    t.remainingFen += piece.amountFen;
    invariant(t.remainingFen <= t.amountFen, `tranche ${t.id} restored above its amount`);
    const a = account(state, t.accountId);
    a.balanceFen += piece.amountFen;
    state.totals.balanceFen += piece.amountFen;
    if (t.index < a.exhaustedBefore) a.exhaustedBefore = t.index;
  }
}

/** Creates tranches; each non-root tranche's parents must sum to its amount. */
function credit(state: LedgerState, created: readonly TrancheCredit[]): void {
  for (const c of created) {
    invariant(!state.tranches.has(c.trancheId), `tranche ${c.trancheId} created twice`);
    if (c.parents.length > 0) {
      let sum = 0n;
      for (const p of c.parents) sum += p.amountFen;
      invariant(sum === c.amountFen, `tranche ${c.trancheId}: parents sum to ${sum}, not ${c.amountFen}`);
    }
    const a = account(state, c.accountId);
    const t = {
      id: c.trancheId,
      accountId: c.accountId,
      amountFen: c.amountFen,
      remainingFen: c.amountFen,
      fundSource: c.fundSource,
      fiscalYear: c.fiscalYear,
      purpose: c.purpose,
      documentNumber: c.documentNumber,
      index: a.tranches.length,
    };
    a.tranches.push(t);
    state.tranches.set(t.id, t);
    a.balanceFen += c.amountFen;
    state.totals.balanceFen += c.amountFen;
  }
}

/** What a movement of money does to the books; absent parts do not apply (a receipt consumes nothing). */
interface Movement {
  readonly amountFen: bigint;
  /** The account the consumed tranches are debited from. */
  readonly fromAccountId?: string;
  readonly consumed?: readonly TrancheDebit[];
  readonly created?: readonly TrancheCredit[];
  /** Money from outside the system (a root receipt). */
  readonly external?: boolean;
  readonly projectId?: string;
  readonly planLine?: MovementState['planLine'];
}

/**
 * Books one movement (allocation, receipt, integration, earmark, disbursement):
 * debits the tranches it consumed, creates the tranches it credited, and records
 * it under its kind and id, once, for reversals and lineage.
 */
function book(state: LedgerState, kind: MovementState['kind'], id: string, m: Movement): void {
  const consumed = m.consumed ?? [];
  if (m.fromAccountId !== undefined) debit(state, m.fromAccountId, consumed);
  if (m.created !== undefined) credit(state, m.created);
  const key = movementKey(kind, id);
  invariant(!state.movements.has(key), `movement ${key} booked twice`);
  state.movements.set(key, {
    kind,
    id,
    amountFen: m.amountFen,
    consumed,
    created: m.created === undefined ? [] : ids(m.created),
    external: m.external ?? false,
    projectId: m.projectId ?? null,
    planLine: m.planLine ?? null,
    reversed: false,
  });
}

function applyReversal(state: LedgerState, d: LedgerData<'MovementReversed'>): void {
  invariant(!state.reversals.has(d.reversalId), `reversal ${d.reversalId} booked twice`);
  state.reversals.add(d.reversalId);
  if (d.movementKind === 'payment') {
    const p = inFlightPayment(state, d.movementId);
    restore(state, d.restored);
    p.status = 'reversed';
    state.paymentKeys.delete(paymentKey(p.householdId, p.programmeCode, p.period));
    state.totals.reservedFen -= p.amountFen;
    if (p.rosterId !== null) roster(state, p.rosterId).reversed += 1;
    return;
  }
  const m = state.movements.get(movementKey(d.movementKind, d.movementId));
  invariant(m && !m.reversed, `reversal of unknown or reversed movement ${d.movementKind}:${d.movementId}`);
  for (const piece of d.cancelled) {
    const t = state.tranches.get(piece.trancheId);
    invariant(t, `reversal cancels unknown tranche ${piece.trancheId}`);
    debit(state, t.accountId, [piece]);
  }
  restore(state, d.restored);
  m.reversed = true;
  if (m.kind === 'receipt') {
    if (m.external) state.totals.rootReceivedFen -= m.amountFen;
    else state.totals.receivedFromPartitionsFen -= m.amountFen;
  }
  if (m.kind === 'earmark' && m.projectId !== null) project(state, m.projectId).earmarkedFen -= m.amountFen;
  if (m.kind === 'disbursement' && m.projectId !== null)
    project(state, m.projectId).disbursedFen -= m.amountFen;
  if (m.kind === 'integration' && m.planLine !== null) {
    line(state, m.planLine.planId, m.planLine.lineId).integratedFen -= m.amountFen;
  }
}
