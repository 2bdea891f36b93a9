import { ledger } from '@fundtrace/events';
import { fenSchema } from '@fundtrace/money';
import { z } from 'zod';
import type { LedgerState } from './ledger/state';

/**
 * Read models answered from the writer's state: what a finance officer needs
 * while working (balances, tranches, a payment, a roster's progress). The
 * projector's PostgreSQL tables answer everything else; these functions are
 * small and pure so they can move there.
 */

/** Most tranches listed per page: a pool can hold thousands after years of allocations. */
export const tranchesPageMax = 500;

export const trancheView = z.object({
  trancheId: z.string(),
  amountFen: fenSchema,
  remainingFen: fenSchema,
  fundSource: ledger.fundSourceSchema,
  fiscalYear: z.number(),
  purpose: z.string(),
  documentNumber: z.string(),
});

export const accountView = z.object({
  accountId: z.string(),
  kind: ledger.accountKindSchema,
  name: z.string(),
  balanceFen: fenSchema,
  trancheCount: z.number(),
  tranches: z.array(trancheView),
});

export function accountOf(state: LedgerState, accountId: string, offset: number, all: boolean) {
  const a = state.accounts.get(accountId);
  if (!a) return undefined;
  const listed = all ? a.tranches : a.tranches.filter((t) => t.remainingFen > 0n);
  return {
    accountId: a.id,
    kind: a.kind,
    name: a.name,
    balanceFen: a.balanceFen,
    trancheCount: listed.length,
    tranches: listed.slice(offset, offset + tranchesPageMax).map((t) => ({
      trancheId: t.id,
      amountFen: t.amountFen,
      remainingFen: t.remainingFen,
      fundSource: t.fundSource,
      fiscalYear: t.fiscalYear,
      purpose: t.purpose,
      documentNumber: t.documentNumber,
    })),
  };
}

export const paymentView = z.object({
  paymentId: z.string(),
  status: z.enum(['instructed', 'settled', 'returned', 'reversed']),
  householdId: z.string(),
  programmeCode: z.string(),
  period: z.string(),
  amountFen: fenSchema,
  accountId: z.string(),
  rosterId: z.string().nullable(),
  tranches: z.array(z.object({ trancheId: z.string(), amountFen: fenSchema })),
  // The bank's result as recorded (decision 0134), under the names a bank_result_conflict's
  // details.recorded gives them, so an officer refused can read what is recorded before asking the
  // bank. A return's 失败原因 is not here: the writer's state, which answers this read, does not
  // keep it (0134); the projector's payments table does (return_reason).
  bankReference: z
    .string()
    .nullable()
    .meta({ description: '银行流水号 of the settlement; null unless settled' }),
  settledOn: ledger.dateSchema
    .nullable()
    .meta({ description: 'the date the bank settled it; null unless settled' }),
  returnedOn: ledger.dateSchema
    .nullable()
    .meta({ description: 'the date the bank returned it (退回); null unless returned' }),
});

export function paymentOf(state: LedgerState, paymentId: string) {
  const p = state.payments.get(paymentId);
  if (!p) return undefined;
  return {
    paymentId: p.id,
    status: p.status,
    householdId: p.householdId,
    programmeCode: p.programmeCode,
    period: p.period,
    amountFen: p.amountFen,
    accountId: p.accountId,
    rosterId: p.rosterId,
    tranches: p.consumed.map((c) => ({ trancheId: c.trancheId, amountFen: c.amountFen })),
    bankReference: p.bankReference,
    settledOn: p.status === 'settled' ? p.resultOn : null,
    returnedOn: p.status === 'returned' ? p.resultOn : null,
  };
}

export const paymentLookupView = z.object({
  payments: z.array(paymentView).meta({ description: 'the payments found, in the order asked' }),
  missing: z.array(z.string()).meta({ description: 'the ids these books hold no payment under' }),
});

/** Many payments at once (a bank's result file checks each row's 户编号 and 金额 against its payment). */
export function paymentsOf(state: LedgerState, paymentIds: readonly string[]) {
  const payments: NonNullable<ReturnType<typeof paymentOf>>[] = [];
  const missing: string[] = [];
  for (const paymentId of new Set(paymentIds)) {
    const found = paymentOf(state, paymentId);
    if (found === undefined) missing.push(paymentId);
    else payments.push(found);
  }
  return { payments, missing };
}

export const rosterView = z.object({
  rosterId: z.string(),
  programmeCode: z.string(),
  period: z.string(),
  rowCount: z.number(),
  totalFen: fenSchema,
  instructed: z.number(),
  settled: z.number(),
  returned: z.number(),
  reversed: z.number(),
  settledFen: fenSchema,
  /** Rows the bank has not answered for yet. */
  awaitingBank: z.number(),
});

export function rosterOf(state: LedgerState, rosterId: string) {
  const r = state.rosters.get(rosterId);
  if (!r) return undefined;
  return { ...r, rosterId: r.id, awaitingBank: r.instructed - r.settled - r.returned - r.reversed };
}

export const noticeView = z.object({
  noticeId: z.string(),
  kind: z.string(),
  stage: z.string(),
  programmeCode: z.string().nullable(),
  period: z.string().nullable(),
  subjectId: z.string().nullable(),
  startsOn: z.string(),
  endsOn: z.string(),
  closed: z.boolean(),
  openObjections: z.number(),
  upheldHouseholds: z.array(z.string()),
  /** The list published with the notice (公示名单): households and their total; 0 when it lists nobody. */
  listedHouseholds: z.number(),
  listedTotalFen: fenSchema,
});

export function noticeOf(state: LedgerState, noticeId: string) {
  const n = state.notices.get(noticeId);
  if (!n) return undefined;
  let open = n.openWide;
  for (const c of n.openByHousehold.values()) open += c;
  return {
    noticeId: n.id,
    kind: n.kind,
    stage: n.stage,
    programmeCode: n.programmeCode,
    period: n.period,
    subjectId: n.subjectId,
    startsOn: n.startsOn,
    endsOn: n.endsOn,
    closed: n.closed,
    openObjections: open,
    upheldHouseholds: [...n.upheldHouseholds],
    listedHouseholds: n.lines.size,
    listedTotalFen: [...n.lines.values()].reduce((sum, l) => sum + l.amountFen, 0n),
  };
}

export const projectView = z.object({
  projectId: z.string(),
  planId: z.string(),
  lineId: z.string(),
  category: z.string(),
  villageCode: z.string(),
  accountId: z.string(),
  implementingUnitAccountId: z.string(),
  reimbursement: z.boolean(),
  budgetFen: fenSchema,
  earmarkedFen: fenSchema,
  disbursedFen: fenSchema,
});

export function projectOf(state: LedgerState, projectId: string) {
  const p = state.projects.get(projectId);
  return p ? { ...p, projectId: p.id } : undefined;
}

export const summaryView = z.object({
  partition: z.string(),
  seq: z.number(),
  balanceFen: fenSchema,
  reservedFen: fenSchema,
  settledFen: fenSchema,
  issuedFen: fenSchema,
  receivedFromPartitionsFen: fenSchema,
  rootReceivedFen: fenSchema,
  accounts: z.number(),
  payments: z.number(),
  closedYears: z.array(z.number()),
  registrySeq: z.number(),
});

export function summaryOf(state: LedgerState, registrySeq: number) {
  return {
    partition: state.partition,
    seq: state.seq,
    ...state.totals,
    accounts: state.accounts.size,
    payments: state.payments.size,
    closedYears: [...state.closedYears].sort(),
    registrySeq,
  };
}
