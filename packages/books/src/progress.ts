import type { Database } from '@fundtrace/db';
import { type Kysely, sql } from 'kysely';

/**
 * Dimensions a spending-progress report can be broken down by. `township` and `village` come from
 * the project for earmarks and disbursements and from the household's register entry for payments.
 */
export const progressDimensions = [
  'day',
  'fund_source',
  'document_number',
  'fiscal_year',
  'township',
  'village',
  'programme',
] as const;
export type ProgressDimension = (typeof progressDimensions)[number];

/** Longest period one report covers: ten years of daily rows is already more than anyone reads. */
export const progressPeriodDaysMax = 3_660;
/** Most rows one report returns. */
export const progressRowsMax = 50_000;

export interface ProgressQuery {
  readonly partition: string;
  /** First and last business day, inclusive (YYYY-MM-DD): a 旬 is ten days, a year is 365. */
  readonly from: string;
  readonly to: string;
  readonly groupBy: readonly ProgressDimension[];
}

/** One row of the report: the dimensions asked for, then money per measure. */
export interface ProgressRow {
  readonly key: Readonly<Partial<Record<ProgressDimension, string>>>;
  /** received, issued, integrated, earmarked, disbursed, paid, returned, carried_over, reversed_<kind>. */
  readonly measures: Readonly<Record<string, bigint>>;
  /** paid − returned − reversed_payment: what actually reached households. */
  readonly netPaidFen: bigint;
}

const datePattern = /^\d{4}-\d{2}-\d{2}$/;

const columnFor: Readonly<Record<ProgressDimension, ReturnType<typeof sql.raw>>> = {
  day: sql.raw('day::text'),
  fund_source: sql.raw('fund_source'),
  document_number: sql.raw('document_number'),
  fiscal_year: sql.raw('fiscal_year::text'),
  township: sql.raw('left(village_code, 9)'),
  village: sql.raw('village_code'),
  programme: sql.raw('programme_code'),
};

/**
 * Spending progress for a period in one query: daily sums from `spending_progress`, with the
 * payments' village taken from the household's register entry (a payment event does not carry
 * it), grouped by the dimensions asked for.
 */
export async function spendingProgress(db: Kysely<Database>, query: ProgressQuery): Promise<ProgressRow[]> {
  if (!datePattern.test(query.from) || !datePattern.test(query.to) || query.from > query.to) {
    throw new RangeError(
      `from and to must be dates YYYY-MM-DD with from ≤ to, got ${query.from}..${query.to}`,
    );
  }
  const days = (Date.parse(query.to) - Date.parse(query.from)) / 86_400_000 + 1;
  if (days > progressPeriodDaysMax)
    throw new RangeError(`a report covers at most ${progressPeriodDaysMax} days, got ${days}`);
  const groupBy = [...new Set(query.groupBy)];
  for (const dimension of groupBy) {
    if (!progressDimensions.includes(dimension)) throw new RangeError(`unknown dimension ${dimension}`);
  }
  const needsVillage = groupBy.includes('village') || groupBy.includes('township');
  const keys = groupBy.map((dimension, index) => sql`${columnFor[dimension]} as ${sql.ref(`k${index}`)}`);
  const groupColumns = groupBy.map((_, index) => sql.ref(`k${index}`));
  // Payment measures carry no village in spending_progress; when a report needs one, they are
  // summed from the payments and their tranche pieces instead, each placed in its household's village.
  const source = needsVillage
    ? sql`(
        select day, measure, fund_source, document_number, fiscal_year, village_code, programme_code, amount_fen
        from spending_progress
        where partition = ${query.partition} and day between ${query.from} and ${query.to}
          and measure not in ('paid', 'returned', 'reversed_payment')
        union all
        select e.booked_on as day,
               case when e.movement_kind = 'payment' and e.side = 'credit' then 'paid'
                    when e.movement_kind = 'payment' then 'returned' else 'reversed_payment' end,
               t.fund_source, t.document_number, t.fiscal_year, coalesce(h.village_code, ''), p.programme_code, e.amount_fen
        from entries e
        join tranches t on t.partition = e.partition and t.tranche_id = e.tranche_id
        join payments p on p.partition = e.partition
          and p.payment_id = case when e.movement_kind = 'payment' then e.movement_id
                                  else (select r.movement_id from reversals r where r.partition = e.partition and r.reversal_id = e.movement_id) end
        left join households h on h.partition = p.partition and h.household_id = p.household_id
        where e.partition = ${query.partition} and e.booked_on between ${query.from} and ${query.to}
          and e.tranche_id is not null
          and (e.movement_kind = 'payment'
               or (e.movement_kind = 'reversal' and e.side = 'debit'
                   and exists (select 1 from reversals r where r.partition = e.partition and r.reversal_id = e.movement_id and r.movement_kind = 'payment')))
      ) s`
    : sql`(select * from spending_progress where partition = ${query.partition} and day between ${query.from} and ${query.to}) s`;
  const { rows } = await sql<Record<string, string>>`
    select ${sql.join([...keys, sql`measure`, sql`sum(amount_fen)::text as amount`])}
    from ${source}
    group by ${sql.join([...groupColumns, sql.ref('measure')])}
    order by ${sql.join([...groupColumns, sql.ref('measure')])}
    limit ${progressRowsMax}`.execute(db);
  const byKey = new Map<
    string,
    { key: Partial<Record<ProgressDimension, string>>; measures: Record<string, bigint> }
  >();
  for (const row of rows) {
    const key: Partial<Record<ProgressDimension, string>> = {};
    groupBy.forEach((dimension, index) => {
      key[dimension] = row[`k${index}`] ?? '';
    });
    const id = JSON.stringify(groupBy.map((dimension) => key[dimension]));
    const entry = byKey.get(id) ?? { key, measures: {} };
    entry.measures[row.measure!] = BigInt(row.amount!);
    byKey.set(id, entry);
  }
  return [...byKey.values()].map(({ key, measures }) => ({
    key,
    measures,
    netPaidFen: (measures.paid ?? 0n) - (measures.returned ?? 0n) - (measures.reversed_payment ?? 0n),
  }));
}
