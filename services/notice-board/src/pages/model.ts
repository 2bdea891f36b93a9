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
import { type Gazetteer, type RegionLevel, regionLevel, streamName } from '@fundtrace/events';
import {
  encodeBase64,
  type InclusionBundle,
  inclusionBundle,
  proveInclusion,
  toHex,
  verifyInclusion,
} from '@fundtrace/merkle';
import { checkpointAtSize, latestCheckpoint, storedTree } from '@fundtrace/merkle/pg';
import { currentMaskingPolicy, type MaskingPolicy, maskingPolicyV1 } from '@fundtrace/pii';
import type { Kysely } from 'kysely';
import { type NoticePeriod, noticePeriod } from '../notices/period';
import type { Programmes } from '../notices/programmes';
import { countyOf, regionChain, regionParent } from '../regions';

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
  /** Chinese names of the projects' categories (purpose codes), from the reference data. */
  readonly categoryNames: Readonly<Record<string, string>>;
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

/**
 * The board's own proof page of a notice line (`lineNo`) or of the notice's publication (null), at
 * the checkpoint the notice page shows: a readable page for villagers, the evidence bundle for
 * `Accept: application/json` and `fundtrace verify` (decision 0121). Null until a signed
 * checkpoint covers the event (the page says 待签入).
 */
export function proofUrl(
  checkpoint: LogCheckpoint | null,
  seq: bigint,
  partition: string,
  noticeId: string,
  lineNo: number | null,
): string | null {
  if (checkpoint === null || seq < 1n || seq > BigInt(checkpoint.size)) return null;
  return `${proofPath(partition, noticeId, lineNo)}?size=${checkpoint.size}`;
}

/** Where a line's (or the publication's, lineNo null) proof page is; `/api` + this is always JSON. */
export function proofPath(partition: string, noticeId: string, lineNo: number | null): string {
  const notice = `/n/${partition}/${encodeURIComponent(noticeId)}`;
  return lineNo === null ? `${notice}/proof` : `${notice}/lines/${lineNo}/proof`;
}

/** The log-keeper's public answer to the same question, for a reader who does not trust the board. */
export function logKeeperProofUrl(ctx: BoardContext, stream: string, seq: number, size: number): string {
  return `${ctx.logKeeperUrl}/v1/streams/${stream}/proof/inclusion?seq=${seq}&size=${size}`;
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
      categoryNames: {},
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
    categoryNames: Object.fromEntries(
      projects.map((p) => [p.category, ctx.programmes.purposeName(p.category)]),
    ),
  };
}

/**
 * A notice's beneficiary lines as the books hold them: its published list (公示名单), or for a notice
 * published without one the payments made under it.
 */
async function noticeLineRows(ctx: BoardContext, partition: string, notice: NoticeSummary) {
  const listed = await publicListedLines(ctx.db, partition, notice);
  if (listed.length > 0) return { linesFrom: 'published' as const, rows: listed };
  const paid = await publicNoticeLines(ctx.db, partition, notice);
  return {
    linesFrom: 'payments' as const,
    rows: paid.map((l) => ({
      ...l,
      paymentStatus: l.status as NoticeLineView['paymentStatus'],
      objection: null,
    })),
  };
}

/**
 * A line as the public sees it, masked by the policy version the register masked it with (the
 * stricter public form is re-applied, so a policy change never un-hides).
 */
function lineView(
  ctx: BoardContext,
  line: Awaited<ReturnType<typeof noticeLineRows>>['rows'][number],
  proofUrl: string | null,
): NoticeLineView {
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
    proofUrl,
  };
}

/** A notice with its beneficiary lines, masked for the public (lineView). */
export async function noticeModel(
  ctx: BoardContext,
  partition: string,
  noticeId: string,
): Promise<NoticeModel | undefined> {
  if (regionLevel(partition) !== 'county') return undefined;
  const notice = await publicNotice(ctx.db, partition, noticeId);
  if (notice === undefined) return undefined;
  const checkpoint = await checkpointOf(ctx, partition);
  const { linesFrom, rows } = await noticeLineRows(ctx, partition, notice);
  const lines = rows.map((line) =>
    lineView(ctx, line, proofUrl(checkpoint, line.seq, partition, noticeId, line.lineNo)),
  );
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
    linesFrom,
    lines,
    amountTotalFen: sum(lines, (l) => l.amountFen),
    lineCount: lines.length,
    // A list longer than one page holds (noticeLinesMax) is shown in part, and says so.
    listedNotShown: linesFrom === 'published' ? notice.listedCount - lines.length : 0,
    paidCount: paid.length,
    paidTotalFen: sum(paid, (l) => l.amountFen),
    objections: await publicObjections(ctx.db, partition, noticeId),
    checkpoint,
    publishedProofUrl: proofUrl(checkpoint, notice.publishedSeq, partition, noticeId, null),
  };
}

/** What a proof page shows: a line (or the notice's publication) and its proof at a signed checkpoint. */
export interface ProofModel {
  readonly kind: 'proof';
  readonly partition: string;
  readonly chain: readonly Place[];
  readonly notice: NoticeSummary;
  readonly linesFrom: NoticeModel['linesFrom'];
  /** The line proven, masked as on the notice page; null: the notice's publication record. */
  readonly line: NoticeLineView | null;
  readonly stream: string;
  /** The event's position in its stream's log (1-based) and its leaf index (seq − 1). */
  readonly seq: number;
  readonly leafIndex: number;
  readonly treeSize: number;
  readonly leafHashHex: string;
  readonly rootHashHex: string;
  /** The same root as the signed note and `fundtrace verify` print it (base64). */
  readonly rootHashBase64: string;
  readonly proofHex: readonly string[];
  readonly signedAt: string;
  readonly checkpointUrl: string;
  readonly verifierKeyUrl: string;
  readonly logKeeperProofUrl: string;
  /** The evidence bundle `fundtrace verify` checks: the signed checkpoint, leaf hash and proof. */
  readonly bundle: InclusionBundle;
}

export type ProofOutcome =
  | { readonly kind: 'proof'; readonly model: ProofModel }
  /** No such notice, line, or signed checkpoint of that size: `what` names it for the reader. */
  | { readonly kind: 'not_found'; readonly what: string }
  /** The event is newer than the checkpoint (or none is signed yet): 待签入. */
  | { readonly kind: 'not_signed'; readonly chain: readonly Place[] };

/**
 * The inclusion proof of a notice line's event (its NoticeLinesPublished part, or for an older
 * notice its payment) or of the notice's publication, at the signed checkpoint of `size` (default:
 * the latest). The board checks the proof against the signed root before showing it, and shows
 * only what the notice page shows (masked name, village, amount) plus hashes: the event itself
 * carries household ids and is not published (the JSON bundle carries its leaf hash, not its bytes).
 */
export async function proofModel(
  ctx: BoardContext,
  partition: string,
  noticeId: string,
  lineNo: number | null,
  size: number | undefined,
): Promise<ProofOutcome> {
  // Only the line proven is masked and shown: the notice's other lines, totals and objections are
  // the notice page's, not the proof's.
  if (regionLevel(partition) !== 'county') return { kind: 'not_found', what: '这份公示' };
  const notice = await publicNotice(ctx.db, partition, noticeId);
  if (notice === undefined) return { kind: 'not_found', what: '这份公示' };
  const { linesFrom, rows } = await noticeLineRows(ctx, partition, notice);
  const row = lineNo === null ? null : rows.find((l) => l.lineNo === lineNo);
  if (row === undefined) return { kind: 'not_found', what: `这份公示的第 ${lineNo} 行` };
  const seq = Number(row === null ? notice.publishedSeq : row.seq);
  const chain = chainOf(ctx, partition);
  const stream = streamName('ledger', partition);
  const key = streamName('ledger', partition, ctx.ns);
  const checkpoint =
    size === undefined
      ? await latestCheckpoint(ctx.logDb, key)
      : await checkpointAtSize(ctx.logDb, key, size);
  if (checkpoint === undefined) {
    return size === undefined
      ? { kind: 'not_signed', chain }
      : { kind: 'not_found', what: `日志 ${stream} 大小为 ${size} 的签名检查点` };
  }
  if (seq < 1 || seq > checkpoint.size) return { kind: 'not_signed', chain };
  const proven = await proveInclusion(await storedTree(ctx.logDb, key), seq - 1, checkpoint.size);
  // The checkpoint covers the event, so the tree holds both: a refusal here is a broken log.
  if (!proven.ok)
    throw new Error(`${stream}: no inclusion proof of ${seq} at ${checkpoint.size}: ${proven.message}`);
  const p = proven.value;
  const checked = verifyInclusion({
    leafIndex: p.leafIndex,
    treeSize: checkpoint.size,
    leafHash: p.leafHash,
    proof: p.proof,
    rootHash: checkpoint.rootHash,
  });
  if (!checked.ok) {
    throw new Error(`${stream}: the proof of ${seq} does not reach the signed root at ${checkpoint.size}`);
  }
  return {
    kind: 'proof',
    model: {
      kind: 'proof',
      partition,
      chain,
      notice,
      linesFrom,
      line:
        row === null
          ? null
          : lineView(ctx, row, `${proofPath(partition, noticeId, row.lineNo)}?size=${checkpoint.size}`),
      stream,
      seq,
      leafIndex: p.leafIndex,
      treeSize: checkpoint.size,
      leafHashHex: toHex(p.leafHash),
      rootHashHex: toHex(checkpoint.rootHash),
      rootHashBase64: encodeBase64(checkpoint.rootHash),
      proofHex: p.proof.map(toHex),
      signedAt: checkpoint.signedAt.toISOString(),
      checkpointUrl: `${ctx.logKeeperUrl}/v1/streams/${stream}/checkpoints/${checkpoint.size}`,
      verifierKeyUrl: `${ctx.logKeeperUrl}/v1/verifier-key`,
      logKeeperProofUrl: logKeeperProofUrl(ctx, stream, seq, checkpoint.size),
      bundle: inclusionBundle({
        checkpoint: checkpoint.note,
        leafIndex: p.leafIndex,
        proof: p.proof,
        leafHash: p.leafHash,
      }),
    },
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
