import type { registry } from '@fundtrace/events';
import type { RegistryEventDraft } from './decide';
import {
  type AccountState,
  emptyRegistryState,
  type HouseholdState,
  type MemberState,
  type RegistryState,
} from './state';

/**
 * `evolveHousehold(household, event, seq, commandId)` is the pure fold of one household: it returns
 * a new household state and never touches the old one. `applyEvent` folds a stored event into the
 * county's state, keeping its indexes (ID hash, account hash, village, command ids) in step; it
 * mutates those maps in place because the county state is owned by the single writer and rebuilding
 * 100,000 households must stay linear.
 */

export interface StoredRegistryEvent {
  readonly seq: number;
  readonly commandId: string;
  readonly event: RegistryEventDraft;
}

export function evolveHousehold(
  household: HouseholdState | undefined,
  event: RegistryEventDraft,
  seq: number,
  commandId: string,
): HouseholdState {
  if (event.type === 'HouseholdRegistered') {
    if (household !== undefined) {
      throw new Error(`invariant: ${event.data.householdId} registered twice (sequence ${seq})`);
    }
    const d = event.data;
    return {
      householdId: d.householdId,
      villageCode: d.villageCode,
      causeOfPoverty: d.causeOfPoverty,
      registeredOn: d.registeredOn,
      status: 'enrolled',
      exitedOn: null,
      members: d.members.map((m) => memberState(m, seq)),
      phone: d.phoneHash === null ? null : { hash: d.phoneHash, masked: d.phoneMasked!, seq },
      account: null,
      keyId: d.members[0]!.nameEnc.keyId,
      erasedOn: null,
      registeredBy: commandId,
      registeredSeq: seq,
      lastSeq: seq,
    };
  }
  if (household === undefined) {
    throw new Error(
      `invariant: ${event.type} for unregistered household ${event.data.householdId} (sequence ${seq})`,
    );
  }
  const next = (changes: Partial<HouseholdState>): HouseholdState => ({
    ...household,
    ...changes,
    lastSeq: seq,
  });
  switch (event.type) {
    case 'MemberAdded':
      return next({ members: [...household.members, memberState(event.data.member, seq)] });
    case 'MemberDeceased':
      return next({
        members: household.members.map((m) =>
          m.memberNo === event.data.memberNo ? { ...m, deceasedOn: event.data.diedOn } : m,
        ),
      });
    case 'HouseholdMoved':
      return next({ villageCode: event.data.toVillageCode });
    case 'AccountBound':
      return next({ account: accountState(event.data, event.data.boundOn, seq) });
    case 'AccountChanged':
      return next({ account: accountState(event.data, event.data.changedOn, seq) });
    case 'HouseholdExited':
      return next({
        status: event.data.kind === 'lifted' ? 'lifted' : 'removed',
        exitedOn: event.data.exitedOn,
      });
    case 'HouseholdReentered':
      return next({ status: 'enrolled', exitedOn: null, causeOfPoverty: event.data.causeOfPoverty });
    case 'PersonalDataRevealed':
      return next({});
    case 'HouseholdPersonalDataErased':
      return next({ erasedOn: event.data.erasedOn });
  }
}

function memberState(m: registry.MemberData, seq: number): MemberState {
  return {
    memberNo: m.memberNo,
    relation: m.relation,
    nameMasked: m.nameMasked,
    idNumberHash: m.idNumberHash,
    idNumberMasked: m.idNumberMasked,
    birthYear: m.birthYear,
    sex: m.sex,
    disability: m.disability,
    deceasedOn: null,
    seq,
  };
}

function accountState(
  d: {
    bank: string;
    medium: 'card' | 'passbook';
    accountHash: string;
    accountMasked: string;
    holderMemberNo: number;
  },
  since: string,
  seq: number,
): AccountState {
  return {
    bank: d.bank,
    medium: d.medium,
    accountHash: d.accountHash,
    accountMasked: d.accountMasked,
    holderMemberNo: d.holderMemberNo,
    since,
    seq,
  };
}

/** Folds one stored event into the county state; sequences must arrive in order, without gaps. */
export function applyEvent(state: RegistryState, stored: StoredRegistryEvent): void {
  if (stored.seq <= state.lastSeq) {
    throw new Error(
      `invariant: sequence ${stored.seq} after ${state.lastSeq} in REGISTRY_${state.partition}`,
    );
  }
  const { event } = stored;
  const id = event.data.householdId;
  const before = state.households.get(id);
  const after = evolveHousehold(before, event, stored.seq, stored.commandId);
  state.households.set(id, after);

  // Indexes.
  const addTo = (map: Map<string, Set<string>>, key: string) => {
    const set = map.get(key);
    if (set === undefined) map.set(key, new Set([id]));
    else set.add(id);
  };
  const removeFrom = (map: Map<string, Set<string>>, key: string) => {
    const set = map.get(key);
    set?.delete(id);
    if (set?.size === 0) map.delete(key);
  };
  if (event.type === 'HouseholdRegistered') {
    addTo(state.villageIndex, after.villageCode);
    for (const m of event.data.members)
      state.idIndex.set(m.idNumberHash, { householdId: id, memberNo: m.memberNo });
  } else if (event.type === 'MemberAdded') {
    state.idIndex.set(event.data.member.idNumberHash, {
      householdId: id,
      memberNo: event.data.member.memberNo,
    });
  } else if (event.type === 'HouseholdMoved') {
    removeFrom(state.villageIndex, event.data.fromVillageCode);
    addTo(state.villageIndex, event.data.toVillageCode);
  } else if (event.type === 'AccountBound' || event.type === 'AccountChanged') {
    if (before?.account) removeFrom(state.accountIndex, before.account.accountHash);
    addTo(state.accountIndex, event.data.accountHash);
  }

  // Idempotency record: every event of a command carries its digest.
  const record = state.commands.get(stored.commandId);
  if (record === undefined) {
    state.commands.set(stored.commandId, {
      digest: event.data.commandDigest,
      firstSeq: stored.seq,
      lastSeq: stored.seq,
      events: 1,
    });
  } else {
    if (record.digest !== event.data.commandDigest) {
      throw new Error(
        `invariant: command ${stored.commandId} has events with two digests (sequence ${stored.seq})`,
      );
    }
    state.commands.set(stored.commandId, { ...record, lastSeq: stored.seq, events: record.events + 1 });
  }
  state.lastSeq = stored.seq;
}

/** A county state folded from events (tests, and the writer's rebuild). */
export function foldEvents(partition: string, events: Iterable<StoredRegistryEvent>): RegistryState {
  const state = emptyRegistryState(partition);
  for (const stored of events) applyEvent(state, stored);
  return state;
}
