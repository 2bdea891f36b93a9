import { type ProgressDimension, type ProgressRow, spendingProgress } from '@fundtrace/books';
import { beijingDate, type Gazetteer, ledger } from '@fundtrace/events';
import { type App, errorResponseSchema } from '@fundtrace/service-kit';
import { type OutputColumn, writeCsv, writeXlsx } from '@fundtrace/tabular';
import { z } from 'zod';
import { auditRejections, fenSchema, inspectorOf, partitionParams, pgDate } from './shared';

/**
 * 支出进度: spending progress of a period (a ten-day 旬报 by default), with the year to date against
 * the annual target of 100% of special funds (002 L53: 年度支出进度目标 100%, 结余资金除外).
 */
export const annualTargetPercent = 100;

/** What the API calls a breakdown, and the books' dimension it groups by. */
const breakdowns = {
  allocation: 'document_number',
  fund_source: 'fund_source',
  township: 'township',
  village: 'village',
  programme: 'programme',
} as const satisfies Record<string, ProgressDimension>;
type Breakdown = keyof typeof breakdowns;

/**
 * Each breakdown in the 旬报 spreadsheet (the JSON keeps the API's names): the Chinese term of its
 * rows, which heads the first column ("乡镇 township") and names the row of money booked to no key
 * ("（不分乡镇）": the level's own receipts have no township, earmarks no programme), and, where
 * keys are codes, the header of the code's own column. Rows keyed by a code are named (an inspector
 * reads 城关镇, 中央财政专项扶贫资金, 农村低保 一类, not 411325100, central, dibao_class1), the code
 * kept beside the name for sorting and joins; a 文号 is its own name.
 */
const breakdownColumns: Readonly<Record<Breakdown, { readonly term: string; readonly code?: string }>> = {
  allocation: { term: '文号' },
  fund_source: { term: '资金来源', code: '资金来源代码 code' },
  township: { term: '乡镇', code: '区划代码 code' },
  village: { term: '村', code: '区划代码 code' },
  programme: { term: '补助项目', code: '项目代码 code' },
};

/** What the 旬报 names its rows with: the gazetteer's places and the reference data's programmes. */
export interface ProgressNames {
  readonly places: Gazetteer;
  readonly programmes: ReadonlyMap<string, { readonly name: string }>;
}

const dateText = pgDate;

/** The 旬 (1st–10th, 11th–20th, 21st–end of month) containing `day`. */
export function xunOf(day: string): { from: string; to: string } {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const month = `${y}-${String(m).padStart(2, '0')}`;
  if (d <= 10) return { from: `${month}-01`, to: `${month}-10` };
  if (d <= 20) return { from: `${month}-11`, to: `${month}-20` };
  const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return { from: `${month}-21`, to: `${month}-${last}` };
}

/** What left the books of this level toward its use: issued down, disbursed to units, paid net to households. */
function spentOf(row: ProgressRow | undefined): bigint {
  if (row === undefined) return 0n;
  return (row.measures.issued ?? 0n) + (row.measures.disbursed ?? 0n) + row.netPaidFen;
}

/** Progress in basis points (1/100 of a percent), rounded down; null when nothing was received. */
export function progressBasisPoints(spentFen: bigint, receivedFen: bigint): number | null {
  if (receivedFen <= 0n) return null;
  return Number((spentFen * 10_000n) / receivedFen);
}

const rowSchema = z.object({
  key: z.record(z.string(), z.string()),
  name: z.string().nullable().meta({
    description:
      'the key’s name: a place’s from the gazetteer, a fund source’s, a programme’s from the reference data; null by allocation (文号) or for money booked to no key',
  }),
  period: z.object({
    receivedFen: fenSchema,
    issuedFen: fenSchema,
    earmarkedFen: fenSchema,
    disbursedFen: fenSchema,
    paidFen: fenSchema,
    returnedFen: fenSchema,
    netPaidFen: z.string(),
    spentFen: z.string(),
  }),
  yearToDate: z.object({
    receivedFen: fenSchema,
    spentFen: z.string(),
    progressPercent: z
      .string()
      .nullable()
      .meta({ description: 'spent ÷ received, two decimals; null without receipts' }),
  }),
  targetPercent: z.number(),
});

export function progressRoutes(app: App, now: () => number, names: ProgressNames): void {
  const namers: Readonly<Partial<Record<Breakdown, (code: string) => string>>> = {
    fund_source: ledger.fundSourceLabel,
    township: (code) => names.places.name(code),
    village: (code) => names.places.name(code),
    programme: (code) => names.programmes.get(code)?.name ?? code,
  };
  app.get(
    '/v1/partitions/:partition/progress',
    {
      onRequest: inspectorOf,
      schema: {
        summary:
          '支出进度 for a period (default: the current 旬) by allocation, fund source, township or village; year to date against the 100% annual target; JSON, CSV or XLSX',
        tags: ['progress'],
        security: [{ bearerAuth: [] }],
        params: partitionParams,
        querystring: z.object({
          from: dateText.optional(),
          to: dateText.optional(),
          by: z.enum(Object.keys(breakdowns) as [Breakdown, ...Breakdown[]]).default('allocation'),
          format: z.enum(['json', 'csv', 'xlsx']).default('json'),
        }),
        response: {
          200: z.object({
            partition: z.string(),
            from: z.string(),
            to: z.string(),
            by: z.string(),
            targetPercent: z.number(),
            rows: z.array(rowSchema),
          }),
          422: errorResponseSchema,
        },
      },
    },
    async (request, reply) => {
      const { partition } = request.params;
      const { by, format } = request.query;
      const xun = xunOf(request.query.to ?? beijingDate(now()));
      const from = request.query.from ?? xun.from;
      const to = request.query.to ?? xun.to;
      if (from > to || from.slice(0, 4) !== to.slice(0, 4)) {
        throw auditRejections.reject(
          'invalid_range',
          'from must not be after to, and both must be in one fiscal year',
          {
            from,
            to,
          },
        );
      }
      const dimension = breakdowns[by];
      const [period, ytd] = await Promise.all([
        spendingProgress(app.db, { partition, from, to, groupBy: [dimension] }),
        spendingProgress(app.db, { partition, from: `${to.slice(0, 4)}-01-01`, to, groupBy: [dimension] }),
      ]);
      const keyOf = (row: ProgressRow) => row.key[dimension] ?? '';
      const periodBy = new Map(period.map((r) => [keyOf(r), r]));
      const ytdBy = new Map(ytd.map((r) => [keyOf(r), r]));
      const keys = [...new Set([...periodBy.keys(), ...ytdBy.keys()])].sort();
      const nameOf = namers[by];
      const rows = keys.map((key) => {
        const p = periodBy.get(key);
        const y = ytdBy.get(key);
        const m = (name: string) => p?.measures[name] ?? 0n;
        const ytdReceived = y?.measures.received ?? 0n;
        const ytdSpent = spentOf(y);
        const bp = progressBasisPoints(ytdSpent, ytdReceived);
        return {
          key: { [by]: key },
          name: nameOf !== undefined && key !== '' ? nameOf(key) : null,
          period: {
            receivedFen: m('received'),
            issuedFen: m('issued'),
            earmarkedFen: m('earmarked'),
            disbursedFen: m('disbursed'),
            paidFen: m('paid'),
            returnedFen: m('returned'),
            // Net figures can be negative (a return in this 旬 of a payment made in the last one).
            netPaidFen: (p?.netPaidFen ?? 0n).toString(),
            spentFen: spentOf(p).toString(),
          },
          yearToDate: {
            receivedFen: ytdReceived,
            spentFen: ytdSpent.toString(),
            progressPercent:
              bp === null ? null : `${Math.trunc(bp / 100)}.${String(bp % 100).padStart(2, '0')}`,
          },
          targetPercent: annualTargetPercent,
        };
      });
      if (format === 'json') return { partition, from, to, by, targetPercent: annualTargetPercent, rows };
      type Field =
        | 'key'
        | 'code'
        | 'received'
        | 'issued'
        | 'earmarked'
        | 'disbursed'
        | 'paid'
        | 'returned'
        | 'net_paid'
        | 'spent'
        | 'ytd_received'
        | 'ytd_spent'
        | 'progress'
        | 'target';
      const { term, code: codeHeader } = breakdownColumns[by];
      const columns: OutputColumn<Field>[] = [
        { field: 'key', header: `${term} ${by.replace('_', ' ')}`, kind: 'text' },
        ...(codeHeader === undefined
          ? []
          : [{ field: 'code', header: codeHeader, kind: 'text' } as const satisfies OutputColumn<Field>]),
        // Amounts are written in 元 (the JSON's are fen): the unit is in every header.
        { field: 'received', header: '到账（元） received', kind: 'money' },
        { field: 'issued', header: '下达（元） issued', kind: 'money' },
        { field: 'earmarked', header: '安排（元） earmarked', kind: 'money' },
        { field: 'disbursed', header: '拨付（元） disbursed', kind: 'money' },
        { field: 'paid', header: '发放（元） paid', kind: 'money' },
        { field: 'returned', header: '退回（元） returned', kind: 'money' },
        { field: 'net_paid', header: '净发放（元） net paid', kind: 'money' },
        { field: 'spent', header: '本期支出（元） spent', kind: 'money' },
        { field: 'ytd_received', header: '年度到账（元） received YTD', kind: 'money' },
        { field: 'ytd_spent', header: '年度支出（元） spent YTD', kind: 'money' },
        { field: 'progress', header: '支出进度 % progress', kind: 'text' },
        { field: 'target', header: '目标 % target', kind: 'text' },
      ];
      const table = rows.map((r) => ({
        key: r.name ?? (Object.values(r.key)[0] || `（不分${term}）`),
        code: Object.values(r.key)[0] ?? '',
        received: r.period.receivedFen,
        issued: r.period.issuedFen,
        earmarked: r.period.earmarkedFen,
        disbursed: r.period.disbursedFen,
        paid: r.period.paidFen,
        returned: r.period.returnedFen,
        net_paid: BigInt(r.period.netPaidFen),
        spent: BigInt(r.period.spentFen),
        ytd_received: r.yearToDate.receivedFen,
        ytd_spent: BigInt(r.yearToDate.spentFen),
        progress: r.yearToDate.progressPercent ?? '',
        target: String(annualTargetPercent),
      }));
      const name = `progress-${partition}-${from}-${to}-${by}`;
      if (format === 'csv') {
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="${name}.csv"`)
          .send(writeCsv(table, columns) as never);
      }
      return reply
        .type('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
        .header('content-disposition', `attachment; filename="${name}.xlsx"`)
        .send(writeXlsx(table, columns, { sheetName: '支出进度' }) as never);
    },
  );
}
