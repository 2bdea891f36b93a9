import {
  type AllocationIssuedLine,
  type AllocationReceivedLine,
  type ListedLine,
  type NoticeSummary,
  type ObjectionLine,
  type ProjectLine,
  partitionsWithBooks,
  publicAllocations,
  publicListedLines,
  publicNotice,
  publicNoticeLines,
  publicNotices,
  publicObjections,
  publicPaymentsByVillage,
  publicProjects,
  type VillagePayments,
  villagesWithBooks,
} from '@fundtrace/books';
import type { Database } from '@fundtrace/db';
import { streamName } from '@fundtrace/events';
import { toHex } from '@fundtrace/merkle';
import { latestCheckpoint } from '@fundtrace/merkle/pg';
import { currentMaskingPolicy, type MaskingPolicy, maskingPolicyV1 } from '@fundtrace/pii';
import type { Kysely } from 'kysely';
import { type NoticePeriod, noticePeriod } from '../notices/period';
import type { Programmes } from '../notices/programmes';
import {
  countyOf,
  type Gazetteer,
  type RegionLevel,
  regionChain,
  regionLevel,
  regionParent,
} from '../regions';

/**
 * The data of each page, loaded from the books and summed here, once: the HTML, the JSON API and
 * the Atom feeds render the same model, so a total can never differ between formats, and every
 * total is the sum of the lines shown beside it.
 */

export interface BoardContext {
  /** Read models (the active blue/green schema). */
  readonly db: Kysely<Database>;
  /** The log-keeper's merkle tables. */
  readonly logDb: Kysely<Database>;
  /** Stream namespace ('' in production); the tree key is the namespaced stream name. */
  readonly ns: string;
  readonly programmes: Programmes;
  readonly places: Gazetteer;
  /** Public base URL of the log-keeper (proofs, checkpoints). */
  readonly logKeeperUrl: string;
  /** Today in Beijing, YYYY-MM-DD. */
  readonly today: () => string;
}

/** Masking policies by version; a notice is masked with the policy its registry data was masked with. */
const policies: ReadonlyMap<number, MaskingPolicy> = new Map([[maskingPolicyV1.version, maskingPolicyV1]]);

export interface LogCheckpoint {
  /** Logical stream, e.g. LEDGER_411325. */
  readonly stream: string;
  readonly size: number;
  readonly rootHashHex: string;
  readonly signedAt: string;
  /** The signed note at the log-keeper (public). */
  readonly checkpointUrl: string;
}

export interface Place {
  readonly code: string;
  readonly name: string;
  readonly level: RegionLevel;
}

export interface AllocationsModel {
  readonly received: readonly AllocationReceivedLine[];
  readonly issued: readonly AllocationIssuedLine[];
  readonly receivedTotalFen: bigint;
  readonly issuedTotalFen: bigint;
  readonly issuedReceivedTotalFen: bigint;
  readonly inTransitTotalFen: bigint;
  /** Names of the partitions the lines come from or go to (来自, 下达至), from the gazetteer. */
  readonly partitionNames: Readonly<Record<string, string>>;
}

export interface ProjectsModel {
  readonly lines: readonly ProjectLine[];
  readonly budgetTotalFen: bigint;
  readonly earmarkedTotalFen: bigint;
  readonly disbursedTotalFen: bigint;
}

export interface AreaProgress {
  readonly place: Place;
  readonly budgetFen: bigint;
  readonly earmarkedFen: bigint;
  readonly disbursedFen: bigint;
  readonly paidFen: bigint;
  readonly pendingFen: bigint;
  readonly households: number;
}

export interface PaymentsModel {
  readonly villages: readonly VillagePayments[];
  readonly paidTotalFen: bigint;
  readonly pendingTotalFen: bigint;
  readonly householdsTotal: number;
}

export interface RegionModel {
  readonly kind: 'region';
  readonly place: Place;
  readonly chain: readonly Place[];
  readonly partition: string;
  readonly checkpoint: LogCheckpoint | null;
  /** Partitions below (province/city/central) with books of their own. */
  readonly children: readonly Place[];
  /** At partition levels: allocation results. Townships and villages have none of their own. */
  readonly allocations: AllocationsModel | null;
  /** County, township, village: projects in the area. */
  readonly projects: ProjectsModel | null;
  /** County, township, village: household payments per village. */
  readonly payments: PaymentsModel | null;
  /** County → townships, township → villages: spending progress per area. */
  readonly progress: readonly AreaProgress[];
  readonly notices: readonly NoticeSummary[];
  /** Names of the villages the lines mention, from the gazetteer (code → name). */
  readonly villageNames: Readonly<Record<string, string>>;
}

/**
 * One line of a notice as the board shows it, from the published list or (older notices) the
 * payments; `seq` is the line's NoticeLinesPublished, or the payment for an older notice.
 */
export interface NoticeLineView extends Omit<ListedLine, 'headNameMasked' | 'memberNos'> {
  readonly villageName: string;
  /** The head of household's name, masked by the public form of its policy version (张*三). */
  readonly name: string;
  /** Inclusion proof of the line's event at the checkpoint shown, when it is covered. */
  readonly proofUrl: string | null;
}

export interface NoticeModel {
  readonly kind: 'notice';
  readonly partition: string;
  readonly chain: readonly Place[];
  readonly notice: NoticeSummary;
  readonly programmeName: string | null;
  readonly period: NoticePeriod;
  readonly today: string;
  readonly maskingVersion: number;
  /**
   * Where the lines come from: 'published', the list published with the notice before anyone was
   * paid (公示名单); 'payments', the payments made under a notice that published no list (notices
   * recorded before lists existed).
   */
  readonly linesFrom: 'published' | 'payments';
  readonly lines: readonly NoticeLineView[];
  readonly amountTotalFen: bigint;
  /** Lines on the notice: one household each. */
  readonly lineCount: number;
  /** Published lines beyond what one page shows (0 unless the list exceeds the page limit). */
  readonly listedNotShown: number;
  /** Lines already paid (settled), and their sum. */
  readonly paidCount: number;
  readonly paidTotalFen: bigint;
  readonly objections: readonly ObjectionLine[];
  readonly checkpoint: LogCheckpoint | null;
  readonly publishedProofUrl: string | null;
}

export function placeOf(ctx: BoardContext, code: string): Place {
  const level = regionLevel(code);
  if (level === undefined) throw new RangeError(`not a region code: ${code}`);
  return { code, name: ctx.places.name(code), level };
}

export function chainOf(ctx: BoardContext, code: string): Place[] {
  return regionChain(code).map((c) => placeOf(ctx, c));
}

const sum = <T>(rows: readonly T[], f: (row: T) => bigint): bigint => rows.reduce((a, r) => a + f(r), 0n);

async function checkpointOf(ctx: BoardContext, partition: string): Promise<LogCheckpoint | null> {
  const stream = streamName('ledger', partition);
  const key = streamName('ledger', partition, ctx.ns);
  const stored = await latestCheckpoint(ctx.logDb, key);
  if (stored === undefined) return null;
  return {
    stream,
    size: stored.size,
    rootHashHex: toHex(stored.rootHash),
    signedAt: stored.signedAt.toISOString(),
    checkpointUrl: `${ctx.logKeeperUrl}/v1/streams/${stream}/checkpoints/${stored.size}`,
  };
}

export function proofUrl(ctx: BoardContext, checkpoint: LogCheckpoint | null, seq: bigint): string | null {
  if (checkpoint === null || seq < 1n || seq > BigInt(checkpoint.size)) return null;
  return `${ctx.logKeeperUrl}/v1/streams/${checkpoint.stream}/proof/inclusion?seq=${seq}&size=${checkpoint.size}`;
}

async function allocationsOf(ctx: BoardContext, partition: string): Promise<AllocationsModel> {
  const { received, issued } = await publicAllocations(ctx.db, partition);
  return {
    received,
    issued,
    receivedTotalFen: sum(
      received.filter((r) => !r.reversed),
      (r) => r.amountFen,
    ),
    issuedTotalFen: sum(issued, (r) => r.issuedFen),
    issuedReceivedTotalFen: sum(issued, (r) => r.receivedFen),
    inTransitTotalFen: sum(issued, (r) => r.inTransitFen),
    partitionNames: Object.fromEntries(
      [...received.map((r) => r.fromPartition), ...issued.map((r) => r.toPartition)]
        .filter((code): code is string => code !== null)
        .map((code) => [code, ctx.places.name(code)]),
    ),
  };
}

function projectsModel(lines: readonly ProjectLine[]): ProjectsModel {
  return {
    lines,
    budgetTotalFen: sum(lines, (l) => l.budgetFen),
    earmarkedTotalFen: sum(lines, (l) => l.earmarkedFen),
    disbursedTotalFen: sum(lines, (l) => l.disbursedFen),
  };
}

function paymentsModel(villages: readonly VillagePayments[]): PaymentsModel {
  return {
    villages,
    paidTotalFen: sum(villages, (v) => v.paidFen),
    pendingTotalFen: sum(villages, (v) => v.pendingFen),
    householdsTotal: villages.reduce((a, v) => a + v.households, 0),
  };
}

/** Progress per township (county page) or per village (township page), from the lines already loaded. */
function progressOf(
  ctx: BoardContext,
  areas: readonly string[],
  width: 9 | 12,
  projects: readonly ProjectLine[],
  payments: readonly VillagePayments[],
): AreaProgress[] {
  const byArea = new Map<string, AreaProgress>();
  const get = (code: string): AreaProgress => {
    let area = byArea.get(code);
    if (area === undefined) {
      area = {
        place: placeOf(ctx, code),
        budgetFen: 0n,
        earmarkedFen: 0n,
        disbursedFen: 0n,
        paidFen: 0n,
        pendingFen: 0n,
        households: 0,
      };
      byArea.set(code, area);
    }
    return area;
  };
  for (const code of areas) get(code.slice(0, width));
  for (const p of projects) {
    const a = get(p.villageCode.slice(0, width));
    byArea.set(a.place.code, {
      ...a,
      budgetFen: a.budgetFen + p.budgetFen,
      earmarkedFen: a.earmarkedFen + p.earmarkedFen,
      disbursedFen: a.disbursedFen + p.disbursedFen,
    });
  }
  for (const v of payments) {
    const a = get(v.villageCode.slice(0, width));
    byArea.set(a.place.code, {
      ...a,
      paidFen: a.paidFen + v.paidFen,
      pendingFen: a.pendingFen + v.pendingFen,
      households: a.households + v.households,
    });
  }
  return [...byArea.values()].sort((a, b) => a.place.code.localeCompare(b.place.code));
}

/** The page of any region: central, province, city, county, township or village. */
export async function regionModel(ctx: BoardContext, code: string): Promise<RegionModel | undefined> {
  const level = regionLevel(code);
  if (level === undefined) return undefined;
  const chain = chainOf(ctx, code);
  const place = chain[chain.length - 1]!;
  const partitionLevel =
    level === 'central' || level === 'province' || level === 'city' || level === 'county';
  const partition = partitionLevel ? code : countyOf(code);
  const known = await partitionsWithBooks(ctx.db);
  if (level === 'central' || level === 'province' || level === 'city') {
    const hasBooks = known.includes(code);
    const children = known.filter((p) => p !== code && regionParent(p) === code).map((p) => placeOf(ctx, p));
    if (!hasBooks && children.length === 0) return undefined;
    return {
      kind: 'region',
      place,
      chain,
      partition,
      checkpoint: hasBooks ? await checkpointOf(ctx, partition) : null,
      children,
      allocations: hasBooks ? await allocationsOf(ctx, partition) : null,
      projects: null,
      payments: null,
      progress: [],
      notices: [],
      villageNames: {},
    };
  }
  if (!known.includes(partition)) return undefined;
  const villages = await villagesWithBooks(ctx.db, partition);
  const inArea = villages.filter((v) => v.startsWith(code));
  if (level !== 'county' && inArea.length === 0) return undefined;
  const projects = await publicProjects(ctx.db, partition, code);
  const payments = await publicPaymentsByVillage(ctx.db, partition, code);
  const progress =
    level === 'county'
      ? progressOf(ctx, inArea, 9, projects, payments)
      : level === 'township'
        ? progressOf(ctx, inArea, 12, projects, payments)
        : [];
  return {
    kind: 'region',
    place,
    chain,
    partition,
    checkpoint: await checkpointOf(ctx, partition),
    children: [],
    allocations: level === 'county' ? await allocationsOf(ctx, partition) : null,
    projects: projectsModel(projects),
    payments: paymentsModel(payments),
    progress,
    notices: await publicNotices(ctx.db, partition, code),
    villageNames: Object.fromEntries(
      [...projects.map((p) => p.villageCode), ...payments.map((p) => p.villageCode)].map((v) => [
        v,
        ctx.places.name(v),
      ]),
    ),
  };
}

/**
 * A notice with its beneficiary lines, masked for the public by the policy version the register
 * masked them with (the stricter public form is re-applied, so a policy change never un-hides).
 */
export async function noticeModel(
  ctx: BoardContext,
  partition: string,
  noticeId: string,
): Promise<NoticeModel | undefined> {
  if (regionLevel(partition) !== 'county') return undefined;
  const notice = await publicNotice(ctx.db, partition, noticeId);
  if (notice === undefined) return undefined;
  const checkpoint = await checkpointOf(ctx, partition);
  const listed = await publicListedLines(ctx.db, partition, notice);
  const raw =
    listed.length > 0
      ? listed
      : (await publicNoticeLines(ctx.db, partition, notice)).map((l) => ({
          ...l,
          paymentStatus: l.status as NoticeLineView['paymentStatus'],
          objection: null,
        }));
  const lines = raw.map((line): NoticeLineView => {
    const policy = policies.get(line.maskingVersion);
    // A version this board does not know cannot be trusted to be masked: stop rather than publish.
    if (policy === undefined) throw new Error(`unknown masking policy version ${line.maskingVersion}`);
    return {
      lineNo: line.lineNo,
      villageCode: line.villageCode,
      villageName: ctx.places.name(line.villageCode),
      name: policy.name(line.headNameMasked),
      maskingVersion: line.maskingVersion,
      memberCount: line.memberCount,
      quantity: line.quantity,
      amountFen: line.amountFen,
      paymentId: line.paymentId,
      paymentStatus: line.paymentStatus,
      objection: line.objection,
      seq: line.seq,
      proofUrl: proofUrl(ctx, checkpoint, line.seq),
    };
  });
  const paid = lines.filter((l) => l.paymentStatus === 'settled');
  const versions = new Set(lines.map((l) => l.maskingVersion));
  const today = ctx.today();
  return {
    kind: 'notice',
    partition,
    chain: chainOf(ctx, partition),
    notice,
    programmeName: notice.programmeCode === null ? null : ctx.programmes.name(notice.programmeCode),
    period: noticePeriod({
      startsOn: notice.startsOn,
      endsOn: notice.endsOn,
      closed: notice.status === 'closed',
      today,
      minDays: ctx.programmes.minDays(notice.programmeCode),
    }),
    today,
    maskingVersion: versions.size === 0 ? currentMaskingPolicy.version : Math.max(...versions),
    linesFrom: listed.length > 0 ? 'published' : 'payments',
    lines,
    amountTotalFen: sum(lines, (l) => l.amountFen),
    lineCount: lines.length,
    // A list longer than one page holds (noticeLinesMax) is shown in part, and says so.
    listedNotShown: listed.length > 0 ? notice.listedCount - lines.length : 0,
    paidCount: paid.length,
    paidTotalFen: sum(paid, (l) => l.amountFen),
    objections: await publicObjections(ctx.db, partition, noticeId),
    checkpoint,
    publishedProofUrl: proofUrl(ctx, checkpoint, notice.publishedSeq),
  };
}

/**
 * The version of everything a page shows: the projected position of every stream and the newest
 * signed checkpoint of every tree. Pages are cached per version (see ../cache).
 */
export async function booksVersion(
  ctx: Pick<BoardContext, 'db' | 'logDb'>,
  projected: () => Promise<string>,
): Promise<string> {
  const signed = await ctx.logDb
    .selectFrom('merkle_checkpoints')
    .select(['stream', (eb) => eb.fn.max('size').as('size')])
    .groupBy('stream')
    .orderBy('stream')
    .execute();
  return `${await projected()}|${signed.map((s) => `${s.stream}@${s.size}`).join(',')}`;
}

/** The levels with books at the top of the navigation: central and the provinces. */
export async function topPlaces(ctx: BoardContext): Promise<Place[]> {
  const known = await partitionsWithBooks(ctx.db);
  const tops = new Set<string>();
  for (const code of known) {
    const chain = regionChain(code);
    // central (000000) when it has books, and every province with books at or below it.
    if (chain[0] === code) tops.add(code);
    else tops.add(chain.find((c) => c !== '000000') ?? code);
  }
  return [...tops].sort().map((c) => placeOf(ctx, c));
}
