import { z } from 'zod';
import { defineEvent } from '../define';
import { householdMembersMax, memberNoSchema } from '../registry/common';
import {
  accountKindSchema,
  codeSchema,
  dateSchema,
  documentNumberSchema,
  fenSchema,
  fiscalYearSchema,
  fundSourceSchema,
  ledgerIdSchema,
  partitionCodeSchema,
  periodSchema,
  planLineSchema,
  planLinesMax,
  positiveFenSchema,
  reversibleKindSchema,
  textSchema,
  trancheCreditsSchema,
  trancheDebitSchema,
  trancheDebitsSchema,
  tranchePiecesMax,
  villageCodeSchema,
} from './common';

export * from './common';
export * from './labels';
export * from './persons-paid';

/**
 * The ledger catalogue, v1: every movement of money in one partition's books
 * (`LEDGER_<code>`), written only by ledger-api. Debits name the tranches they
 * consume and how much of each; credits create tranches naming their parents, so
 * the chain from any payment up to its root allocations is a fact in the log.
 */

export const AccountOpened = defineEvent({
  type: 'AccountOpened',
  version: 1,
  context: 'ledger',
  entity: 'account',
  entityId: (d) => d.accountId,
  description:
    'An account was opened in the books: a pool (专户), a project account or an implementing unit.',
  data: z.object({
    accountId: ledgerIdSchema,
    kind: accountKindSchema,
    name: textSchema,
  }),
});

export const AllocationIssued = defineEvent({
  type: 'AllocationIssued',
  version: 1,
  context: 'ledger',
  entity: 'allocation',
  entityId: (d) => d.allocationId,
  description:
    'Money left this partition for a lower level under a document number (资金下达); it is in transit until received.',
  data: z.object({
    allocationId: ledgerIdSchema,
    toPartition: partitionCodeSchema,
    fromAccountId: ledgerIdSchema,
    documentNumber: documentNumberSchema,
    fundSource: fundSourceSchema,
    purpose: codeSchema,
    fiscalYear: fiscalYearSchema,
    title: textSchema,
    amountFen: positiveFenSchema,
    /**
     * The issuer's tranches consumed, with the fund source of each, so the
     * receiving partition can create one child tranche per parent without
     * reading the issuer's whole history.
     */
    consumed: z
      .array(trancheDebitSchema.extend({ fundSource: fundSourceSchema }))
      .min(1)
      .max(tranchePiecesMax),
  }),
});

const receiptOriginSchema = z.discriminatedUnion('kind', [
  /** 到账 of an allocation issued by another partition of the system. */
  z.object({ kind: z.literal('partition'), partition: partitionCodeSchema, allocationId: ledgerIdSchema }),
  /** Money entering the system from outside: a budget appropriation, a bond, a donation (root tranches). */
  z.object({ kind: z.literal('external'), payer: textSchema }),
]);

export const AllocationReceived = defineEvent({
  type: 'AllocationReceived',
  version: 1,
  context: 'ledger',
  entity: 'receipt',
  entityId: (d) => d.receiptId,
  description:
    'An allocation arrived in this partition (到账) and became tranches of a pool; from outside it creates root tranches.',
  data: z.object({
    receiptId: ledgerIdSchema,
    origin: receiptOriginSchema,
    accountId: ledgerIdSchema,
    documentNumber: documentNumberSchema,
    fundSource: fundSourceSchema,
    purpose: codeSchema,
    fiscalYear: fiscalYearSchema,
    amountFen: positiveFenSchema,
    created: trancheCreditsSchema,
  }),
});

export const FundsIntegrated = defineEvent({
  type: 'FundsIntegrated',
  version: 1,
  context: 'ledger',
  entity: 'integration',
  entityId: (d) => d.integrationId,
  description:
    'The county pooled the named tranches and re-purposed them under a line of its plan (统筹整合).',
  data: z.object({
    integrationId: ledgerIdSchema,
    planId: ledgerIdSchema,
    lineId: ledgerIdSchema,
    accountId: ledgerIdSchema,
    documentNumber: documentNumberSchema,
    purpose: codeSchema,
    amountFen: positiveFenSchema,
    consumed: trancheDebitsSchema,
    created: trancheCreditsSchema,
  }),
});

const planData = {
  planId: ledgerIdSchema,
  documentNumber: documentNumberSchema,
  totalFen: positiveFenSchema,
  lines: z.array(planLineSchema).min(1).max(planLinesMax),
};

export const PlanApproved = defineEvent({
  type: 'PlanApproved',
  version: 1,
  context: 'ledger',
  entity: 'plan',
  entityId: (d) => d.planId,
  description:
    'A plan (规划 / 实施方案) was approved with its budget lines; its total equals the sum of its lines.',
  data: z.object({ ...planData, title: textSchema, fiscalYear: fiscalYearSchema }),
});

export const PlanAdjusted = defineEvent({
  type: 'PlanAdjusted',
  version: 1,
  context: 'ledger',
  entity: 'plan',
  entityId: (d) => d.planId,
  description:
    'A plan was adjusted (调整): its lines and total were replaced, never below what projects use.',
  data: z.object({ ...planData, reason: textSchema }),
});

export const ProjectApproved = defineEvent({
  type: 'ProjectApproved',
  version: 1,
  context: 'ledger',
  entity: 'project',
  entityId: (d) => d.projectId,
  description: 'A project entered the project library (项目库) against a plan line, with its budget.',
  data: z.object({
    projectId: ledgerIdSchema,
    planId: ledgerIdSchema,
    lineId: ledgerIdSchema,
    name: textSchema,
    villageCode: villageCodeSchema,
    category: codeSchema,
    budgetFen: positiveFenSchema,
    accountId: ledgerIdSchema,
    implementingUnitAccountId: ledgerIdSchema,
    /** 报账制: disbursement only after acceptance (验收). */
    reimbursement: z.boolean(),
  }),
});

export const ProjectAdjusted = defineEvent({
  type: 'ProjectAdjusted',
  version: 1,
  context: 'ledger',
  entity: 'project',
  entityId: (d) => d.projectId,
  description: "A project's budget or implementing unit was adjusted, never below what was earmarked to it.",
  data: z.object({
    projectId: ledgerIdSchema,
    budgetFen: positiveFenSchema,
    implementingUnitAccountId: ledgerIdSchema,
    reason: textSchema,
  }),
});

export const AcceptanceRecorded = defineEvent({
  type: 'AcceptanceRecorded',
  version: 1,
  context: 'ledger',
  entity: 'acceptance',
  entityId: (d) => d.acceptanceId,
  description:
    "A project's work was inspected and accepted (验收), which 报账制 requires before disbursement.",
  data: z.object({
    acceptanceId: ledgerIdSchema,
    projectId: ledgerIdSchema,
    documentNumber: documentNumberSchema,
    acceptedOn: dateSchema,
    inspectedBy: textSchema,
  }),
});

export const FundsEarmarked = defineEvent({
  type: 'FundsEarmarked',
  version: 1,
  context: 'ledger',
  entity: 'earmark',
  entityId: (d) => d.earmarkId,
  description: 'Money was assigned from a pool to a project account (资金安排: money follows the project).',
  data: z.object({
    earmarkId: ledgerIdSchema,
    projectId: ledgerIdSchema,
    fromAccountId: ledgerIdSchema,
    toAccountId: ledgerIdSchema,
    amountFen: positiveFenSchema,
    consumed: trancheDebitsSchema,
    created: trancheCreditsSchema,
  }),
});

export const FundsDisbursed = defineEvent({
  type: 'FundsDisbursed',
  version: 1,
  context: 'ledger',
  entity: 'disbursement',
  entityId: (d) => d.disbursementId,
  description:
    'Money was paid from a project account to its implementing unit (拨付), after acceptance under 报账制.',
  data: z.object({
    disbursementId: ledgerIdSchema,
    projectId: ledgerIdSchema,
    fromAccountId: ledgerIdSchema,
    toAccountId: ledgerIdSchema,
    amountFen: positiveFenSchema,
    acceptanceId: ledgerIdSchema.nullable(),
    consumed: trancheDebitsSchema,
    created: trancheCreditsSchema,
  }),
});

export const RosterSubmitted = defineEvent({
  type: 'RosterSubmitted',
  version: 1,
  context: 'ledger',
  entity: 'roster',
  entityId: (d) => d.rosterId,
  description:
    'A payment roster (发放花名册) was validated as a whole; one PaymentInstructed per row follows it.',
  data: z.object({
    rosterId: ledgerIdSchema,
    programmeCode: codeSchema,
    period: periodSchema,
    accountId: ledgerIdSchema,
    noticeId: ledgerIdSchema.nullable(),
    rowCount: z.number().int().min(1),
    totalFen: positiveFenSchema,
    registrySeq: z.number().int().min(0),
  }),
});

export const PaymentInstructed = defineEvent({
  type: 'PaymentInstructed',
  version: 1,
  context: 'ledger',
  entity: 'payment',
  entityId: (d) => d.paymentId,
  description:
    'A household payment was instructed to the bank; its tranches are reserved until it is settled or returned.',
  data: z.object({
    paymentId: ledgerIdSchema,
    rosterId: ledgerIdSchema.nullable(),
    /** The roster's row number (spreadsheet numbering), for progress and error reports. */
    row: z.number().int().min(1).nullable(),
    householdId: ledgerIdSchema,
    programmeCode: codeSchema,
    period: periodSchema,
    quantity: z.number().int().min(1),
    amountFen: positiveFenSchema,
    accountId: ledgerIdSchema,
    noticeId: ledgerIdSchema.nullable(),
    /** 验收 document for programmes paid after acceptance (危房改造). */
    acceptanceRef: documentNumberSchema.nullable(),
    /** The REGISTRY_<code> sequence the household checks were decided against. */
    registrySeq: z.number().int().min(0),
    consumed: trancheDebitsSchema,
  }),
});

export const PaymentSettled = defineEvent({
  type: 'PaymentSettled',
  version: 1,
  context: 'ledger',
  entity: 'payment',
  entityId: (d) => d.paymentId,
  description: "The bank confirmed the money reached the household's 一卡通 account.",
  data: z.object({
    paymentId: ledgerIdSchema,
    bankReference: textSchema,
    settledOn: dateSchema,
  }),
});

export const PaymentReturned = defineEvent({
  type: 'PaymentReturned',
  version: 1,
  context: 'ledger',
  entity: 'payment',
  entityId: (d) => d.paymentId,
  description: 'The bank returned a payment (退回); the money went back to the exact tranches it came from.',
  data: z.object({
    paymentId: ledgerIdSchema,
    reason: textSchema,
    returnedOn: dateSchema,
    restored: trancheDebitsSchema,
  }),
});

export const MovementReversed = defineEvent({
  type: 'MovementReversed',
  version: 1,
  context: 'ledger',
  entity: 'reversal',
  entityId: (d) => d.reversalId,
  description:
    'A booked movement was corrected by its opposite (冲正): the tranches it created were cancelled and its parents restored.',
  data: z.object({
    reversalId: ledgerIdSchema,
    movementKind: reversibleKindSchema,
    movementId: ledgerIdSchema,
    reason: textSchema,
    amountFen: positiveFenSchema,
    /** Tranches the movement created, debited back to zero. Empty for a payment (it created none). */
    cancelled: z.array(trancheDebitSchema).max(tranchePiecesMax),
    /** Tranches the movement consumed, credited back. Empty for an external receipt (it had no parents). */
    restored: z.array(trancheDebitSchema).max(tranchePiecesMax),
  }),
});

export const TranchesCarriedOver = defineEvent({
  type: 'TranchesCarriedOver',
  version: 1,
  context: 'ledger',
  entity: 'year',
  entityId: (d) => String(d.fiscalYear),
  description:
    "Unspent remainders of a closing year's tranches moved to new tranches of the next year (结转), in chunks.",
  data: z.object({
    fiscalYear: fiscalYearSchema,
    chunk: z.number().int().min(0),
    consumed: trancheDebitsSchema,
    created: trancheCreditsSchema,
  }),
});

export const FiscalYearClosed = defineEvent({
  type: 'FiscalYearClosed',
  version: 1,
  context: 'ledger',
  entity: 'year',
  entityId: (d) => String(d.fiscalYear),
  description:
    'A fiscal year was closed; nothing can be booked to it any more, and its remainders were carried over.',
  data: z.object({
    fiscalYear: fiscalYearSchema,
    carriedOverFen: fenSchema,
    trancheCount: z.number().int().min(0),
    chunkCount: z.number().int().min(0),
  }),
});

export const noticeKinds = ['roster', 'programme', 'allocation', 'project'] as const;

export const NoticePublished = defineEvent({
  type: 'NoticePublished',
  version: 1,
  context: 'ledger',
  entity: 'notice',
  entityId: (d) => d.noticeId,
  description: 'A public notice (公示) was posted for a period; objections may be filed until it closes.',
  data: z.object({
    noticeId: ledgerIdSchema,
    kind: z.enum(noticeKinds),
    title: textSchema,
    /** Which stage of the programme's notice chain this is, e.g. 危房改造's third notice (三榜公示). */
    stage: codeSchema,
    programmeCode: codeSchema.nullable(),
    period: periodSchema.nullable(),
    /** What the notice is about: a roster, an allocation or a project id; null for a programme notice. */
    subjectId: ledgerIdSchema.nullable(),
    startsOn: dateSchema,
    endsOn: dateSchema,
  }),
});

/**
 * Lines one NoticeLinesPublished event carries. A line is about 120 bytes encoded, so a part
 * stays near 120 KiB, well under the event size limit; a county's largest roster (100,000
 * households) is a hundred parts appended in one batch with its NoticePublished.
 */
export const noticeLinesPerEventMax = 1_000;

/** Most lines one notice may list: a roster's limit (rosterRowsMax in ledger-api). */
export const noticeLinesMax = 100_000;

/**
 * One proposed beneficiary of a notice (公示名单的一行). No personal data: the household and its
 * members are named by their register ids; names are rendered masked from the registry projection.
 */
export const noticeLineSchema = z.object({
  /** Line number on the notice, 1-based, as printed on the board (objections name it). */
  line: z.number().int().min(1).max(noticeLinesMax),
  householdId: ledgerIdSchema,
  /** The members the line pays for when the programme pays per person (雨露计划's student); else empty. */
  memberNos: z.array(memberNoSchema).max(householdMembersMax),
  /** Persons, months, m² … in the programme's unit: the basis of the amount (standard × quantity). */
  quantity: z.number().int().min(1),
  amountFen: positiveFenSchema,
});
export type NoticeLine = z.infer<typeof noticeLineSchema>;

export const NoticeLinesPublished = defineEvent({
  type: 'NoticeLinesPublished',
  version: 1,
  context: 'ledger',
  entity: 'notice',
  entityId: (d) => d.noticeId,
  description:
    'Proposed beneficiaries of a notice (公示名单), one part of its list; all parts are appended with the notice, so the list is public for the whole period before anyone is paid.',
  data: z.object({
    noticeId: ledgerIdSchema,
    /** 1-based part number and the number of parts: a reader knows when it holds the whole list. */
    part: z.number().int().min(1),
    partCount: z.number().int().min(1),
    lines: z.array(noticeLineSchema).min(1).max(noticeLinesPerEventMax),
  }),
});

export const ObjectionFiled = defineEvent({
  type: 'ObjectionFiled',
  version: 1,
  context: 'ledger',
  entity: 'notice',
  entityId: (d) => d.noticeId,
  description:
    'Someone objected (异议) to a notice, about the whole notice or one household; payments it covers wait.',
  data: z.object({
    objectionId: ledgerIdSchema,
    noticeId: ledgerIdSchema,
    householdId: ledgerIdSchema.nullable(),
    /** What the objection says, without personal data (the notice board masks before sending). */
    summary: textSchema,
    channel: z.enum(['notice_board', 'counter', 'phone', 'letter']),
    filedOn: dateSchema,
  }),
});

export const ObjectionResolved = defineEvent({
  type: 'ObjectionResolved',
  version: 1,
  context: 'ledger',
  entity: 'notice',
  entityId: (d) => d.noticeId,
  description: 'An objection was resolved: upheld (the household is not paid) or dismissed.',
  data: z.object({
    objectionId: ledgerIdSchema,
    noticeId: ledgerIdSchema,
    outcome: z.enum(['upheld', 'dismissed']),
    note: textSchema,
  }),
});

export const NoticeClosed = defineEvent({
  type: 'NoticeClosed',
  version: 1,
  context: 'ledger',
  entity: 'notice',
  entityId: (d) => d.noticeId,
  description: 'A notice was taken down; its period had ended and no objection was open.',
  data: z.object({
    noticeId: ledgerIdSchema,
    note: textSchema,
  }),
});

/** Every ledger event definition; the events core gathers it into the catalogue. */
export const ledgerEvents = [
  AccountOpened,
  AllocationIssued,
  AllocationReceived,
  FundsIntegrated,
  PlanApproved,
  PlanAdjusted,
  ProjectApproved,
  ProjectAdjusted,
  AcceptanceRecorded,
  FundsEarmarked,
  FundsDisbursed,
  RosterSubmitted,
  PaymentInstructed,
  PaymentSettled,
  PaymentReturned,
  MovementReversed,
  TranchesCarriedOver,
  FiscalYearClosed,
  NoticePublished,
  NoticeLinesPublished,
  ObjectionFiled,
  ObjectionResolved,
  NoticeClosed,
] as const;

/** The decoded `data` of a ledger event type, e.g. `LedgerData<'PaymentInstructed'>`. */
export type LedgerEventDefinition = (typeof ledgerEvents)[number];
export type LedgerEventType = LedgerEventDefinition['type'];
export type LedgerData<T extends LedgerEventType> = z.output<
  Extract<LedgerEventDefinition, { type: T }>['data']
>;
