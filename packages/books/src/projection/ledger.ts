import type { Database } from '@fundtrace/db';
import type { AnyEvent } from '@fundtrace/events';
import type { Kysely } from 'kysely';
import { type Batch, nominal, type TranchePiece } from './batch';
import { projectNoticeLines } from './notice-lines';
import type { Row } from './store';

type Ledger = Extract<AnyEvent, { type: LedgerType }>;
type LedgerType =
  | 'AccountOpened'
  | 'AllocationIssued'
  | 'AllocationReceived'
  | 'FundsIntegrated'
  | 'PlanApproved'
  | 'PlanAdjusted'
  | 'ProjectApproved'
  | 'ProjectAdjusted'
  | 'AcceptanceRecorded'
  | 'FundsEarmarked'
  | 'FundsDisbursed'
  | 'RosterSubmitted'
  | 'PaymentInstructed'
  | 'PaymentSettled'
  | 'PaymentReturned'
  | 'MovementReversed'
  | 'TranchesCarriedOver'
  | 'FiscalYearClosed'
  | 'NoticePublished'
  | 'NoticeLinesPublished'
  | 'ObjectionFiled'
  | 'ObjectionResolved'
  | 'NoticeClosed';

export function isLedgerEvent(event: AnyEvent): event is Ledger {
  return ledgerTypes.has(event.type);
}
const ledgerTypes: ReadonlySet<string> = new Set<LedgerType>([
  'AccountOpened',
  'AllocationIssued',
  'AllocationReceived',
  'FundsIntegrated',
  'PlanApproved',
  'PlanAdjusted',
  'ProjectApproved',
  'ProjectAdjusted',
  'AcceptanceRecorded',
  'FundsEarmarked',
  'FundsDisbursed',
  'RosterSubmitted',
  'PaymentInstructed',
  'PaymentSettled',
  'PaymentReturned',
  'MovementReversed',
  'TranchesCarriedOver',
  'FiscalYearClosed',
  'NoticePublished',
  'NoticeLinesPublished',
  'ObjectionFiled',
  'ObjectionResolved',
  'NoticeClosed',
]);

interface Keys {
  tranches: Set<string>;
  accounts: Set<string>;
  receipts: Set<string>;
  integrations: Set<string>;
  plans: Set<string>;
  projects: Set<string>;
  earmarks: Set<string>;
  disbursements: Set<string>;
  payments: Set<string>;
  paymentPieces: Set<string>;
  cancelled: Set<string>;
  years: Set<string>;
  notices: Set<string>;
  objections: Set<string>;
}

const ids = (pieces: readonly { trancheId: string }[]) => pieces.map((piece) => piece.trancheId);

/** Loads every row the batch's ledger events read, in one query per table. */
export async function prefetchLedger(
  reader: Kysely<Database>,
  batch: Batch,
  events: readonly Ledger[],
): Promise<void> {
  const k: Keys = {
    tranches: new Set(),
    accounts: new Set(),
    receipts: new Set(),
    integrations: new Set(),
    plans: new Set(),
    projects: new Set(),
    earmarks: new Set(),
    disbursements: new Set(),
    payments: new Set(),
    paymentPieces: new Set(),
    cancelled: new Set(),
    years: new Set(),
    notices: new Set(),
    objections: new Set(),
  };
  const add = (set: Set<string>, values: Iterable<string>) => {
    for (const value of values) set.add(value);
  };
  const credits = (
    created: readonly {
      trancheId: string;
      accountId: string;
      parents: readonly { partition: string | null; trancheId: string }[];
    }[],
  ) => {
    for (const credit of created) {
      k.tranches.add(credit.trancheId);
      k.accounts.add(credit.accountId);
      for (const parent of credit.parents)
        if (parent.partition === null || parent.partition === batch.partition)
          k.tranches.add(parent.trancheId);
    }
  };
  for (const event of events) {
    const d = event.data;
    switch (event.type) {
      case 'AccountOpened':
        k.accounts.add(event.data.accountId);
        break;
      case 'AllocationIssued':
        add(k.tranches, ids(event.data.consumed));
        k.accounts.add(event.data.fromAccountId);
        break;
      case 'AllocationReceived':
        k.receipts.add(event.data.receiptId);
        k.accounts.add(event.data.accountId);
        credits(event.data.created);
        break;
      case 'FundsIntegrated':
        k.integrations.add(event.data.integrationId);
        k.plans.add(event.data.planId);
        k.accounts.add(event.data.accountId);
        add(k.tranches, ids(event.data.consumed));
        credits(event.data.created);
        break;
      case 'PlanApproved':
      case 'PlanAdjusted':
        k.plans.add(event.data.planId);
        break;
      case 'ProjectApproved':
        k.projects.add(event.data.projectId);
        k.plans.add(event.data.planId);
        k.accounts.add(event.data.accountId);
        k.accounts.add(event.data.implementingUnitAccountId);
        break;
      case 'ProjectAdjusted':
        k.projects.add(event.data.projectId);
        k.accounts.add(event.data.implementingUnitAccountId);
        break;
      case 'AcceptanceRecorded':
        k.projects.add(event.data.projectId);
        break;
      case 'FundsEarmarked':
      case 'FundsDisbursed':
        if (event.type === 'FundsEarmarked') k.earmarks.add(event.data.earmarkId);
        else k.disbursements.add(event.data.disbursementId);
        k.projects.add(event.data.projectId);
        k.accounts.add(event.data.fromAccountId);
        k.accounts.add(event.data.toAccountId);
        add(k.tranches, ids(event.data.consumed));
        credits(event.data.created);
        break;
      case 'RosterSubmitted':
        k.accounts.add(event.data.accountId);
        break;
      case 'PaymentInstructed':
        k.payments.add(event.data.paymentId);
        k.accounts.add(event.data.accountId);
        add(k.tranches, ids(event.data.consumed));
        break;
      case 'PaymentSettled':
        k.payments.add(event.data.paymentId);
        break;
      case 'PaymentReturned':
        k.payments.add(event.data.paymentId);
        k.paymentPieces.add(event.data.paymentId);
        add(k.tranches, ids(event.data.restored));
        break;
      case 'MovementReversed': {
        const target = {
          receipt: k.receipts,
          integration: k.integrations,
          earmark: k.earmarks,
          disbursement: k.disbursements,
          payment: k.payments,
        }[event.data.movementKind];
        target.add(event.data.movementId);
        if (event.data.movementKind === 'payment') k.paymentPieces.add(event.data.movementId);
        add(k.tranches, ids(event.data.cancelled));
        add(k.cancelled, ids(event.data.cancelled));
        add(k.tranches, ids(event.data.restored));
        break;
      }
      case 'TranchesCarriedOver':
        k.years.add(String(event.data.fiscalYear));
        add(k.tranches, ids(event.data.consumed));
        credits(event.data.created);
        break;
      case 'FiscalYearClosed':
        k.years.add(String(event.data.fiscalYear));
        break;
      case 'NoticePublished':
      case 'NoticeLinesPublished':
      case 'NoticeClosed':
        k.notices.add(event.data.noticeId);
        break;
      case 'ObjectionFiled':
      case 'ObjectionResolved':
        k.notices.add(event.data.noticeId);
        k.objections.add(event.data.objectionId);
        break;
      default: {
        const never: never = event;
        throw new Error(`unhandled ledger event ${(never as { type: string }).type}`);
      }
    }
    void d;
  }
  await batch.load(reader, 'tranches', k.tranches);
  await batch.load(reader, 'receipts', k.receipts);
  await batch.load(reader, 'integrations', k.integrations);
  await batch.load(reader, 'earmarks', k.earmarks);
  await batch.load(reader, 'disbursements', k.disbursements);
  // Reversed earmarks and disbursements name their project only in their own rows.
  for (const id of k.earmarks) {
    const row = batch.stores.earmarks.get(id);
    if (row) k.projects.add(row.project_id);
  }
  for (const id of k.disbursements) {
    const row = batch.stores.disbursements.get(id);
    if (row) k.projects.add(row.project_id);
  }
  await batch.load(reader, 'plans', k.plans);
  await batch.load(reader, 'projects', k.projects);
  await batch.load(reader, 'payments', k.payments);
  await batch.loadPaymentPieces(reader, k.paymentPieces);
  await batch.loadTrancheParents(reader, k.cancelled);
  await batch.load(reader, 'fiscal_years', k.years);
  await batch.load(reader, 'notices', k.notices);
  await batch.load(reader, 'objections', k.objections);
  await batch.load(reader, 'accounts', k.accounts);
  // Every account whose balance the batch may move: named ones, the tranches' own, the nominal ones.
  const balances = new Set([...k.accounts, ...Object.values(nominal)]);
  for (const id of k.tranches) {
    const tranche = batch.stores.tranches.get(id);
    if (tranche) balances.add(tranche.account_id);
  }
  for (const id of k.payments) {
    const payment = batch.stores.payments.get(id);
    if (payment) balances.add(payment.account_id);
  }
  await batch.load(reader, 'balances', balances);
}

function sum(pieces: readonly { amountFen: bigint }[]): bigint {
  return pieces.reduce((total, piece) => total + piece.amountFen, 0n);
}

function requireAccount(batch: Batch, accountId: string): void {
  if (batch.stores.accounts.get(accountId) === undefined) {
    batch.fail('entity_unknown', `account ${accountId} was never opened in ${batch.partition}`);
  }
}

function requireTotal(
  batch: Batch,
  what: string,
  pieces: readonly { amountFen: bigint }[],
  amountFen: bigint,
): void {
  const total = sum(pieces);
  if (total !== amountFen)
    batch.fail('entries_unbalanced', `${what} sum to ${total} fen, the movement is ${amountFen} fen`);
}

function project(batch: Batch, projectId: string): Row<'projects'> {
  const row = batch.stores.projects.get(projectId);
  if (row === undefined) batch.fail('entity_unknown', `project ${projectId} is not in the books`);
  return row;
}

/** Per tranche id, the amount of `pieces`; used to compare what went out with what came back. */
function byTranche(pieces: readonly TranchePiece[]): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const piece of pieces) out.set(piece.trancheId, (out.get(piece.trancheId) ?? 0n) + piece.amountFen);
  return out;
}

function samePieces(a: readonly TranchePiece[], b: readonly TranchePiece[]): boolean {
  const left = byTranche(a);
  const right = byTranche(b);
  if (left.size !== right.size) return false;
  for (const [id, amount] of left) if (right.get(id) !== amount) return false;
  return true;
}

type DataOf<T extends LedgerType> = Extract<Ledger, { type: T }>['data'];

// The rows of a roster's events, built in one place: the projector's batches below and the trace
// benchmark's fast loader (packages/bench/src/trace-scale.ts, which writes a million payments as
// these rows without the rest of the batch) both call them, so the benchmark's books cannot drift
// from the projector's. Pure: the event's data, its partition, sequence and business date.

/** The `rosters` row of a RosterSubmitted event. */
export function rosterRow(
  partition: string,
  seq: bigint,
  on: string,
  d: DataOf<'RosterSubmitted'>,
): Row<'rosters'> {
  return {
    partition,
    roster_id: d.rosterId,
    programme_code: d.programmeCode,
    period: d.period,
    account_id: d.accountId,
    notice_id: d.noticeId,
    row_count: d.rowCount,
    total_fen: d.totalFen,
    registry_seq: BigInt(d.registrySeq),
    submitted_on: on,
    seq,
  };
}

/**
 * The rows of a PaymentInstructed event: the payment as instructed and one lineage edge
 * (`tranche_flows`) per tranche piece it consumed, numbered from 0 in the event's order.
 */
export function paymentInstructedRows(
  partition: string,
  seq: bigint,
  on: string,
  d: DataOf<'PaymentInstructed'>,
): { payment: Row<'payments'>; flows: Row<'tranche_flows'>[] } {
  return {
    payment: {
      partition,
      payment_id: d.paymentId,
      roster_id: d.rosterId,
      row_no: d.row,
      household_id: d.householdId,
      programme_code: d.programmeCode,
      period: d.period,
      quantity: d.quantity,
      amount_fen: d.amountFen,
      account_id: d.accountId,
      notice_id: d.noticeId,
      acceptance_ref: d.acceptanceRef,
      registry_seq: BigInt(d.registrySeq),
      status: 'instructed',
      instructed_on: on,
      instructed_seq: seq,
      settled_on: null,
      bank_reference: null,
      returned_on: null,
      return_reason: null,
      reversed_seq: null,
      status_seq: seq,
    },
    flows: d.consumed.map((piece, pieceNo) => ({
      partition,
      seq,
      piece_no: pieceNo,
      parent_partition: partition,
      parent_tranche_id: piece.trancheId,
      child_kind: 'payment',
      child_id: d.paymentId,
      amount_fen: piece.amountFen,
      flowed_on: on,
    })),
  };
}

/** The payment row after the bank settled it (PaymentSettled). */
export function paymentSettledRow(
  payment: Row<'payments'>,
  d: DataOf<'PaymentSettled'>,
  seq: bigint,
): Row<'payments'> {
  return {
    ...payment,
    status: 'settled',
    settled_on: d.settledOn,
    bank_reference: d.bankReference,
    status_seq: seq,
  };
}

/** The payment row after the bank returned it (PaymentReturned). */
export function paymentReturnedRow(
  payment: Row<'payments'>,
  d: DataOf<'PaymentReturned'>,
  seq: bigint,
): Row<'payments'> {
  return {
    ...payment,
    status: 'returned',
    returned_on: d.returnedOn,
    return_reason: d.reason,
    status_seq: seq,
  };
}

export function applyLedger(batch: Batch, event: Ledger): void {
  const { seqBig: seq, occurredOn: on } = batch.at;
  const p = batch.partition;
  switch (event.type) {
    case 'AccountOpened': {
      const d = event.data;
      if (batch.stores.accounts.get(d.accountId) !== undefined)
        batch.fail('entity_duplicate', `account ${d.accountId} is already open`);
      batch.stores.accounts.put({
        partition: p,
        account_id: d.accountId,
        kind: d.kind,
        name: d.name,
        opened_seq: seq,
      });
      if (batch.stores.balances.get(d.accountId) === undefined) {
        batch.stores.balances.put({
          partition: p,
          account_id: d.accountId,
          debit_fen: 0n,
          credit_fen: 0n,
          balance_fen: 0n,
        });
      }
      return;
    }
    case 'AllocationIssued': {
      const d = event.data;
      requireAccount(batch, d.fromAccountId);
      requireTotal(batch, 'consumed tranches', d.consumed, d.amountFen);
      const consumed = batch.consume(d.consumed, 'allocation', d.allocationId, {
        fromAccountId: d.fromAccountId,
      });
      batch.entry('debit', nominal.issued, d.amountFen, 'allocation', d.allocationId);
      d.consumed.forEach((piece, index) => {
        batch.flow(p, piece.trancheId, 'allocation', d.allocationId, piece.amountFen);
        batch.progress('issued', consumed[index]!, piece.amountFen);
      });
      batch.issueAllocation({
        from_partition: p,
        allocation_id: d.allocationId,
        to_partition: d.toPartition,
        from_account_id: d.fromAccountId,
        document_number: d.documentNumber,
        fund_source: d.fundSource,
        purpose: d.purpose,
        fiscal_year: d.fiscalYear,
        title: d.title,
        issued_fen: d.amountFen,
        issued_on: on,
        issued_seq: seq,
        received_fen: 0n,
      });
      return;
    }
    case 'AllocationReceived': {
      const d = event.data;
      if (batch.stores.receipts.get(d.receiptId) !== undefined)
        batch.fail('entity_duplicate', `receipt ${d.receiptId} exists`);
      requireAccount(batch, d.accountId);
      const external = d.origin.kind === 'external';
      requireTotal(batch, 'created tranches', d.created, d.amountFen);
      for (const credit of d.created) {
        requireAccount(batch, credit.accountId);
        if (!external) {
          const origin = d.origin.kind === 'partition' ? d.origin.partition : '';
          for (const parent of credit.parents) {
            if (parent.partition !== origin) {
              batch.fail(
                'lineage_broken',
                `tranche ${credit.trancheId} names parent ${parent.trancheId} in ${parent.partition ?? 'this partition'}, not in the issuing partition ${origin}`,
              );
            }
          }
        }
        const tranche = batch.create(credit, 'receipt', d.receiptId, external);
        batch.progress('received', tranche, credit.amountFen);
      }
      batch.entry(
        'credit',
        external ? nominal.external : nominal.received,
        d.amountFen,
        'receipt',
        d.receiptId,
      );
      batch.stores.receipts.put({
        partition: p,
        receipt_id: d.receiptId,
        origin_kind: d.origin.kind,
        origin_partition: d.origin.kind === 'partition' ? d.origin.partition : null,
        origin_allocation_id: d.origin.kind === 'partition' ? d.origin.allocationId : null,
        payer: d.origin.kind === 'external' ? d.origin.payer : null,
        account_id: d.accountId,
        document_number: d.documentNumber,
        fund_source: d.fundSource,
        purpose: d.purpose,
        fiscal_year: d.fiscalYear,
        amount_fen: d.amountFen,
        received_on: on,
        seq,
        reversed_seq: null,
      });
      if (d.origin.kind === 'partition')
        batch.receiveAllocation(d.origin.partition, d.origin.allocationId, d.amountFen);
      return;
    }
    case 'FundsIntegrated': {
      const d = event.data;
      if (batch.stores.integrations.get(d.integrationId) !== undefined)
        batch.fail('entity_duplicate', `integration ${d.integrationId} exists`);
      if (batch.stores.plans.get(d.planId) === undefined)
        batch.fail('entity_unknown', `plan ${d.planId} is not in the books`);
      requireAccount(batch, d.accountId);
      requireTotal(batch, 'consumed tranches', d.consumed, d.amountFen);
      requireTotal(batch, 'created tranches', d.created, d.amountFen);
      const consumed = batch.consume(d.consumed, 'integration', d.integrationId);
      d.consumed.forEach((piece, index) => {
        batch.progress('integrated', consumed[index]!, piece.amountFen);
      });
      for (const credit of d.created) {
        requireAccount(batch, credit.accountId);
        batch.create(credit, 'integration', d.integrationId, false);
      }
      batch.stores.integrations.put({
        partition: p,
        integration_id: d.integrationId,
        plan_id: d.planId,
        line_id: d.lineId,
        account_id: d.accountId,
        document_number: d.documentNumber,
        purpose: d.purpose,
        amount_fen: d.amountFen,
        integrated_on: on,
        seq,
        reversed_seq: null,
      });
      return;
    }
    case 'PlanApproved':
    case 'PlanAdjusted': {
      const d = event.data;
      const existing = batch.stores.plans.get(d.planId);
      if (event.type === 'PlanApproved' && existing !== undefined)
        batch.fail('entity_duplicate', `plan ${d.planId} exists`);
      if (event.type === 'PlanAdjusted' && existing === undefined)
        batch.fail('entity_unknown', `plan ${d.planId} is not in the books`);
      const total = sum(d.lines);
      if (total !== d.totalFen)
        batch.fail('total_mismatch', `plan lines sum to ${total} fen, its total is ${d.totalFen} fen`);
      batch.stores.plans.put(
        event.type === 'PlanApproved'
          ? {
              partition: p,
              plan_id: d.planId,
              document_number: d.documentNumber,
              title: event.data.title,
              fiscal_year: event.data.fiscalYear,
              total_fen: d.totalFen,
              approved_seq: seq,
              adjusted_seq: null,
              adjustment_count: 0,
            }
          : {
              ...existing!,
              document_number: d.documentNumber,
              total_fen: d.totalFen,
              adjusted_seq: seq,
              adjustment_count: existing!.adjustment_count + 1,
            },
      );
      batch.replacePlanLines(
        d.planId,
        d.lines.map((line) => ({
          partition: p,
          plan_id: d.planId,
          line_id: line.lineId,
          category: line.category,
          title: line.title,
          amount_fen: line.amountFen,
        })),
      );
      return;
    }
    case 'ProjectApproved': {
      const d = event.data;
      if (batch.stores.projects.get(d.projectId) !== undefined)
        batch.fail('entity_duplicate', `project ${d.projectId} exists`);
      if (batch.stores.plans.get(d.planId) === undefined)
        batch.fail('entity_unknown', `plan ${d.planId} is not in the books`);
      requireAccount(batch, d.accountId);
      requireAccount(batch, d.implementingUnitAccountId);
      batch.stores.projects.put({
        partition: p,
        project_id: d.projectId,
        plan_id: d.planId,
        line_id: d.lineId,
        name: d.name,
        village_code: d.villageCode,
        category: d.category,
        budget_fen: d.budgetFen,
        account_id: d.accountId,
        implementing_unit_account_id: d.implementingUnitAccountId,
        reimbursement: d.reimbursement,
        earmarked_fen: 0n,
        disbursed_fen: 0n,
        acceptance_count: 0,
        approved_seq: seq,
        approved_on: on,
        adjusted_seq: null,
      });
      return;
    }
    case 'ProjectAdjusted': {
      const d = event.data;
      const row = project(batch, d.projectId);
      requireAccount(batch, d.implementingUnitAccountId);
      batch.stores.projects.put({
        ...row,
        budget_fen: d.budgetFen,
        implementing_unit_account_id: d.implementingUnitAccountId,
        adjusted_seq: seq,
      });
      return;
    }
    case 'AcceptanceRecorded': {
      const d = event.data;
      const row = project(batch, d.projectId);
      batch.stores.projects.put({ ...row, acceptance_count: row.acceptance_count + 1 });
      batch.append('acceptances', {
        partition: p,
        acceptance_id: d.acceptanceId,
        project_id: d.projectId,
        document_number: d.documentNumber,
        accepted_on: d.acceptedOn,
        inspected_by: d.inspectedBy,
        seq,
      });
      return;
    }
    case 'FundsEarmarked':
    case 'FundsDisbursed': {
      const d = event.data;
      const earmark = event.type === 'FundsEarmarked';
      const id = event.type === 'FundsEarmarked' ? event.data.earmarkId : event.data.disbursementId;
      const kind = earmark ? 'earmark' : 'disbursement';
      const existing = earmark ? batch.stores.earmarks.get(id) : batch.stores.disbursements.get(id);
      if (existing !== undefined) batch.fail('entity_duplicate', `${kind} ${id} exists`);
      const row = project(batch, d.projectId);
      requireAccount(batch, d.fromAccountId);
      requireAccount(batch, d.toAccountId);
      requireTotal(batch, 'consumed tranches', d.consumed, d.amountFen);
      requireTotal(batch, 'created tranches', d.created, d.amountFen);
      const consumed = batch.consume(d.consumed, kind, id, { fromAccountId: d.fromAccountId });
      d.consumed.forEach((piece, index) => {
        batch.progress(earmark ? 'earmarked' : 'disbursed', consumed[index]!, piece.amountFen, {
          villageCode: row.village_code,
        });
      });
      for (const credit of d.created) {
        if (credit.accountId !== d.toAccountId) {
          batch.fail(
            'entries_unbalanced',
            `tranche ${credit.trancheId} is credited to ${credit.accountId}, the ${kind} goes to ${d.toAccountId}`,
          );
        }
        batch.create(credit, kind, id, false);
      }
      if (event.type === 'FundsEarmarked') {
        batch.stores.projects.put({ ...row, earmarked_fen: row.earmarked_fen + d.amountFen });
        batch.stores.earmarks.put({
          partition: p,
          earmark_id: id,
          project_id: d.projectId,
          from_account_id: d.fromAccountId,
          to_account_id: d.toAccountId,
          amount_fen: d.amountFen,
          earmarked_on: on,
          seq,
          reversed_seq: null,
        });
      } else {
        batch.stores.projects.put({ ...row, disbursed_fen: row.disbursed_fen + d.amountFen });
        batch.stores.disbursements.put({
          partition: p,
          disbursement_id: id,
          project_id: d.projectId,
          from_account_id: d.fromAccountId,
          to_account_id: d.toAccountId,
          amount_fen: d.amountFen,
          acceptance_id: event.data.acceptanceId,
          disbursed_on: on,
          seq,
          reversed_seq: null,
        });
      }
      return;
    }
    case 'RosterSubmitted': {
      const d = event.data;
      requireAccount(batch, d.accountId);
      batch.append('rosters', rosterRow(p, seq, on, d));
      return;
    }
    case 'PaymentInstructed': {
      const d = event.data;
      if (batch.stores.payments.get(d.paymentId) !== undefined)
        batch.fail('entity_duplicate', `payment ${d.paymentId} exists`);
      requireAccount(batch, d.accountId);
      requireTotal(batch, 'consumed tranches', d.consumed, d.amountFen);
      const consumed = batch.consume(d.consumed, 'payment', d.paymentId, {
        fromAccountId: d.accountId,
        unknown: 'payment_unrooted',
      });
      batch.entry('debit', nominal.pending, d.amountFen, 'payment', d.paymentId);
      const rows = paymentInstructedRows(p, seq, on, d);
      // The payment's pieces are the event's only flows, so their piece numbers start at 0.
      for (const flow of rows.flows) batch.append('tranche_flows', flow);
      d.consumed.forEach((piece, index) => {
        batch.progress('paid', consumed[index]!, piece.amountFen, { programmeCode: d.programmeCode });
      });
      batch.paymentPieces.set(
        d.paymentId,
        d.consumed.map((piece) => ({ trancheId: piece.trancheId, amountFen: piece.amountFen })),
      );
      batch.stores.payments.put(rows.payment);
      return;
    }
    case 'PaymentSettled': {
      const d = event.data;
      const payment = batch.stores.payments.get(d.paymentId);
      if (payment === undefined) batch.fail('entity_unknown', `payment ${d.paymentId} is not in the books`);
      if (payment.status !== 'instructed')
        batch.fail(
          'transition_invalid',
          `payment ${d.paymentId} is ${payment.status}, only an instructed payment settles`,
        );
      batch.entry('credit', nominal.pending, payment.amount_fen, 'payment', d.paymentId);
      batch.entry('debit', nominal.households, payment.amount_fen, 'payment', d.paymentId);
      batch.stores.payments.put(paymentSettledRow(payment, d, seq));
      return;
    }
    case 'PaymentReturned': {
      const d = event.data;
      const payment = batch.stores.payments.get(d.paymentId);
      if (payment === undefined) batch.fail('entity_unknown', `payment ${d.paymentId} is not in the books`);
      if (payment.status !== 'instructed')
        batch.fail(
          'transition_invalid',
          `payment ${d.paymentId} is ${payment.status}, only an instructed payment is returned`,
        );
      const pieces = batch.paymentPieces.get(d.paymentId) ?? [];
      if (!samePieces(pieces, d.restored)) {
        batch.fail(
          'restore_mismatch',
          `payment ${d.paymentId} came from ${describePieces(pieces)}, the return restores ${describePieces(d.restored)}`,
        );
      }
      const restored = batch.restore(d.restored, 'payment', d.paymentId);
      batch.entry('credit', nominal.pending, payment.amount_fen, 'payment', d.paymentId);
      d.restored.forEach((piece, index) => {
        batch.progress('returned', restored[index]!, piece.amountFen, {
          programmeCode: payment.programme_code,
        });
      });
      batch.stores.payments.put(paymentReturnedRow(payment, d, seq));
      return;
    }
    case 'MovementReversed':
      reverse(batch, event);
      return;
    case 'TranchesCarriedOver': {
      const d = event.data;
      const consumedTotal = sum(d.consumed);
      requireTotal(batch, 'created tranches', d.created, consumedTotal);
      const movementId = `${d.fiscalYear}-${d.chunk}`;
      const consumed = batch.consume(d.consumed, 'carry_over', movementId);
      d.consumed.forEach((piece, index) => {
        batch.progress('carried_over', consumed[index]!, piece.amountFen);
      });
      for (const credit of d.created) {
        requireAccount(batch, credit.accountId);
        batch.create(credit, 'carry_over', movementId, false);
      }
      const year = batch.stores.fiscal_years.get(d.fiscalYear) ?? {
        partition: p,
        fiscal_year: d.fiscalYear,
        carried_over_fen: 0n,
        chunk_count: 0,
        tranche_count: 0,
        closed: false,
        closed_seq: null,
      };
      if (year.closed) batch.fail('transition_invalid', `fiscal year ${d.fiscalYear} is closed`);
      if (d.chunk !== year.chunk_count)
        batch.fail(
          'total_mismatch',
          `carry-over chunk ${d.chunk} of ${d.fiscalYear} follows ${year.chunk_count} chunks`,
        );
      batch.stores.fiscal_years.put({
        ...year,
        carried_over_fen: year.carried_over_fen + consumedTotal,
        chunk_count: year.chunk_count + 1,
        tranche_count: year.tranche_count + d.created.length,
      });
      return;
    }
    case 'FiscalYearClosed': {
      const d = event.data;
      const year = batch.stores.fiscal_years.get(d.fiscalYear) ?? {
        partition: p,
        fiscal_year: d.fiscalYear,
        carried_over_fen: 0n,
        chunk_count: 0,
        tranche_count: 0,
        closed: false,
        closed_seq: null,
      };
      if (year.closed) batch.fail('transition_invalid', `fiscal year ${d.fiscalYear} is already closed`);
      if (
        year.carried_over_fen !== d.carriedOverFen ||
        year.chunk_count !== d.chunkCount ||
        year.tranche_count !== d.trancheCount
      ) {
        batch.fail(
          'total_mismatch',
          `year ${d.fiscalYear} closes with ${d.carriedOverFen} fen in ${d.chunkCount} chunks / ${d.trancheCount} tranches, the books carried ${year.carried_over_fen} fen in ${year.chunk_count} / ${year.tranche_count}`,
        );
      }
      batch.stores.fiscal_years.put({ ...year, closed: true, closed_seq: seq });
      return;
    }
    case 'NoticePublished': {
      const d = event.data;
      if (batch.stores.notices.get(d.noticeId) !== undefined)
        batch.fail('entity_duplicate', `notice ${d.noticeId} exists`);
      batch.stores.notices.put({
        partition: p,
        notice_id: d.noticeId,
        kind: d.kind,
        title: d.title,
        stage: d.stage,
        programme_code: d.programmeCode,
        period: d.period,
        subject_id: d.subjectId,
        starts_on: d.startsOn,
        ends_on: d.endsOn,
        status: 'open',
        objection_count: 0,
        open_objection_count: 0,
        published_seq: seq,
        closed_seq: null,
        close_note: null,
      });
      return;
    }
    case 'NoticeLinesPublished':
      projectNoticeLines(batch, event.data);
      return;
    case 'ObjectionFiled': {
      const d = event.data;
      const notice = batch.stores.notices.get(d.noticeId);
      if (notice === undefined) batch.fail('entity_unknown', `notice ${d.noticeId} is not in the books`);
      if (batch.stores.objections.get(d.objectionId) !== undefined)
        batch.fail('entity_duplicate', `objection ${d.objectionId} exists`);
      batch.stores.notices.put({
        ...notice,
        objection_count: notice.objection_count + 1,
        open_objection_count: notice.open_objection_count + 1,
      });
      batch.stores.objections.put({
        partition: p,
        objection_id: d.objectionId,
        notice_id: d.noticeId,
        household_id: d.householdId,
        summary: d.summary,
        channel: d.channel,
        filed_on: d.filedOn,
        outcome: null,
        resolution_note: null,
        filed_seq: seq,
        resolved_seq: null,
      });
      return;
    }
    case 'ObjectionResolved': {
      const d = event.data;
      const objection = batch.stores.objections.get(d.objectionId);
      if (objection === undefined || objection.notice_id !== d.noticeId)
        batch.fail(
          'entity_unknown',
          `objection ${d.objectionId} on notice ${d.noticeId} is not in the books`,
        );
      if (objection.outcome !== null)
        batch.fail('transition_invalid', `objection ${d.objectionId} is already ${objection.outcome}`);
      const notice = batch.stores.notices.get(d.noticeId)!;
      batch.stores.notices.put({ ...notice, open_objection_count: notice.open_objection_count - 1 });
      batch.stores.objections.put({
        ...objection,
        outcome: d.outcome,
        resolution_note: d.note,
        resolved_seq: seq,
      });
      return;
    }
    case 'NoticeClosed': {
      const d = event.data;
      const notice = batch.stores.notices.get(d.noticeId);
      if (notice === undefined) batch.fail('entity_unknown', `notice ${d.noticeId} is not in the books`);
      if (notice.status === 'closed')
        batch.fail('transition_invalid', `notice ${d.noticeId} is already closed`);
      batch.stores.notices.put({ ...notice, status: 'closed', closed_seq: seq, close_note: d.note });
      return;
    }
    default: {
      const never: never = event;
      throw new Error(`unhandled ledger event ${(never as { type: string }).type}`);
    }
  }
}

function describePieces(pieces: readonly TranchePiece[]): string {
  return [...byTranche(pieces)].map(([id, amount]) => `${id}:${amount}`).join(', ') || 'nothing';
}

function reverse(batch: Batch, event: Extract<Ledger, { type: 'MovementReversed' }>): void {
  const d = event.data;
  const seq = batch.at.seqBig;
  const kind = d.movementKind;
  const id = d.movementId;
  const cancelTotal = sum(d.cancelled);
  const restoreTotal = sum(d.restored);
  // A reversal may only cancel tranches the movement itself created.
  for (const piece of d.cancelled) {
    const tranche = batch.tranche(piece.trancheId);
    if (tranche.movement_kind !== kind || tranche.movement_id !== id) {
      batch.fail(
        'restore_mismatch',
        `tranche ${piece.trancheId} was created by ${tranche.movement_kind} ${tranche.movement_id}, not by ${kind} ${id}`,
      );
    }
  }
  const cancel = () => {
    const cancelled = batch.consume(d.cancelled, 'reversal', d.reversalId);
    d.cancelled.forEach((piece, index) => {
      batch.progress(`reversed_${kind}`, cancelled[index]!, piece.amountFen);
    });
  };
  switch (kind) {
    case 'receipt': {
      const receipt = batch.stores.receipts.get(id);
      if (receipt === undefined) batch.fail('entity_unknown', `receipt ${id} is not in the books`);
      if (receipt.reversed_seq !== null)
        batch.fail('transition_invalid', `receipt ${id} is already reversed`);
      if (d.restored.length > 0)
        batch.fail(
          'restore_mismatch',
          `a receipt consumed nothing in ${batch.partition}, yet the reversal restores ${restoreTotal} fen`,
        );
      if (cancelTotal !== receipt.amount_fen || d.amountFen !== receipt.amount_fen) {
        batch.fail(
          'total_mismatch',
          `receipt ${id} of ${receipt.amount_fen} fen, reversal of ${d.amountFen} cancels ${cancelTotal} fen`,
        );
      }
      cancel();
      batch.entry(
        'debit',
        receipt.origin_kind === 'external' ? nominal.external : nominal.received,
        d.amountFen,
        'reversal',
        d.reversalId,
      );
      batch.stores.receipts.put({ ...receipt, reversed_seq: seq });
      if (receipt.origin_partition !== null && receipt.origin_allocation_id !== null) {
        batch.receiveAllocation(receipt.origin_partition, receipt.origin_allocation_id, -receipt.amount_fen);
      }
      break;
    }
    case 'integration':
    case 'earmark':
    case 'disbursement': {
      const row =
        kind === 'integration'
          ? batch.stores.integrations.get(id)
          : kind === 'earmark'
            ? batch.stores.earmarks.get(id)
            : batch.stores.disbursements.get(id);
      if (row === undefined) batch.fail('entity_unknown', `${kind} ${id} is not in the books`);
      if (row.reversed_seq !== null) batch.fail('transition_invalid', `${kind} ${id} is already reversed`);
      if (
        cancelTotal !== row.amount_fen ||
        restoreTotal !== row.amount_fen ||
        d.amountFen !== row.amount_fen
      ) {
        batch.fail(
          'total_mismatch',
          `${kind} ${id} of ${row.amount_fen} fen: reversal of ${d.amountFen} cancels ${cancelTotal} and restores ${restoreTotal} fen`,
        );
      }
      // The money goes back to exactly the tranches the movement took it from: the parents of the
      // tranches it created.
      const sources = d.cancelled.flatMap((piece) => batch.trancheParents.get(piece.trancheId) ?? []);
      if (!samePieces(sources, d.restored)) {
        batch.fail(
          'restore_mismatch',
          `${kind} ${id} came from ${describePieces(sources)}, the reversal restores ${describePieces(d.restored)}`,
        );
      }
      cancel();
      batch.restore(d.restored, 'reversal', d.reversalId);
      if (kind === 'integration')
        batch.stores.integrations.put({ ...(row as Row<'integrations'>), reversed_seq: seq });
      else if (kind === 'earmark') {
        const earmark = row as Row<'earmarks'>;
        batch.stores.earmarks.put({ ...earmark, reversed_seq: seq });
        const p = project(batch, earmark.project_id);
        batch.stores.projects.put({ ...p, earmarked_fen: p.earmarked_fen - earmark.amount_fen });
      } else {
        const disbursement = row as Row<'disbursements'>;
        batch.stores.disbursements.put({ ...disbursement, reversed_seq: seq });
        const p = project(batch, disbursement.project_id);
        batch.stores.projects.put({ ...p, disbursed_fen: p.disbursed_fen - disbursement.amount_fen });
      }
      break;
    }
    case 'payment': {
      const payment = batch.stores.payments.get(id);
      if (payment === undefined) batch.fail('entity_unknown', `payment ${id} is not in the books`);
      if (payment.status === 'returned' || payment.status === 'reversed') {
        batch.fail('transition_invalid', `payment ${id} is ${payment.status}; its money is already back`);
      }
      if (d.cancelled.length > 0)
        batch.fail(
          'restore_mismatch',
          `a payment created no tranches, yet the reversal cancels ${cancelTotal} fen`,
        );
      if (d.amountFen !== payment.amount_fen)
        batch.fail(
          'total_mismatch',
          `payment ${id} of ${payment.amount_fen} fen, reversal of ${d.amountFen} fen`,
        );
      const pieces = batch.paymentPieces.get(id) ?? [];
      if (!samePieces(pieces, d.restored)) {
        batch.fail(
          'restore_mismatch',
          `payment ${id} came from ${describePieces(pieces)}, the reversal restores ${describePieces(d.restored)}`,
        );
      }
      const restored = batch.restore(d.restored, 'reversal', d.reversalId);
      d.restored.forEach((piece, index) => {
        batch.progress('reversed_payment', restored[index]!, piece.amountFen, {
          programmeCode: payment.programme_code,
        });
      });
      batch.entry(
        'credit',
        payment.status === 'settled' ? nominal.households : nominal.pending,
        payment.amount_fen,
        'reversal',
        d.reversalId,
      );
      batch.stores.payments.put({ ...payment, status: 'reversed', reversed_seq: seq, status_seq: seq });
      break;
    }
  }
  batch.append('reversals', {
    partition: batch.partition,
    reversal_id: d.reversalId,
    movement_kind: kind,
    movement_id: id,
    reason: d.reason,
    amount_fen: d.amountFen,
    reversed_on: batch.at.occurredOn,
    seq,
  });
}
