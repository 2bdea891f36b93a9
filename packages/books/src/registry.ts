import type { Database } from '@fundtrace/db';
import type { Kysely, Transaction } from 'kysely';

/**
 * Registry queries over the projector's `households` and `members` tables: the household with its
 * members, the households of a village, search by household number or by the keyed hash of an ID
 * number. Every reader (registry-api, and whoever else shows households) uses these, so answers
 * scale with the database and survive restarts; the registry writer's memory is for deciding only.
 * Personal data is masked in these tables already (decision 0040); nothing here can reveal it.
 *
 * Every answer carries `asOfSeq`: the registry stream's sequence the books had projected when the
 * rows were read (one repeatable-read transaction, so rows and sequence agree). A client that just
 * wrote passes the sequence the write returned and waits for it (`waitForRegistrySeq`).
 */

/** Most households one page returns; the largest villages have a few hundred. */
export const registryPageMax = 500;

export interface RegistryMember {
  readonly memberNo: number;
  readonly relation: string;
  readonly nameMasked: string;
  readonly idNumberMasked: string;
  readonly birthYear: number;
  readonly sex: 'male' | 'female';
  readonly disability: { readonly category: string; readonly grade: number } | null;
  readonly deceasedOn: string | null;
}

export interface RegistryHousehold {
  readonly householdId: string;
  readonly villageCode: string;
  readonly causeOfPoverty: string;
  readonly registeredOn: string;
  /** `enrolled` (the books say `registered`), `lifted` (脱贫) or `removed` (销号). */
  readonly status: 'enrolled' | 'lifted' | 'removed';
  readonly exitedOn: string | null;
  readonly phoneMasked: string | null;
  readonly account: {
    readonly bank: string;
    readonly medium: 'card' | 'passbook';
    readonly accountMasked: string;
    readonly holderMemberNo: number;
    readonly since: string;
    /** How many households of the county are paid into the same account (1 = only this one). */
    readonly householdsSharing: number;
  } | null;
  readonly members: RegistryMember[];
  /** The registry stream sequence the books had projected when this was read. */
  readonly asOfSeq: number;
}

export interface RegistryPage {
  readonly households: RegistryHousehold[];
  /** Pass as `after` for the next page; null on the last page. */
  readonly next: string | null;
  readonly asOfSeq: number;
}

type Reader = Kysely<Database> | Transaction<Database>;

/** How far the books have projected a registry stream (its JetStream name, namespace included); 0 before anything. */
export async function registryProjectedSeq(db: Reader, stream: string): Promise<number> {
  const row = await db
    .selectFrom('projection_checkpoints')
    .select((eb) => eb.fn.max('last_seq').as('last_seq'))
    .where('stream', '=', stream)
    .executeTakeFirst();
  return row?.last_seq === null || row?.last_seq === undefined ? 0 : Number(row.last_seq);
}

/**
 * Waits until the books have projected `stream` up to `seq` (read-your-writes), polling every
 * `pollMs`, at most `timeoutMs`. Answers the projected sequence: at least `seq`, or lower on timeout.
 */
export async function waitForRegistrySeq(
  db: Reader,
  stream: string,
  seq: number,
  options: { readonly timeoutMs: number; readonly pollMs: number },
): Promise<number> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const projected = await registryProjectedSeq(db, stream);
    if (projected >= seq || Date.now() >= deadline) return projected;
    await new Promise((resolve) => setTimeout(resolve, Math.min(options.pollMs, deadline - Date.now())));
  }
}

/** One household with its members, or undefined when the books do not have it. */
export async function registryHousehold(
  db: Kysely<Database>,
  partition: string,
  stream: string,
  householdId: string,
): Promise<RegistryHousehold | undefined> {
  return consistent(db, async (trx) => {
    const asOfSeq = await registryProjectedSeq(trx, stream);
    const rows = await households(trx, partition, [householdId]);
    return (await withMembers(trx, partition, rows, asOfSeq))[0];
  });
}

/** Households of a village, ordered by household number, a page at a time. */
export function registryVillageHouseholds(
  db: Kysely<Database>,
  partition: string,
  stream: string,
  villageCode: string,
  page: { readonly after: string | null; readonly limit: number },
): Promise<RegistryPage> {
  return pageOf(db, partition, stream, page, (q) => q.where('village_code', '=', villageCode));
}

/** Households whose number starts with `prefix` (户编号 are often typed partly). */
export function registryHouseholdsByNumber(
  db: Kysely<Database>,
  partition: string,
  stream: string,
  prefix: string,
  page: { readonly after: string | null; readonly limit: number },
): Promise<RegistryPage> {
  // `like` with the prefix escaped: a household number may hold `_`, which is a wildcard there.
  const pattern = `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return pageOf(db, partition, stream, page, (q) => q.where('household_id', 'like', pattern));
}

/** The household and member holding an ID number, found through its keyed hash. */
export async function registryHouseholdByIdHash(
  db: Kysely<Database>,
  partition: string,
  stream: string,
  idNumberHash: string,
): Promise<{ household: RegistryHousehold; memberNo: number } | undefined> {
  return consistent(db, async (trx) => {
    const asOfSeq = await registryProjectedSeq(trx, stream);
    const holder = await trx
      .selectFrom('members')
      .select(['household_id', 'member_no'])
      .where('partition', '=', partition)
      .where('id_number_hash', '=', idNumberHash)
      .orderBy('household_id')
      .executeTakeFirst();
    if (holder === undefined) return undefined;
    const rows = await households(trx, partition, [holder.household_id]);
    const [household] = await withMembers(trx, partition, rows, asOfSeq);
    return household === undefined ? undefined : { household, memberNo: holder.member_no };
  });
}

/** Rows and checkpoint from one snapshot, so `asOfSeq` describes exactly the rows returned. */
function consistent<T>(db: Kysely<Database>, work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  return db.transaction().setIsolationLevel('repeatable read').setAccessMode('read only').execute(work);
}

type HouseholdQuery = ReturnType<typeof householdsQuery>;

function householdsQuery(trx: Transaction<Database>, partition: string) {
  return trx
    .selectFrom('households as h')
    .selectAll('h')
    .select((eb) =>
      eb
        .selectFrom('households as s')
        .select(eb.fn.countAll<string>().as('n'))
        .whereRef('s.account_hash', '=', 'h.account_hash')
        .where('s.partition', '=', partition)
        .as('households_sharing'),
    )
    .where('h.partition', '=', partition);
}

function households(trx: Transaction<Database>, partition: string, ids: readonly string[]) {
  return householdsQuery(trx, partition).where('h.household_id', 'in', ids).execute();
}

async function pageOf(
  db: Kysely<Database>,
  partition: string,
  stream: string,
  page: { readonly after: string | null; readonly limit: number },
  filter: (query: HouseholdQuery) => HouseholdQuery,
): Promise<RegistryPage> {
  if (!Number.isInteger(page.limit) || page.limit < 1 || page.limit > registryPageMax) {
    throw new RangeError(`limit must be 1–${registryPageMax}, got ${page.limit}`);
  }
  return consistent(db, async (trx) => {
    const asOfSeq = await registryProjectedSeq(trx, stream);
    let query = filter(householdsQuery(trx, partition));
    if (page.after !== null) query = query.where('h.household_id', '>', page.after);
    // One more than asked tells whether there is a next page without counting.
    const rows = await query
      .orderBy('h.household_id')
      .limit(page.limit + 1)
      .execute();
    const more = rows.length > page.limit;
    const shown = rows.slice(0, page.limit);
    return {
      households: await withMembers(trx, partition, shown, asOfSeq),
      next: more ? shown[shown.length - 1]!.household_id : null,
      asOfSeq,
    };
  });
}

type HouseholdRow = Awaited<ReturnType<typeof households>>[number];

async function withMembers(
  trx: Transaction<Database>,
  partition: string,
  rows: readonly HouseholdRow[],
  asOfSeq: number,
): Promise<RegistryHousehold[]> {
  if (rows.length === 0) return [];
  const members = await trx
    .selectFrom('members')
    .selectAll()
    .where('partition', '=', partition)
    .where(
      'household_id',
      'in',
      rows.map((r) => r.household_id),
    )
    .orderBy('household_id')
    .orderBy('member_no')
    .execute();
  const byHousehold = new Map<string, RegistryMember[]>();
  for (const m of members) {
    const list = byHousehold.get(m.household_id) ?? [];
    list.push({
      memberNo: m.member_no,
      relation: m.relation,
      nameMasked: m.name_masked,
      idNumberMasked: m.id_number_masked,
      birthYear: m.birth_year,
      sex: m.sex as 'male' | 'female',
      disability:
        m.disability_category === null
          ? null
          : { category: m.disability_category, grade: m.disability_grade ?? 0 },
      deceasedOn: m.died_on,
    });
    byHousehold.set(m.household_id, list);
  }
  return rows.map((h) => ({
    householdId: h.household_id,
    villageCode: h.village_code,
    causeOfPoverty: h.cause_of_poverty,
    registeredOn: h.registered_on,
    status: h.status === 'registered' ? 'enrolled' : h.status,
    exitedOn: h.exited_on,
    phoneMasked: h.phone_masked,
    account:
      h.account_hash === null
        ? null
        : {
            bank: h.account_bank!,
            medium: h.account_medium as 'card' | 'passbook',
            accountMasked: h.account_masked!,
            holderMemberNo: h.account_holder_member_no!,
            since: h.account_bound_on!,
            householdsSharing: Number(h.households_sharing ?? 1),
          },
    members: byHousehold.get(h.household_id) ?? [],
    asOfSeq,
  }));
}
