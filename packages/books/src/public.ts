import type { Database } from '@fundtrace/db';
import { type Kysely, sql } from 'kysely';

/**
 * What the public notice board (公示栏) may read from the books: allocation results, project
 * arrangements and fund use, notices with their beneficiary lines and objections. Every function
 * returns only fields that may be published; household lines carry the masked head-of-household
 * name from the projection, never an identifier that points at a person outside the books.
 */

/** Most rows one public list returns; a county has a few hundred allocations and projects a year. */
export const publicRowsMax = 5_000;
/** Most lines of one notice page: a county's largest 低保 roster stays well under this. */
export const noticeLinesMax = 20_000;

const countyPattern = /^[0-9]{6}$/;
const regionPattern = /^[0-9]{6}([0-9]{3}){0,2}$/;

function assertPartition(partition: string): void {
  if (!countyPattern.test(partition)) throw new RangeError(`partition must be 6 digits, got ${partition}`);
}

/** A prefix of village codes: the county (6 digits), a township (9) or a village (12). */
function assertRegion(region: string): void {
  if (!regionPattern.test(region)) throw new RangeError(`region must be 6, 9 or 12 digits, got ${region}`);
}

/** The projected position of every stream: the read models change exactly when this does. */
export async function projectionVersion(db: Kysely<Database>): Promise<string> {
  const rows = await db
    .selectFrom('projection_checkpoints')
    .select(['consumer', 'stream', 'last_seq'])
    .orderBy('consumer')
    .orderBy('stream')
    .execute();
  return rows.map((r) => `${r.consumer}/${r.stream}@${r.last_seq}`).join(',');
}

/** Partitions that have books (any projected event), for the province → city → county navigation. */
export async function partitionsWithBooks(db: Kysely<Database>): Promise<string[]> {
  const rows = await db
    .selectFrom('events')
    .select('partition')
    .distinct()
    .orderBy('partition')
    .limit(publicRowsMax)
    .execute();
  return rows.map((r) => r.partition);
}

/** Townships and villages of a county that appear in its books (projects or households). */
export async function villagesWithBooks(db: Kysely<Database>, partition: string): Promise<string[]> {
  assertPartition(partition);
  const { rows } = await sql<{ village_code: string }>`
    select village_code from projects where partition = ${partition}
    union
    select village_code from households where partition = ${partition}
    order by village_code limit ${publicRowsMax}`.execute(db);
  return rows.map((r) => r.village_code);
}

export interface AllocationReceivedLine {
  readonly receiptId: string;
  readonly documentNumber: string;
  readonly fundSource: string;
  readonly fiscalYear: number;
  /** The level it came from, or null for money from outside the books (budget, bond, donation). */
  readonly fromPartition: string | null;
  readonly payer: string | null;
  readonly amountFen: bigint;
  readonly receivedOn: string;
  readonly seq: bigint;
  readonly reversed: boolean;
}

export interface AllocationIssuedLine {
  readonly allocationId: string;
  readonly toPartition: string;
  readonly documentNumber: string;
  readonly fundSource: string;
  readonly fiscalYear: number;
  readonly title: string;
  readonly issuedFen: bigint;
  readonly receivedFen: bigint;
  /** issued − received: money on its way (在途), never lost. */
  readonly inTransitFen: bigint;
  readonly issuedOn: string;
  readonly seq: bigint;
}

/** Allocation results of one level: what it received (到账) and what it issued downwards (下达). */
export async function publicAllocations(
  db: Kysely<Database>,
  partition: string,
): Promise<{ received: AllocationReceivedLine[]; issued: AllocationIssuedLine[] }> {
  assertPartition(partition);
  const received = await db
    .selectFrom('receipts')
    .select([
      'receipt_id',
      'document_number',
      'fund_source',
      'fiscal_year',
      'origin_partition',
      'payer',
      'amount_fen',
      'received_on',
      'seq',
      'reversed_seq',
    ])
    .where('partition', '=', partition)
    .orderBy('seq')
    .limit(publicRowsMax)
    .execute();
  const issued = await db
    .selectFrom('allocations')
    .select([
      'allocation_id',
      'to_partition',
      'document_number',
      'fund_source',
      'fiscal_year',
      'title',
      'issued_fen',
      'received_fen',
      'issued_on',
      'issued_seq',
    ])
    .where('from_partition', '=', partition)
    .where('issued_seq', 'is not', null)
    .orderBy('issued_seq')
    .limit(publicRowsMax)
    .execute();
  return {
    received: received.map((r) => ({
      receiptId: r.receipt_id,
      documentNumber: r.document_number,
      fundSource: r.fund_source,
      fiscalYear: r.fiscal_year,
      fromPartition: r.origin_partition,
      payer: r.payer,
      amountFen: r.amount_fen,
      receivedOn: r.received_on,
      seq: r.seq,
      reversed: r.reversed_seq !== null,
    })),
    issued: issued.map((r) => {
      const issuedFen = r.issued_fen ?? 0n;
      return {
        allocationId: r.allocation_id,
        toPartition: r.to_partition,
        documentNumber: r.document_number ?? '',
        fundSource: r.fund_source ?? '',
        fiscalYear: r.fiscal_year ?? 0,
        title: r.title ?? '',
        issuedFen,
        receivedFen: r.received_fen,
        inTransitFen: issuedFen - r.received_fen,
        issuedOn: r.issued_on ?? '',
        seq: r.issued_seq ?? 0n,
      };
    }),
  };
}

export interface ProjectLine {
  readonly projectId: string;
  readonly name: string;
  readonly villageCode: string;
  readonly category: string;
  readonly budgetFen: bigint;
  readonly earmarkedFen: bigint;
  readonly disbursedFen: bigint;
  /** Accepted (验收) at least once. */
  readonly accepted: boolean;
  readonly approvedOn: string;
  readonly seq: bigint;
}

/** Projects of a county whose village lies in `region` (county, township or village code). */
export async function publicProjects(
  db: Kysely<Database>,
  partition: string,
  region: string,
): Promise<ProjectLine[]> {
  assertPartition(partition);
  assertRegion(region);
  const rows = await db
    .selectFrom('projects')
    .select([
      'project_id',
      'name',
      'village_code',
      'category',
      'budget_fen',
      'earmarked_fen',
      'disbursed_fen',
      'acceptance_count',
      'approved_on',
      'approved_seq',
    ])
    .where('partition', '=', partition)
    .where('village_code', 'like', `${region}%`)
    .orderBy('village_code')
    .orderBy('project_id')
    .limit(publicRowsMax)
    .execute();
  return rows.map((r) => ({
    projectId: r.project_id,
    name: r.name,
    villageCode: r.village_code,
    category: r.category,
    budgetFen: r.budget_fen,
    earmarkedFen: r.earmarked_fen,
    disbursedFen: r.disbursed_fen,
    accepted: r.acceptance_count > 0,
    approvedOn: r.approved_on,
    seq: r.approved_seq,
  }));
}

export interface VillagePayments {
  readonly villageCode: string;
  readonly households: number;
  /** Settled payments: money that reached the households' 一卡通 accounts. */
  readonly paidFen: bigint;
  /** Instructed and not yet settled or returned. */
  readonly pendingFen: bigint;
}

/** Household payments per village of `region`, from the payments and the households' register entries. */
export async function publicPaymentsByVillage(
  db: Kysely<Database>,
  partition: string,
  region: string,
): Promise<VillagePayments[]> {
  assertPartition(partition);
  assertRegion(region);
  const { rows } = await sql<{ village_code: string; households: string; paid: string; pending: string }>`
    select h.village_code,
           count(distinct p.household_id)::text as households,
           coalesce(sum(p.amount_fen) filter (where p.status = 'settled'), 0)::text as paid,
           coalesce(sum(p.amount_fen) filter (where p.status = 'instructed'), 0)::text as pending
    from payments p
    join households h on h.partition = p.partition and h.household_id = p.household_id
    where p.partition = ${partition} and h.village_code like ${`${region}%`}
    group by h.village_code order by h.village_code limit ${publicRowsMax}`.execute(db);
  return rows.map((r) => ({
    villageCode: r.village_code,
    households: Number(r.households),
    paidFen: BigInt(r.paid),
    pendingFen: BigInt(r.pending),
  }));
}

export interface NoticeSummary {
  readonly noticeId: string;
  readonly kind: string;
  readonly title: string;
  readonly stage: string;
  readonly programmeCode: string | null;
  readonly period: string | null;
  readonly subjectId: string | null;
  readonly startsOn: string;
  readonly endsOn: string;
  readonly status: 'open' | 'closed';
  readonly objectionCount: number;
  readonly openObjectionCount: number;
  readonly publishedSeq: bigint;
  /** Households on the list published with the notice (公示名单), and their total; 0 when none. */
  readonly listedCount: number;
  readonly listedTotalFen: bigint;
  /**
   * When the log recorded the newest of the notice's own events: its publication and list, each
   * objection filed or resolved, its closing. What a feed's `<updated>` says, so a reader sees an
   * objection appear or be decided.
   */
  readonly updatedAt: Date;
}

const noticeColumns = [
  'n.notice_id',
  'n.kind',
  'n.title',
  'n.stage',
  'n.programme_code',
  'n.period',
  'n.subject_id',
  'n.starts_on',
  'n.ends_on',
  'n.status',
  'n.objection_count',
  'n.open_objection_count',
  'n.published_seq',
] as const;

/**
 * Notices with their published list's size and total beside each row, and when the log recorded the
 * notice's newest own event. Its events are all in its partition's ledger stream, where a later
 * sequence is a later event, so the newest is the one at the highest of the sequences the books keep
 * for it (publication, list parts, objections filed and resolved, closing). One pass over a
 * notice's lines gives count, total and newest part (a lateral join: three scalar subqueries read
 * the lines three times).
 */
function noticesWithLists(db: Kysely<Database>) {
  return db
    .selectFrom('notices as n')
    .leftJoinLateral(
      (eb) =>
        eb
          .selectFrom('notice_lines as l')
          .select([
            sql<string>`count(*)::text`.as('listed_count'),
            sql<string>`coalesce(sum(l.amount_fen), 0)::text`.as('listed_total_fen'),
            sql<string | null>`max(l.seq)`.as('lines_seq'),
          ])
          .whereRef('l.partition', '=', 'n.partition')
          .whereRef('l.notice_id', '=', 'n.notice_id')
          .as('ls'),
      (join) => join.onTrue(),
    )
    .select([
      ...noticeColumns,
      'ls.listed_count',
      'ls.listed_total_fen',
      sql<Date>`(
        select e.recorded_at from events e
        where e.stream = 'LEDGER_' || n.partition
          and e.seq = greatest(
            n.published_seq,
            n.closed_seq,
            ls.lines_seq,
            (select max(greatest(o.filed_seq, o.resolved_seq)) from objections o
              where o.partition = n.partition and o.notice_id = n.notice_id)))`.as('updated_at'),
    ]);
}

interface NoticeRow {
  notice_id: string;
  kind: string;
  title: string;
  stage: string;
  programme_code: string | null;
  period: string | null;
  subject_id: string | null;
  starts_on: string;
  ends_on: string;
  status: 'open' | 'closed';
  objection_count: number;
  open_objection_count: number;
  published_seq: bigint;
  /** From the lateral join, always one row (an aggregate); typed nullable as every left join. */
  listed_count: string | null;
  listed_total_fen: string | null;
  updated_at: Date;
}
function noticeFrom(r: NoticeRow): NoticeSummary {
  return {
    noticeId: r.notice_id,
    kind: r.kind,
    title: r.title,
    stage: r.stage,
    programmeCode: r.programme_code,
    period: r.period,
    subjectId: r.subject_id,
    startsOn: r.starts_on,
    endsOn: r.ends_on,
    status: r.status,
    objectionCount: r.objection_count,
    openObjectionCount: r.open_objection_count,
    publishedSeq: r.published_seq,
    listedCount: Number(r.listed_count ?? 0),
    listedTotalFen: BigInt(r.listed_total_fen ?? 0),
    updatedAt: r.updated_at,
  };
}

/**
 * Notices of a county, newest first. With a township or village `region`, only the notices that
 * concern it: a project notice of a project there, or a notice with a beneficiary line there
 * (a published line of its list, or a payment made under it).
 */
export async function publicNotices(
  db: Kysely<Database>,
  partition: string,
  region: string = partition,
): Promise<NoticeSummary[]> {
  assertPartition(partition);
  assertRegion(region);
  let query = noticesWithLists(db).where('n.partition', '=', partition);
  if (region !== partition) {
    const like = `${region}%`;
    query = query.where(({ exists, or, selectFrom }) =>
      or([
        exists(
          selectFrom('projects as pr')
            .select(sql`1`.as('one'))
            .whereRef('pr.partition', '=', 'n.partition')
            .whereRef('pr.project_id', '=', 'n.subject_id')
            .where('pr.village_code', 'like', like),
        ),
        exists(
          selectFrom('payments as p')
            .innerJoin('households as h', (j) =>
              j.onRef('h.partition', '=', 'p.partition').onRef('h.household_id', '=', 'p.household_id'),
            )
            .select(sql`1`.as('one'))
            .whereRef('p.partition', '=', 'n.partition')
            .where((eb) =>
              eb.or([
                eb('p.notice_id', '=', eb.ref('n.notice_id')),
                eb('p.roster_id', '=', eb.ref('n.subject_id')),
              ]),
            )
            .where('h.village_code', 'like', like),
        ),
        exists(
          selectFrom('notice_lines as l')
            .innerJoin('households as h', (j) =>
              j.onRef('h.partition', '=', 'l.partition').onRef('h.household_id', '=', 'l.household_id'),
            )
            .select(sql`1`.as('one'))
            .whereRef('l.partition', '=', 'n.partition')
            .whereRef('l.notice_id', '=', 'n.notice_id')
            .where('h.village_code', 'like', like),
        ),
      ]),
    );
  }
  const rows = await query.orderBy('n.published_seq', 'desc').limit(publicRowsMax).execute();
  return rows.map(noticeFrom);
}

export async function publicNotice(
  db: Kysely<Database>,
  partition: string,
  noticeId: string,
): Promise<NoticeSummary | undefined> {
  assertPartition(partition);
  const row = await noticesWithLists(db)
    .where('n.partition', '=', partition)
    .where('n.notice_id', '=', noticeId)
    .executeTakeFirst();
  return row === undefined ? undefined : noticeFrom(row);
}

export interface NoticeLine {
  /** 1-based line number on the notice, stable for a given notice (ordered by village, then payment). */
  readonly lineNo: number;
  readonly paymentId: string;
  readonly villageCode: string;
  /** The head of household's name as masked by the registry's policy (张*三). */
  readonly headNameMasked: string;
  readonly maskingVersion: number;
  readonly memberCount: number;
  readonly quantity: number;
  readonly amountFen: bigint;
  readonly status: string;
  /** Where the payment was decided in the log, for an inclusion proof. */
  readonly seq: bigint;
}

/**
 * The beneficiary lines of a notice: the payments made under it (a programme notice named by the
 * payments) or the payments of the roster it publishes (a roster notice's subject). The household
 * id is not returned: a public line needs no key into the register.
 */
export async function publicNoticeLines(
  db: Kysely<Database>,
  partition: string,
  notice: Pick<NoticeSummary, 'noticeId' | 'subjectId'>,
  region: string = partition,
): Promise<NoticeLine[]> {
  assertPartition(partition);
  assertRegion(region);
  const { rows } = await sql<{
    payment_id: string;
    village_code: string;
    name_masked: string | null;
    masking_version: number;
    member_count: number;
    quantity: number;
    amount_fen: string;
    status: string;
    instructed_seq: string;
  }>`
    select p.payment_id, h.village_code, m.name_masked, h.masking_version, h.member_count,
           p.quantity, p.amount_fen::text as amount_fen, p.status, p.instructed_seq::text as instructed_seq
    from payments p
    join households h on h.partition = p.partition and h.household_id = p.household_id
    left join lateral (
      select name_masked from members m
      where m.partition = h.partition and m.household_id = h.household_id
      order by (m.relation = 'head') desc, m.member_no limit 1) m on true
    where p.partition = ${partition}
      and (p.notice_id = ${notice.noticeId} or (${notice.subjectId}::text is not null and p.roster_id = ${notice.subjectId}))
      and h.village_code like ${`${region}%`}
    order by h.village_code, p.instructed_seq, p.payment_id
    limit ${noticeLinesMax}`.execute(db);
  return rows.map((r, index) => ({
    lineNo: index + 1,
    paymentId: r.payment_id,
    villageCode: r.village_code,
    headNameMasked: r.name_masked ?? '',
    maskingVersion: r.masking_version,
    memberCount: r.member_count,
    quantity: r.quantity,
    amountFen: BigInt(r.amount_fen),
    status: r.status,
    seq: BigInt(r.instructed_seq),
  }));
}

export interface ObjectionLine {
  readonly objectionId: string;
  readonly summary: string;
  readonly channel: string;
  readonly filedOn: string;
  readonly outcome: 'upheld' | 'dismissed' | null;
  readonly resolutionNote: string | null;
  readonly filedSeq: bigint;
}

/** Objections to a notice and their resolutions, in filing order; the household is not named. */
export async function publicObjections(
  db: Kysely<Database>,
  partition: string,
  noticeId: string,
): Promise<ObjectionLine[]> {
  assertPartition(partition);
  const rows = await db
    .selectFrom('objections')
    .select(['objection_id', 'summary', 'channel', 'filed_on', 'outcome', 'resolution_note', 'filed_seq'])
    .where('partition', '=', partition)
    .where('notice_id', '=', noticeId)
    .orderBy('filed_seq')
    .limit(publicRowsMax)
    .execute();
  return rows.map((r) => ({
    objectionId: r.objection_id,
    summary: r.summary,
    channel: r.channel,
    filedOn: r.filed_on,
    outcome: r.outcome,
    resolutionNote: r.resolution_note,
    filedSeq: r.filed_seq,
  }));
}

/**
 * The household behind a line of a notice, so an objection about that line can name it in the
 * command; the public never sees the id. Undefined when the line is not on the notice.
 */
export async function householdOfNoticeLine(
  db: Kysely<Database>,
  partition: string,
  notice: Pick<NoticeSummary, 'noticeId' | 'subjectId'>,
  paymentId: string,
): Promise<string | undefined> {
  assertPartition(partition);
  const row = await db
    .selectFrom('payments')
    .select('household_id')
    .where('partition', '=', partition)
    .where('payment_id', '=', paymentId)
    .where((eb) =>
      eb.or([
        eb('notice_id', '=', notice.noticeId),
        ...(notice.subjectId === null ? [] : [eb('roster_id', '=', notice.subjectId)]),
      ]),
    )
    .executeTakeFirst();
  return row?.household_id;
}
