import type { Database } from '@fundtrace/db';
import { type Kysely, sql } from 'kysely';
import { type NoticeSummary, noticeLinesMax } from './public';

/**
 * The published list of a notice (公示名单, NoticeLinesPublished) for the public board: each
 * proposed household with its masked head-of-household name, the amount in full, and what has
 * happened to it since — paid or not, objected to, objection upheld or dismissed. Like the rest of
 * public.ts, nothing that points at a person outside the books is returned (no household id).
 */

export type ListedObjection = 'open' | 'upheld' | 'dismissed' | null;

export interface ListedLine {
  /** The line number published on the notice (objections name it). */
  readonly lineNo: number;
  readonly villageCode: string;
  /** The head of household's name as masked by the registry's policy (张*三). */
  readonly headNameMasked: string;
  readonly maskingVersion: number;
  readonly memberCount: number;
  /** Members the line pays for when the programme pays per person; empty for the household. */
  readonly memberNos: readonly number[];
  readonly quantity: number;
  readonly amountFen: bigint;
  /** The payment made under the notice for this household, if any. */
  readonly paymentId: string | null;
  readonly paymentStatus: 'instructed' | 'settled' | 'returned' | 'reversed' | null;
  /** The latest objection about this household on this notice: open, upheld or dismissed. */
  readonly objection: ListedObjection;
  /** Where the line was published in the log (its NoticeLinesPublished), for an inclusion proof. */
  readonly seq: bigint;
}

/** The published lines of a notice in `region` (county, township or village), by line number. */
export async function publicListedLines(
  db: Kysely<Database>,
  partition: string,
  notice: Pick<NoticeSummary, 'noticeId' | 'subjectId'>,
  region: string = partition,
): Promise<ListedLine[]> {
  if (!/^[0-9]{6}$/.test(partition)) throw new RangeError(`partition must be 6 digits, got ${partition}`);
  if (!/^[0-9]{6}([0-9]{3}){0,2}$/.test(region)) throw new RangeError(`region must be 6, 9 or 12 digits`);
  const { rows } = await sql<{
    line_no: number;
    member_nos: string;
    quantity: number;
    amount_fen: string;
    seq: string;
    village_code: string;
    name_masked: string | null;
    masking_version: number;
    member_count: number;
    payment_id: string | null;
    status: ListedLine['paymentStatus'];
    objection: ListedObjection;
  }>`
    select l.line_no, l.member_nos, l.quantity, l.amount_fen::text as amount_fen, l.seq::text as seq,
           h.village_code, m.name_masked, h.masking_version, h.member_count,
           p.payment_id, p.status, o.objection
    from notice_lines l
    join households h on h.partition = l.partition and h.household_id = l.household_id
    left join lateral (
      select name_masked from members m
      where m.partition = h.partition and m.household_id = h.household_id
      order by (m.relation = 'head') desc, m.member_no limit 1) m on true
    left join lateral (
      select p.payment_id, p.status from payments p
      where p.partition = l.partition and p.household_id = l.household_id
        and (p.notice_id = l.notice_id or (${notice.subjectId}::text is not null and p.roster_id = ${notice.subjectId}))
      order by p.instructed_seq desc limit 1) p on true
    left join lateral (
      select coalesce(o.outcome, 'open') as objection from objections o
      where o.partition = l.partition and o.notice_id = l.notice_id and o.household_id = l.household_id
      order by (o.outcome is null) desc, o.filed_seq desc limit 1) o on true
    where l.partition = ${partition} and l.notice_id = ${notice.noticeId}
      and h.village_code like ${`${region}%`}
    order by l.line_no
    limit ${noticeLinesMax}`.execute(db);
  return rows.map((r) => ({
    lineNo: r.line_no,
    villageCode: r.village_code,
    headNameMasked: r.name_masked ?? '',
    maskingVersion: r.masking_version,
    memberCount: r.member_count,
    memberNos: r.member_nos === '' ? [] : r.member_nos.split(',').map(Number),
    quantity: r.quantity,
    amountFen: BigInt(r.amount_fen),
    paymentId: r.payment_id,
    paymentStatus: r.status,
    objection: r.objection,
    seq: BigInt(r.seq),
  }));
}

/** How many lines a notice published and their total, straight from the books (for checks and feeds). */
export async function listedTotals(
  db: Kysely<Database>,
  partition: string,
  noticeId: string,
): Promise<{ lineCount: number; amountTotalFen: bigint }> {
  const row = await db
    .selectFrom('notice_lines')
    .select((eb) => [eb.fn.countAll<string>().as('n'), eb.fn.sum<string | null>('amount_fen').as('total')])
    .where('partition', '=', partition)
    .where('notice_id', '=', noticeId)
    .executeTakeFirstOrThrow();
  return { lineCount: Number(row.n), amountTotalFen: BigInt(row.total ?? 0) };
}

/**
 * The household behind a published line, so an objection about that line can name it in the
 * command; the public never sees the id. Undefined when the notice has no such line.
 */
export async function householdOfListedLine(
  db: Kysely<Database>,
  partition: string,
  noticeId: string,
  lineNo: number,
): Promise<string | undefined> {
  if (!Number.isSafeInteger(lineNo) || lineNo < 1) return undefined;
  const row = await db
    .selectFrom('notice_lines')
    .select('household_id')
    .where('partition', '=', partition)
    .where('notice_id', '=', noticeId)
    .where('line_no', '=', lineNo)
    .executeTakeFirst();
  return row?.household_id;
}
