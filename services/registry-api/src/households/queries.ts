import type { HouseholdState, RegistryState } from './state';

/**
 * Read-side functions over the writer's in-memory state, shaped like repository functions so they
 * can move to PostgreSQL (the projector's `households`/`members` tables) without the routes
 * changing. Every view is masked: clear personal data only leaves through an audited reveal.
 */

export interface MemberView {
  readonly memberNo: number;
  readonly relation: string;
  readonly nameMasked: string;
  readonly idNumberMasked: string;
  readonly birthYear: number;
  readonly sex: 'male' | 'female';
  readonly disability: { readonly category: string; readonly grade: number } | null;
  readonly deceasedOn: string | null;
}

export interface HouseholdView {
  readonly householdId: string;
  readonly villageCode: string;
  readonly causeOfPoverty: string;
  readonly registeredOn: string;
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
  readonly members: MemberView[];
  /** The registry sequence this view reflects (ledger-api records what it decided against). */
  readonly asOfSeq: number;
}

/** Most households one page of a village list returns; the largest villages have a few hundred. */
export const householdsPageMax = 500;

export function householdView(state: RegistryState, householdId: string): HouseholdView | undefined {
  const household = state.households.get(householdId);
  return household === undefined ? undefined : toView(state, household);
}

function toView(state: RegistryState, h: HouseholdState): HouseholdView {
  return {
    householdId: h.householdId,
    villageCode: h.villageCode,
    causeOfPoverty: h.causeOfPoverty,
    registeredOn: h.registeredOn,
    status: h.status,
    exitedOn: h.exitedOn,
    phoneMasked: h.phone?.masked ?? null,
    account:
      h.account === null
        ? null
        : {
            bank: h.account.bank,
            medium: h.account.medium,
            accountMasked: h.account.accountMasked,
            holderMemberNo: h.account.holderMemberNo,
            since: h.account.since,
            householdsSharing: state.accountIndex.get(h.account.accountHash)?.size ?? 1,
          },
    members: h.members.map((m) => ({
      memberNo: m.memberNo,
      relation: m.relation,
      nameMasked: m.nameMasked,
      idNumberMasked: m.idNumberMasked,
      birthYear: m.birthYear,
      sex: m.sex,
      disability: m.disability,
      deceasedOn: m.deceasedOn,
    })),
    asOfSeq: state.lastSeq,
  };
}

export interface Page {
  readonly households: HouseholdView[];
  /** Pass as `after` for the next page; null on the last page. */
  readonly next: string | null;
}

/** Households of a village, ordered by household number, a page at a time. */
export function villageHouseholds(
  state: RegistryState,
  villageCode: string,
  after: string | null,
  limit: number,
): Page {
  const ids = [...(state.villageIndex.get(villageCode) ?? [])].sort();
  return page(state, ids, after, limit);
}

/** Households whose number starts with `prefix` (户编号 are often typed partly). */
export function householdsByNumber(
  state: RegistryState,
  prefix: string,
  after: string | null,
  limit: number,
): Page {
  const ids: string[] = [];
  for (const id of state.households.keys()) if (id.startsWith(prefix)) ids.push(id);
  ids.sort();
  return page(state, ids, after, limit);
}

function page(state: RegistryState, sortedIds: readonly string[], after: string | null, limit: number): Page {
  const start = after === null ? 0 : sortedIds.findIndex((id) => id > after);
  const from = start < 0 ? sortedIds.length : start;
  const slice = sortedIds.slice(from, from + limit);
  const next = from + limit < sortedIds.length ? slice[slice.length - 1]! : null;
  return { households: slice.map((id) => toView(state, state.households.get(id)!)), next };
}

/** The household and member holding an ID number, found through its keyed hash. */
export function householdByIdHash(
  state: RegistryState,
  hash: string,
): { household: HouseholdView; memberNo: number } | undefined {
  const owner = state.idIndex.get(hash);
  if (owner === undefined) return undefined;
  return { household: toView(state, state.households.get(owner.householdId)!), memberNo: owner.memberNo };
}
