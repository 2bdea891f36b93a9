import { ledger } from '@fundtrace/events';
import { z } from 'zod';
import { bankResultRowsMax, paymentQuantityMax, rosterRowsMax } from './limits';

/**
 * Commands of the ledger, as zod schemas. The HTTP routes use the same schemas
 * for their bodies (OpenAPI comes from them); money arrives as strings of digits
 * and is decoded to bigint fen by the codecs of @fundtrace/money.
 */

/**
 * What one row of a bank result file (回盘) may say about its payment besides the result: the
 * household and amount the bank paid. When given, they must be the payment's, so a file for
 * another roster or rows shifted by one cannot settle the wrong household.
 */
const bankRowExpected = {
  /** The file's row number, echoed in every refusal of the row. */
  row: z.number().int().min(1),
  paymentId: ledger.ledgerIdSchema,
  householdId: ledger.ledgerIdSchema.nullable().default(null),
  amountFen: ledger.positiveFenSchema.nullable().default(null),
};

/** One row of a bank result file: the payment settled (成功) or returned (失败). */
export const bankResultRowSchema = z.discriminatedUnion('result', [
  z.object({
    ...bankRowExpected,
    result: z.literal('settled'),
    bankReference: ledger.textSchema,
    settledOn: ledger.dateSchema,
  }),
  z.object({
    ...bankRowExpected,
    result: z.literal('returned'),
    reason: ledger.textSchema,
    returnedOn: ledger.dateSchema,
  }),
]);

/** Tranches an officer names explicitly instead of letting the writer pick FIFO. */
const namedTranchesSchema = z.array(ledger.trancheDebitSchema).min(1).max(ledger.tranchePiecesMax);

export const commandSchemas = {
  OpenAccount: z.object({
    accountId: ledger.ledgerIdSchema,
    kind: ledger.accountKindSchema,
    name: ledger.textSchema,
  }),
  IssueAllocation: z.object({
    allocationId: ledger.ledgerIdSchema,
    toPartition: ledger.partitionCodeSchema,
    fromAccountId: ledger.ledgerIdSchema,
    documentNumber: ledger.documentNumberSchema,
    fundSource: ledger.fundSourceSchema,
    purpose: ledger.codeSchema,
    fiscalYear: ledger.fiscalYearSchema,
    title: ledger.textSchema,
    amountFen: ledger.positiveFenSchema,
    tranches: namedTranchesSchema.optional(),
  }),
  ReceiveAllocation: z.object({
    receiptId: ledger.ledgerIdSchema,
    accountId: ledger.ledgerIdSchema,
    amountFen: ledger.positiveFenSchema,
    /**
     * From another partition: the issuer's allocation; document number, fund
     * source, purpose and fiscal year are taken from its AllocationIssued event.
     * From outside (budget appropriation, bond, donation): stated here.
     */
    origin: z.discriminatedUnion('kind', [
      z.object({
        kind: z.literal('partition'),
        partition: ledger.partitionCodeSchema,
        allocationId: ledger.ledgerIdSchema,
      }),
      z.object({
        kind: z.literal('external'),
        payer: ledger.textSchema,
        documentNumber: ledger.documentNumberSchema,
        fundSource: ledger.fundSourceSchema,
        purpose: ledger.codeSchema,
        fiscalYear: ledger.fiscalYearSchema,
      }),
    ]),
  }),
  IntegrateFunds: z.object({
    integrationId: ledger.ledgerIdSchema,
    planId: ledger.ledgerIdSchema,
    lineId: ledger.ledgerIdSchema,
    accountId: ledger.ledgerIdSchema,
    documentNumber: ledger.documentNumberSchema,
    /** 统筹整合 re-purposes exactly the tranches it names. */
    tranches: namedTranchesSchema,
  }),
  ApprovePlan: z.object({
    planId: ledger.ledgerIdSchema,
    title: ledger.textSchema,
    fiscalYear: ledger.fiscalYearSchema,
    documentNumber: ledger.documentNumberSchema,
    totalFen: ledger.positiveFenSchema,
    lines: z.array(ledger.planLineSchema).min(1).max(ledger.planLinesMax),
  }),
  AdjustPlan: z.object({
    planId: ledger.ledgerIdSchema,
    documentNumber: ledger.documentNumberSchema,
    reason: ledger.textSchema,
    totalFen: ledger.positiveFenSchema,
    lines: z.array(ledger.planLineSchema).min(1).max(ledger.planLinesMax),
  }),
  ApproveProject: z.object({
    projectId: ledger.ledgerIdSchema,
    planId: ledger.ledgerIdSchema,
    lineId: ledger.ledgerIdSchema,
    name: ledger.textSchema,
    villageCode: ledger.villageCodeSchema,
    budgetFen: ledger.positiveFenSchema,
    accountId: ledger.ledgerIdSchema,
    implementingUnitAccountId: ledger.ledgerIdSchema,
    reimbursement: z.boolean(),
  }),
  AdjustProject: z.object({
    projectId: ledger.ledgerIdSchema,
    budgetFen: ledger.positiveFenSchema,
    implementingUnitAccountId: ledger.ledgerIdSchema,
    reason: ledger.textSchema,
  }),
  RecordAcceptance: z.object({
    acceptanceId: ledger.ledgerIdSchema,
    projectId: ledger.ledgerIdSchema,
    documentNumber: ledger.documentNumberSchema,
    acceptedOn: ledger.dateSchema,
    inspectedBy: ledger.textSchema,
  }),
  EarmarkFunds: z.object({
    earmarkId: ledger.ledgerIdSchema,
    projectId: ledger.ledgerIdSchema,
    fromAccountId: ledger.ledgerIdSchema,
    amountFen: ledger.positiveFenSchema,
    tranches: namedTranchesSchema.optional(),
  }),
  DisburseFunds: z.object({
    disbursementId: ledger.ledgerIdSchema,
    projectId: ledger.ledgerIdSchema,
    amountFen: ledger.positiveFenSchema,
    acceptanceId: ledger.ledgerIdSchema.nullable().default(null),
    tranches: namedTranchesSchema.optional(),
  }),
  InstructPayment: z.object({
    paymentId: ledger.ledgerIdSchema,
    householdId: ledger.ledgerIdSchema,
    programmeCode: ledger.codeSchema,
    period: ledger.periodSchema,
    quantity: z.number().int().min(1).max(paymentQuantityMax),
    amountFen: ledger.positiveFenSchema,
    accountId: ledger.ledgerIdSchema,
    noticeId: ledger.ledgerIdSchema.nullable().default(null),
    acceptanceRef: ledger.documentNumberSchema.nullable().default(null),
    tranches: namedTranchesSchema.optional(),
  }),
  SubmitRoster: z.object({
    rosterId: ledger.ledgerIdSchema,
    programmeCode: ledger.codeSchema,
    period: ledger.periodSchema,
    accountId: ledger.ledgerIdSchema,
    noticeId: ledger.ledgerIdSchema.nullable().default(null),
    rows: z
      .array(
        z.object({
          /** The spreadsheet's row number, echoed in errors and in PaymentInstructed.row. */
          row: z.number().int().min(1),
          householdId: ledger.ledgerIdSchema,
          quantity: z.number().int().min(1).max(paymentQuantityMax),
          amountFen: ledger.positiveFenSchema,
          acceptanceRef: ledger.documentNumberSchema.nullable().default(null),
        }),
      )
      .min(1)
      .max(rosterRowsMax),
  }),
  SettlePayment: z.object({
    paymentId: ledger.ledgerIdSchema,
    bankReference: ledger.textSchema,
    settledOn: ledger.dateSchema,
  }),
  ReturnPayment: z.object({
    paymentId: ledger.ledgerIdSchema,
    reason: ledger.textSchema,
    returnedOn: ledger.dateSchema,
  }),
  /** The bank's result file (回盘) as one command: every row's result, or none (decision 0129). */
  RecordBankResults: z.object({
    rows: z.array(bankResultRowSchema).min(1).max(bankResultRowsMax),
  }),
  ReverseMovement: z.object({
    reversalId: ledger.ledgerIdSchema,
    movementKind: ledger.reversibleKindSchema,
    movementId: ledger.ledgerIdSchema,
    reason: ledger.textSchema,
  }),
  CloseFiscalYear: z.object({
    fiscalYear: ledger.fiscalYearSchema,
  }),
  PublishNotice: z.object({
    noticeId: ledger.ledgerIdSchema,
    kind: z.enum(ledger.noticeKinds),
    title: ledger.textSchema,
    stage: ledger.codeSchema,
    programmeCode: ledger.codeSchema.nullable().default(null),
    period: ledger.periodSchema.nullable().default(null),
    subjectId: ledger.ledgerIdSchema.nullable().default(null),
    startsOn: ledger.dateSchema,
    endsOn: ledger.dateSchema,
    /**
     * The proposed beneficiaries (公示名单) of a roster or programme notice, validated like a
     * roster; absent for a notice that lists nobody (allocation, project).
     */
    lines: z
      .array(
        ledger.noticeLineSchema.extend({ memberNos: ledger.noticeLineSchema.shape.memberNos.default([]) }),
      )
      .max(ledger.noticeLinesMax)
      .optional(),
  }),
  FileObjection: z.object({
    objectionId: ledger.ledgerIdSchema,
    noticeId: ledger.ledgerIdSchema,
    householdId: ledger.ledgerIdSchema.nullable().default(null),
    summary: ledger.textSchema,
    channel: z.enum(['notice_board', 'counter', 'phone', 'letter']),
    filedOn: ledger.dateSchema,
  }),
  ResolveObjection: z.object({
    objectionId: ledger.ledgerIdSchema,
    outcome: z.enum(['upheld', 'dismissed']),
    note: ledger.textSchema,
  }),
  CloseNotice: z.object({
    noticeId: ledger.ledgerIdSchema,
    note: ledger.textSchema,
  }),
} as const;

export type CommandType = keyof typeof commandSchemas;
export type CommandData<T extends CommandType> = z.output<(typeof commandSchemas)[T]>;
export type LedgerCommand = { [T in CommandType]: { type: T; data: CommandData<T> } }[CommandType];
export const commandTypes = Object.keys(commandSchemas) as CommandType[];
