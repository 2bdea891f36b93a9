import { ledger } from '@fundtrace/events';
import { parseYuan } from '@fundtrace/money';
import type { ColumnSpec, TableRow } from '@fundtrace/tabular';
import { yuanProblem } from '../words';

/**
 * The ledger's import files (allocations, plans, projects, payment rosters):
 * column specs with the Chinese headers finance staff use and English aliases,
 * and the pure translation of each row into the body of a ledger-api command.
 * Every problem is reported with the spreadsheet's row number, in Chinese for the officer who
 * fixes the file: <列名>：<原因> (decision 0135).
 */

export const ledgerImportKinds = ['allocations', 'plans', 'projects', 'roster', 'settlements'] as const;
export type LedgerImportKind = (typeof ledgerImportKinds)[number];

export interface RowError {
  readonly row: number;
  readonly message: string;
}

/** A row's problems in one message: <列名>：<原因>, separated as a Chinese sentence separates them. */
export function joinProblems(problems: readonly string[]): string {
  return problems.join('；');
}

/** A file with a header and no rows: said on row 1, the header's. */
export const noDataRows = '文件只有表头，没有数据行';

/**
 * 资金来源 as staff write it → the code the ledger stores: each source's full name (the board's and
 * the 旬报's label) and the short forms staff type.
 */
const fundSourceNames: Readonly<Record<string, string>> = {
  ...Object.fromEntries(Object.entries(ledger.fundSourceLabels).map(([code, name]) => [name, code])),
  中央: 'central',
  中央财政: 'central',
  省级: 'province',
  省: 'province',
  市级: 'city',
  市: 'city',
  县级: 'county',
  县: 'county',
  统筹整合: 'integrated',
  债券: 'bond',
  捐赠: 'donation',
  金融: 'credit',
  信贷: 'credit',
};
const fundSourceCodes: ReadonlySet<string> = new Set(ledger.fundSources);

const yes = new Set(['是', 'y', 'yes', 'true', '1']);
const no = new Set(['否', 'n', 'no', 'false', '0', '']);

type Values<F extends string> = Readonly<Record<F, string>>;

/** Collects a row's problems; each getter returns a value or undefined after recording why. */
class RowReader<F extends string> {
  readonly problems: string[] = [];
  constructor(
    readonly row: TableRow<F>,
    readonly headers: Readonly<Record<F, string>>,
  ) {
    for (const p of row.problems) this.problems.push(`${headers[p.field as F] ?? p.field}：${p.message}`);
  }

  get values(): Values<F> {
    return this.row.values;
  }

  text(field: F): string {
    return this.values[field];
  }

  money(field: F): string | undefined {
    const parsed = parseYuan(this.values[field]);
    if (!parsed.ok) {
      this.problems.push(`${this.headers[field]}：${yuanProblem(parsed.code, this.values[field])}`);
      return undefined;
    }
    return parsed.fen.toString();
  }

  integer(field: F, fallback?: number): number | undefined {
    const text = this.values[field];
    if (text === '' && fallback !== undefined) return fallback;
    if (!/^[0-9]{1,9}$/.test(text)) {
      this.problems.push(`${this.headers[field]}：“${text}”不是整数`);
      return undefined;
    }
    return Number(text);
  }

  fundSource(field: F): string | undefined {
    const text = this.values[field];
    const code = fundSourceNames[text] ?? (fundSourceCodes.has(text) ? text : undefined);
    if (code === undefined) {
      this.problems.push(
        `${this.headers[field]}：“${text}”不是资金来源（中央、省级、市级、县级、统筹整合、政府债券、社会帮扶捐赠 …）`,
      );
    }
    return code;
  }

  flag(field: F): boolean | undefined {
    const text = this.values[field].toLowerCase();
    if (yes.has(text)) return true;
    if (no.has(text)) return false;
    this.problems.push(`${this.headers[field]}：“${this.values[field]}”应填 是 或 否`);
    return undefined;
  }
}

function headersOf<F extends string>(specs: readonly ColumnSpec<F>[]): Record<F, string> {
  return Object.fromEntries(specs.map((s) => [s.field, s.headers[0]])) as Record<F, string>;
}

// ---------------------------------------------------------------- roster (发放花名册)

export type RosterField =
  | 'household'
  | 'name'
  | 'programme'
  | 'amount'
  | 'period'
  | 'notice'
  | 'quantity'
  | 'acceptance';

export const rosterColumns: readonly ColumnSpec<RosterField>[] = [
  {
    field: 'household',
    headers: ['户编号', 'household_no', 'householdId'],
    required: true,
    description: '建档立卡户编号，与户籍系统一致',
  },
  { field: 'name', headers: ['姓名', '户主姓名', 'name'], description: '供核对，不上传（个人信息）' },
  {
    field: 'programme',
    headers: ['项目代码', '补助项目代码', 'programme_code', 'programme'],
    required: true,
    description: '补助项目代码，如 dibao_class1（农村低保一类）；同一花名册只能一个项目',
  },
  {
    field: 'amount',
    headers: ['金额(元)', '金额', '发放金额(元)', 'amount_yuan', 'amount'],
    required: true,
    kind: 'money',
    description: '发放金额，单位元，最多两位小数',
  },
  {
    field: 'period',
    headers: ['期间', '发放期间', 'period'],
    required: true,
    description: '发放期间：2024、2024-06、2024-Q2 或 2024-H1；同一花名册只能一个期间',
  },
  {
    field: 'notice',
    headers: ['公示编号', 'notice_id', 'notice'],
    description: '需公示的项目填写公示编号；同一花名册只能一个',
  },
  {
    field: 'quantity',
    headers: ['数量', '人数', 'quantity'],
    kind: 'integer',
    description: '按标准计算的数量（人数、人月、平方米…），不填为1',
  },
  {
    field: 'acceptance',
    headers: ['验收文号', 'acceptance_ref'],
    description: '需验收的项目（危房改造等）填写验收文号',
  },
];

export interface RosterBody {
  programmeCode: string;
  period: string;
  noticeId: string | null;
  rows: Array<{
    row: number;
    householdId: string;
    quantity: number;
    amountFen: string;
    acceptanceRef: string | null;
  }>;
}

/** Rows → one roster body; programme, period and notice must be one value for the whole file. */
export function rosterFromRows(rows: readonly TableRow<RosterField>[]): {
  body?: RosterBody;
  errors: RowError[];
} {
  const headers = headersOf(rosterColumns);
  const errors: RowError[] = [];
  const out: RosterBody['rows'] = [];
  const first = rows[0]?.values;
  for (const row of rows) {
    const r = new RowReader(row, headers);
    const amountFen = r.money('amount');
    const quantity = r.integer('quantity', 1);
    for (const field of ['programme', 'period', 'notice'] as const) {
      if (first && r.text(field) !== first[field]) {
        r.problems.push(
          `${headers[field]}：“${r.text(field)}”与第一行的“${first[field]}”不同，一个花名册只能有一个${headers[field]}`,
        );
      }
    }
    if (r.problems.length > 0) {
      errors.push({ row: row.rowNumber, message: joinProblems(r.problems) });
      continue;
    }
    const acceptance = r.text('acceptance');
    out.push({
      row: row.rowNumber,
      householdId: r.text('household'),
      quantity: quantity!,
      amountFen: amountFen!,
      acceptanceRef: acceptance === '' ? null : acceptance,
    });
  }
  if (rows.length === 0) errors.push({ row: 1, message: noDataRows });
  if (errors.length > 0 || !first) return { errors };
  return {
    body: {
      programmeCode: first.programme,
      period: first.period,
      noticeId: first.notice === '' ? null : first.notice,
      rows: out,
    },
    errors,
  };
}

// ---------------------------------------------------------------- allocations (资金下达)

export type AllocationField =
  | 'allocation'
  | 'toPartition'
  | 'documentNumber'
  | 'fundSource'
  | 'purpose'
  | 'fiscalYear'
  | 'title'
  | 'amount';

export const allocationColumns: readonly ColumnSpec<AllocationField>[] = [
  {
    field: 'allocation',
    headers: ['分配编号', '指标编号', 'allocation_id'],
    required: true,
    description: '本级唯一的分配编号（字母、数字、-、_）',
  },
  {
    field: 'toPartition',
    headers: ['下达区划代码', '接收单位代码', 'to_partition'],
    required: true,
    description: '接收方6位行政区划代码，如 411325',
  },
  {
    field: 'documentNumber',
    headers: ['文号', 'document_number'],
    required: true,
    description: '下达文件文号，如 财农〔2024〕31号',
  },
  {
    field: 'fundSource',
    headers: ['资金来源', 'fund_source'],
    required: true,
    description: '中央、省级、市级、县级、统筹整合、政府债券、社会帮扶捐赠 …',
  },
  {
    field: 'purpose',
    headers: ['用途代码', '用途', 'purpose'],
    required: true,
    description: '用途代码：general、industry、infrastructure、housing、education …',
  },
  {
    field: 'fiscalYear',
    headers: ['年度', 'fiscal_year'],
    required: true,
    kind: 'integer',
    description: '预算年度',
  },
  {
    field: 'title',
    headers: ['资金名称', '摘要', 'title'],
    required: true,
    description: '如 中央财政专项扶贫资金',
  },
  {
    field: 'amount',
    headers: ['金额(元)', '金额', 'amount_yuan', 'amount'],
    required: true,
    kind: 'money',
    description: '下达金额，单位元',
  },
];

export function allocationFromRow(row: TableRow<AllocationField>, fromAccountId: string) {
  const r = new RowReader(row, headersOf(allocationColumns));
  const body = {
    allocationId: r.text('allocation'),
    toPartition: r.text('toPartition'),
    fromAccountId,
    documentNumber: r.text('documentNumber'),
    fundSource: r.fundSource('fundSource'),
    purpose: r.text('purpose'),
    fiscalYear: r.integer('fiscalYear'),
    title: r.text('title'),
    amountFen: r.money('amount'),
  };
  return r.problems.length > 0
    ? { error: { row: row.rowNumber, message: joinProblems(r.problems) } }
    : { body };
}

// ---------------------------------------------------------------- plans (规划 / 实施方案), one row per line

export type PlanField =
  | 'plan'
  | 'planTitle'
  | 'fiscalYear'
  | 'documentNumber'
  | 'total'
  | 'line'
  | 'category'
  | 'lineTitle'
  | 'amount';

export const planColumns: readonly ColumnSpec<PlanField>[] = [
  { field: 'plan', headers: ['方案编号', 'plan_id'], required: true, description: '同一方案的各行相同' },
  { field: 'planTitle', headers: ['方案名称', 'plan_title'], required: true },
  { field: 'fiscalYear', headers: ['年度', 'fiscal_year'], required: true, kind: 'integer' },
  { field: 'documentNumber', headers: ['文号', 'document_number'], required: true },
  {
    field: 'total',
    headers: ['方案总额(元)', '合计(元)', 'total_yuan'],
    kind: 'money',
    description: '可不填；填写时须等于各行金额之和',
  },
  { field: 'line', headers: ['行编号', 'line_id'], required: true },
  {
    field: 'category',
    headers: ['类别', '用途代码', 'category'],
    required: true,
    description: '用途代码，如 infrastructure、industry',
  },
  { field: 'lineTitle', headers: ['行名称', '建设内容', 'line_title'], required: true },
  { field: 'amount', headers: ['金额(元)', '金额', 'amount_yuan'], required: true, kind: 'money' },
];

export interface PlanBody {
  planId: string;
  title: string;
  fiscalYear: number;
  documentNumber: string;
  totalFen: string;
  lines: Array<{ lineId: string; category: string; title: string; amountFen: string }>;
}

/**
 * Groups line rows into plans. A stated total (合计) must equal the sum of the
 * plan's lines, or every row of that plan is reported with the difference: the
 * seed plans' arithmetic (DOMAIN.md) is exactly what the books must refuse.
 */
export function plansFromRows(rows: readonly TableRow<PlanField>[]): {
  bodies: PlanBody[];
  errors: RowError[];
} {
  const headers = headersOf(planColumns);
  const errors: RowError[] = [];
  const plans = new Map<string, { body: PlanBody; stated: Set<string>; rows: number[] }>();
  for (const row of rows) {
    const r = new RowReader(row, headers);
    const amountFen = r.money('amount');
    const fiscalYear = r.integer('fiscalYear');
    const stated = r.text('total') === '' ? null : r.money('total');
    if (r.problems.length > 0) {
      errors.push({ row: row.rowNumber, message: joinProblems(r.problems) });
      continue;
    }
    const planId = r.text('plan');
    let plan = plans.get(planId);
    if (!plan) {
      plan = {
        body: {
          planId,
          title: r.text('planTitle'),
          fiscalYear: fiscalYear!,
          documentNumber: r.text('documentNumber'),
          totalFen: '0',
          lines: [],
        },
        stated: new Set(),
        rows: [],
      };
      plans.set(planId, plan);
    }
    if (stated !== null && stated !== undefined) plan.stated.add(stated);
    plan.rows.push(row.rowNumber);
    plan.body.lines.push({
      lineId: r.text('line'),
      category: r.text('category'),
      title: r.text('lineTitle'),
      amountFen: amountFen!,
    });
  }
  for (const plan of plans.values()) {
    const sum = plan.body.lines.reduce((s, l) => s + BigInt(l.amountFen), 0n);
    plan.body.totalFen = sum.toString();
    if (plan.stated.size > 1) {
      for (const row of plan.rows)
        errors.push({ row, message: `方案 ${plan.body.planId} 的各行填写了不同的方案总额` });
    } else if (plan.stated.size === 1) {
      const stated = BigInt([...plan.stated][0]!);
      if (stated !== sum) {
        const diff = stated - sum;
        for (const row of plan.rows) {
          errors.push({
            row,
            message: `方案 ${plan.body.planId}：填写的方案总额 ${fmt(stated)} 元 ≠ 各行金额之和 ${fmt(sum)} 元（相差 ${fmt(diff)} 元）`,
          });
        }
      }
    }
  }
  errors.sort((a, b) => a.row - b.row);
  return { bodies: [...plans.values()].map((p) => p.body), errors };
}

function fmt(fen: bigint): string {
  const sign = fen < 0n ? '-' : '';
  const abs = fen < 0n ? -fen : fen;
  return `${sign}${abs / 100n}.${(abs % 100n).toString().padStart(2, '0')}`;
}

// ---------------------------------------------------------------- projects (项目库)

export type ProjectField =
  | 'project'
  | 'name'
  | 'plan'
  | 'line'
  | 'village'
  | 'budget'
  | 'account'
  | 'unit'
  | 'reimbursement';

export const projectColumns: readonly ColumnSpec<ProjectField>[] = [
  { field: 'project', headers: ['项目编号', 'project_id'], required: true },
  { field: 'name', headers: ['项目名称', 'project_name'], required: true },
  { field: 'plan', headers: ['方案编号', 'plan_id'], required: true },
  { field: 'line', headers: ['行编号', 'line_id'], required: true },
  {
    field: 'village',
    headers: ['村代码', '行政村代码', 'village_code'],
    required: true,
    description: '12位村级统计用区划代码',
  },
  { field: 'budget', headers: ['预算(元)', '项目预算(元)', 'budget_yuan'], required: true, kind: 'money' },
  {
    field: 'account',
    headers: ['项目账户', 'account_id'],
    required: true,
    description: '已开立的项目账户编号',
  },
  {
    field: 'unit',
    headers: ['实施单位账户', 'implementing_unit_account'],
    required: true,
    description: '已开立的实施单位账户编号',
  },
  {
    field: 'reimbursement',
    headers: ['报账制', 'reimbursement'],
    description: '是 / 否（不填为否）；报账制项目验收后才能拨付',
  },
];

export function projectFromRow(row: TableRow<ProjectField>) {
  const r = new RowReader(row, headersOf(projectColumns));
  const body = {
    projectId: r.text('project'),
    name: r.text('name'),
    planId: r.text('plan'),
    lineId: r.text('line'),
    villageCode: r.text('village'),
    budgetFen: r.money('budget'),
    accountId: r.text('account'),
    implementingUnitAccountId: r.text('unit'),
    reimbursement: r.flag('reimbursement'),
  };
  return r.problems.length > 0
    ? { error: { row: row.rowNumber, message: joinProblems(r.problems) } }
    : { body };
}

// ---------------------------------------------------------------- bank results (回盘)

export type SettlementField =
  | 'payment'
  | 'roster'
  | 'rosterRow'
  | 'household'
  | 'amount'
  | 'result'
  | 'reason'
  | 'bankReference'
  | 'date';

/**
 * The bank's result file for a paid roster (回盘): one row per payment, success with the bank's
 * reference, or failure with its reason (账户已销户, 户名不符 …). A row names its payment by
 * 支付编号, or by the roster's row number (花名册行号) with the roster (花名册编号 or --roster-id).
 * 户编号 and 金额 are optional and, when given, must match the payment. Columns the bank adds
 * (户名, 账号 …) are never read: personal data stays in the file.
 */
export const settlementColumns: readonly ColumnSpec<SettlementField>[] = [
  {
    field: 'payment',
    headers: ['支付编号', 'payment_id'],
    description: '支付编号；不填时按花名册编号和花名册行号找到这笔支付',
  },
  {
    field: 'roster',
    headers: ['花名册编号', 'roster_id'],
    description: '导入花名册时给出的花名册编号（也可用 --roster-id 给出）',
  },
  {
    field: 'rosterRow',
    headers: ['花名册行号', '原行号', 'roster_row'],
    kind: 'integer',
    description: '这笔支付在花名册文件中的行号',
  },
  {
    field: 'household',
    headers: ['户编号', 'household_no', 'householdId'],
    description: '可不填；填写时须与支付一致',
  },
  {
    field: 'amount',
    headers: ['金额(元)', '金额', '发放金额(元)', 'amount_yuan', 'amount'],
    kind: 'money',
    description: '可不填；填写时须与支付金额一致',
  },
  {
    field: 'result',
    headers: ['处理结果', '结果', '状态', 'result'],
    required: true,
    description: '成功 或 失败',
  },
  {
    field: 'reason',
    headers: ['失败原因', '原因', 'reason'],
    description: '失败时必填，如 账户已销户、户名不符',
  },
  {
    field: 'bankReference',
    headers: ['银行流水号', '流水号', 'bank_reference'],
    description: '成功时必填：银行的交易流水号',
  },
  {
    field: 'date',
    headers: ['处理日期', '日期', 'date'],
    required: true,
    kind: 'date',
    description: '银行处理日期 YYYY-MM-DD',
  },
];

const successWords = new Set(['成功', '已到账', '到账', '入账成功', 'success', 'succeeded', 'settled', 'ok']);
const failureWords = new Set(['失败', '退回', '退票', '入账失败', 'failed', 'failure', 'returned']);

/** What a bank row says about its payment besides the result, checked by the ledger against it. */
interface BankRowBase {
  /** The file's row number: the ledger names it in every refusal of the row. */
  readonly row: number;
  readonly paymentId: string;
  readonly householdId?: string;
  readonly amountFen?: string;
}

/** One row of ledger-api's `POST …/bank-results` (decision 0129), as its JSON body carries it. */
export type BankResultRow =
  | (BankRowBase & { readonly result: 'settled'; readonly bankReference: string; readonly settledOn: string })
  | (BankRowBase & { readonly result: 'returned'; readonly reason: string; readonly returnedOn: string });

/**
 * Rows → the rows of one bank-results command: the whole file is one command, checked by the
 * ledger as a whole (decision 0129). What the CLI can judge alone (a result that is neither 成功 nor
 * 失败, a missing reason, a payment named twice) is refused by row before anything is sent.
 */
export function settlementsFromRows(
  rows: readonly TableRow<SettlementField>[],
  defaultRosterId: string | undefined,
): { rows: BankResultRow[]; errors: RowError[] } {
  const headers = headersOf(settlementColumns);
  const errors: RowError[] = [];
  const results: BankResultRow[] = [];
  const seen = new Map<string, number>();
  for (const row of rows) {
    const r = new RowReader(row, headers);
    const amountFen = r.text('amount') === '' ? undefined : r.money('amount');
    let paymentId = r.text('payment');
    if (paymentId === '') {
      const rosterId = r.text('roster') || defaultRosterId;
      const rosterRow = r.text('rosterRow') === '' ? undefined : r.integer('rosterRow');
      if (rosterId === undefined || r.text('rosterRow') === '') {
        r.problems.push(
          `未指明是哪笔支付：请填写${headers.payment}，或填写${headers.rosterRow}和${headers.roster}（也可用 --roster-id 给出花名册编号）`,
        );
      } else if (rosterRow !== undefined) {
        paymentId = ledger.rosterPaymentId(rosterId, rosterRow);
      }
    }
    const result = r.text('result').toLowerCase();
    const outcome = successWords.has(result) ? 'settled' : failureWords.has(result) ? 'returned' : undefined;
    if (outcome === undefined) r.problems.push(`${headers.result}：“${r.text('result')}”应填 成功 或 失败`);
    if (outcome === 'settled' && r.text('bankReference') === '')
      r.problems.push(`${headers.bankReference}：处理成功的支付必须填写`);
    if (outcome === 'returned' && r.text('reason') === '')
      r.problems.push(`${headers.reason}：处理失败的支付必须填写`);
    const date = r.text('date');
    if (!/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(date) || Number.isNaN(Date.parse(`${date}T00:00:00Z`)))
      r.problems.push(`${headers.date}：“${date}”不是日期（YYYY-MM-DD）`);
    if (paymentId !== '') {
      const earlier = seen.get(paymentId);
      if (earlier !== undefined) r.problems.push(`支付 ${paymentId} 已在第 ${earlier} 行`);
      else seen.set(paymentId, row.rowNumber);
    }
    if (r.problems.length > 0 || outcome === undefined) {
      errors.push({ row: row.rowNumber, message: joinProblems(r.problems) });
      continue;
    }
    const base: BankRowBase = {
      row: row.rowNumber,
      paymentId,
      ...(r.text('household') === '' ? {} : { householdId: r.text('household') }),
      ...(amountFen === undefined ? {} : { amountFen }),
    };
    results.push(
      outcome === 'settled'
        ? { ...base, result: outcome, bankReference: r.text('bankReference'), settledOn: date }
        : { ...base, result: outcome, reason: r.text('reason'), returnedOn: date },
    );
  }
  if (rows.length === 0) errors.push({ row: 1, message: noDataRows });
  return { rows: results, errors };
}

// ---------------------------------------------------------------- templates

/** Each kind's example row: what a finance officer sees first when opening the template. */
export const templates: Record<
  LedgerImportKind,
  { file: string; columns: readonly ColumnSpec[]; example: Record<string, string | number | bigint> }
> = {
  roster: {
    file: 'ledger-roster.xlsx',
    columns: rosterColumns,
    example: {
      household: '411325100201-0001',
      name: '张三',
      programme: 'dibao_class1',
      amount: 38_000n,
      period: '2024-06',
      notice: 'N-2024-06',
      quantity: 2,
      acceptance: '',
    },
  },
  allocations: {
    file: 'ledger-allocations.xlsx',
    columns: allocationColumns,
    example: {
      allocation: 'AL-2024-031',
      toPartition: '411325',
      documentNumber: '宛财农〔2024〕31号',
      fundSource: '中央',
      purpose: 'general',
      fiscalYear: 2024,
      title: '中央财政专项扶贫资金',
      amount: 100_000_000n,
    },
  },
  plans: {
    file: 'ledger-plans.xlsx',
    columns: planColumns,
    example: {
      plan: 'P2024',
      planTitle: '内乡县2024年统筹整合涉农资金实施方案',
      fiscalYear: 2024,
      documentNumber: '内政〔2024〕5号',
      total: 60_000_000n,
      line: 'L1',
      category: 'infrastructure',
      lineTitle: '村组道路硬化',
      amount: 60_000_000n,
    },
  },
  settlements: {
    file: 'ledger-settlements.xlsx',
    columns: settlementColumns,
    example: {
      payment: '',
      roster: 'RS-dibao-class1-2024-06-1a2b3c4d',
      rosterRow: 2,
      household: '411325100201-0001',
      amount: 38_000n,
      result: '失败',
      reason: '账户已销户',
      bankReference: '',
      date: '2024-06-20',
    },
  },
  projects: {
    file: 'ledger-projects.xlsx',
    columns: projectColumns,
    example: {
      project: 'PJ-2024-001',
      name: '王庄村道路硬化',
      plan: 'P2024',
      line: 'L1',
      village: '411325100201',
      budget: 40_000_000n,
      account: 'PRJ-2024-001',
      unit: 'UNIT-JT',
      reimbursement: '是',
    },
  },
};
