import { fenSchema, positiveFenSchema } from '@fundtrace/money';
import { z } from 'zod';
import { adminCodeSchema, villageCodeSchema } from '../admin-codes';

/**
 * Building blocks shared by the ledger event schemas. Every identifier that can
 * become a subject token (`ledger.<code>.<entity>.<id>`) is restricted to
 * letters, digits, `_` and `-`: a dot, space, `*` or `>` would change the
 * subject's meaning.
 */

/** Longest client-chosen id (allocation, project, payment …); long enough for a 文号-derived id or a uuid. */
export const ledgerIdLengthMax = 64;

/**
 * Longest tranche id. Tranche ids are derived by the writer as `<prefix>_<movementId>_<n>`
 * (see `trancheIdFor` in ledger-api), so they need room for a 3-letter prefix,
 * a full movement id and a counter.
 */
export const trancheIdLengthMax = 96;

/** Longest free text (titles, reasons, notes): a sentence or two a finance officer types, not a document. */
export const ledgerTextLengthMax = 500;

/**
 * Most tranche pieces one debit or credit may name. FIFO over many small
 * tranches could otherwise produce an event of unbounded size; above this the
 * writer refuses (`too_many_tranches`) and the officer consolidates first.
 */
export const tranchePiecesMax = 1_000;

/** Most lines in one plan (规划 / 实施方案); the seed plans have a few dozen. */
export const planLinesMax = 500;

const safeToken = /^[A-Za-z0-9_-]+$/;

export const ledgerIdSchema = z
  .string()
  .min(1)
  .max(ledgerIdLengthMax)
  .regex(safeToken, 'use only letters, digits, "_" and "-" (the id becomes a NATS subject token)');

export const trancheIdSchema = z
  .string()
  .min(1)
  .max(trancheIdLengthMax)
  .regex(safeToken, 'use only letters, digits, "_" and "-"');

/** GB/T 2260 administrative code of a partition (the events core validates it). */
export const partitionCodeSchema = adminCodeSchema;

export { villageCodeSchema };

/** A calendar date (business date, Beijing time), e.g. a notice period's first and last day. */
export const dateSchema = z.iso.date();

/** Fiscal years the books can hold; China's fiscal year is the calendar year. */
export const fiscalYearSchema = z.number().int().min(2000).max(2100);

/**
 * A payment period: a year (`2024`), a half (`2024-H1`), a quarter (`2024-Q3`) or a
 * month (`2024-03`). 低保 is paid monthly, 光伏收益 yearly, 雨露计划 per term.
 */
export const periodSchema = z
  .string()
  .regex(/^[0-9]{4}(-(0[1-9]|1[0-2]|Q[1-4]|H[12]))?$/, 'a period is YYYY, YYYY-MM, YYYY-Qn or YYYY-Hn');

/** Purpose (用途) and programme codes come from the reference data; the schema only fixes their shape. */
export const codeSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,39}$/, 'a code is lowercase letters, digits and "_", starting with a letter');

/** 文号, e.g. 财农〔2018〕31号 — free text with a bounded length. */
export const documentNumberSchema = z.string().min(1).max(100);

export const textSchema = z.string().min(1).max(ledgerTextLengthMax);

/** 资金来源: where the money was first appropriated. */
export const fundSources = [
  'central', // 中央财政专项扶贫资金
  'province', // 省级财政专项扶贫资金
  'city', // 市级财政专项扶贫资金
  'county', // 县级财政专项扶贫资金
  'integrated', // 统筹整合涉农资金 (sector funds pooled at the county)
  'bond', // 政府债券
  'donation', // 社会帮扶捐赠
  'credit', // 金融 / 信贷
  'self_raised', // 群众自筹
  'eco_compensation', // 生态补偿
  'other',
] as const;
export const fundSourceSchema = z.enum(fundSources);
export type FundSource = z.infer<typeof fundSourceSchema>;

/** Each 资金来源's name as finance offices write it: what a reader sees in place of the code. */
export const fundSourceLabels: Readonly<Record<FundSource, string>> = {
  central: '中央财政专项扶贫资金',
  province: '省级财政专项扶贫资金',
  city: '市级财政专项扶贫资金',
  county: '县级财政专项扶贫资金',
  integrated: '统筹整合涉农资金',
  bond: '政府债券',
  donation: '社会帮扶捐赠',
  credit: '金融/信贷',
  self_raised: '群众自筹',
  eco_compensation: '生态补偿',
  other: '其他',
};

/** A 资金来源 code's name; an unknown code as it is. */
export function fundSourceLabel(code: string): string {
  return (fundSourceLabels as Readonly<Record<string, string>>)[code] ?? code;
}

export const accountKinds = [
  'pool', // a partition's pool (专户): allocations land here
  'project', // one per project in 项目库: money earmarked to it
  'implementing_unit', // 实施单位 / cooperative / contractor receiving disbursements
] as const;
export const accountKindSchema = z.enum(accountKinds);
export type AccountKind = z.infer<typeof accountKindSchema>;

/** A piece of a debit: how much of which tranche was consumed. */
export const trancheDebitSchema = z.object({
  trancheId: trancheIdSchema,
  amountFen: positiveFenSchema,
});
export type TrancheDebit = z.infer<typeof trancheDebitSchema>;

/** A parent of a new tranche; `partition` is set when the parent lives in another partition's books. */
export const trancheParentSchema = z.object({
  partition: partitionCodeSchema.nullable(),
  trancheId: trancheIdSchema,
  amountFen: positiveFenSchema,
});
export type TrancheParent = z.infer<typeof trancheParentSchema>;

/**
 * A tranche (资金批次) created by a credit. Everything the projector needs is a
 * fact in the event: it never recomputes a split. A root tranche (money from
 * outside the system) has no parents; every other tranche's parents sum to its
 * amount.
 */
export const trancheCreditSchema = z.object({
  trancheId: trancheIdSchema,
  accountId: ledgerIdSchema,
  amountFen: positiveFenSchema,
  fundSource: fundSourceSchema,
  fiscalYear: fiscalYearSchema,
  purpose: codeSchema,
  documentNumber: documentNumberSchema,
  parents: z.array(trancheParentSchema).max(tranchePiecesMax),
});
export type TrancheCredit = z.infer<typeof trancheCreditSchema>;

export const trancheDebitsSchema = z.array(trancheDebitSchema).min(1).max(tranchePiecesMax);
export const trancheCreditsSchema = z.array(trancheCreditSchema).min(1).max(tranchePiecesMax);

export const planLineSchema = z.object({
  lineId: ledgerIdSchema,
  category: codeSchema,
  title: textSchema,
  amountFen: positiveFenSchema,
});
export type PlanLine = z.infer<typeof planLineSchema>;

/** Movements that a reversal (冲正) can undo; see MovementReversed. */
export const reversibleKinds = ['receipt', 'integration', 'earmark', 'disbursement', 'payment'] as const;
export const reversibleKindSchema = z.enum(reversibleKinds);
export type ReversibleKind = z.infer<typeof reversibleKindSchema>;

/**
 * The payment id of a roster's row (row = the roster file's row number): derived, so a retried
 * roster makes the same ids, and a bank's result file (回盘) naming 花名册行号 finds the payment.
 * ledger-api decides with it; the CLI's settlements import names payments with it.
 */
export function rosterPaymentId(rosterId: string, row: number): string {
  return `${rosterId}-r${row}`;
}

/**
 * Payment ids one bulk read of payments (ledger-api `POST …/payments/lookup`) may name: the
 * settlements import checks a bank's result file (回盘) of a township's roster in one request, and
 * a county's largest roster (100,000 rows) in twenty instead of a request per row. 5,000 ids of at
 * most `ledgerIdLengthMax` characters are ~340 KB of JSON, a third of ledger-api's 1 MiB body limit.
 */
export const paymentLookupIdsMax = 5_000;

export { fenSchema, positiveFenSchema };
