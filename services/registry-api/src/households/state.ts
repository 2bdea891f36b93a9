import type { registry } from '@fundtrace/events';

/**
 * The registry writer's state for one county, rebuilt from REGISTRY_<code>. It holds hashes and masks
 * only: clear personal data is never kept in memory; a reveal reads the events it needs back from the
 * stream and decrypts them there and then.
 */

export interface MemberState {
  readonly memberNo: number;
  readonly relation: registry.Relation;
  readonly nameMasked: string;
  readonly idNumberHash: string;
  readonly idNumberMasked: string;
  readonly birthYear: number;
  readonly sex: 'male' | 'female';
  readonly disability: { readonly category: registry.DisabilityCategory; readonly grade: number } | null;
  readonly deceasedOn: string | null;
  /** Stream sequence of the event that holds this member's encrypted fields. */
  readonly seq: number;
}

export interface AccountState {
  readonly bank: string;
  readonly medium: 'card' | 'passbook';
  readonly accountHash: string;
  readonly accountMasked: string;
  readonly holderMemberNo: number;
  readonly since: string;
  /** Stream sequence of the event that holds the encrypted account number. */
  readonly seq: number;
}

export type HouseholdStatus = 'enrolled' | 'lifted' | 'removed';

export interface HouseholdState {
  readonly householdId: string;
  readonly villageCode: string;
  readonly causeOfPoverty: registry.CauseOfPoverty;
  readonly registeredOn: string;
  readonly status: HouseholdStatus;
  /** Date of the last exit (脱贫 or 销号) while the status is not `enrolled`. */
  readonly exitedOn: string | null;
  readonly members: readonly MemberState[];
  readonly phone: { readonly hash: string; readonly masked: string; readonly seq: number } | null;
  readonly account: AccountState | null;
  /**
   * The key its personal fields are sealed under: its own data key (`hk-…`, decision 0042) or, for a
   * household registered before data keys, the period master key that was active then.
   */
  readonly keyId: string;
  /** Business date of the erasure of its personal data (its data key destroyed), if any. */
  readonly erasedOn: string | null;
  /** The command that registered it: a retried registration completes, it does not collide. */
  readonly registeredBy: string;
  readonly registeredSeq: number;
  readonly lastSeq: number;
}

/** What the writer remembers of every command it has appended (idempotency, beyond the duplicate window). */
export interface CommandRecord {
  readonly digest: string;
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly events: number;
}

export interface IdOwner {
  readonly householdId: string;
  readonly memberNo: number;
}

export interface RegistryState {
  readonly partition: string;
  readonly households: Map<string, HouseholdState>;
  /** ID-number hash → the household member holding it: the one-county uniqueness rule. */
  readonly idIndex: Map<string, IdOwner>;
  /** Account hash → households paid into it (一卡多户 is a warning for inspectors, not a refusal). */
  readonly accountIndex: Map<string, Set<string>>;
  /** Village code → household ids, for the village query. */
  readonly villageIndex: Map<string, Set<string>>;
  readonly commands: Map<string, CommandRecord>;
  lastSeq: number;
}

export function emptyRegistryState(partition: string): RegistryState {
  return {
    partition,
    households: new Map(),
    idIndex: new Map(),
    accountIndex: new Map(),
    villageIndex: new Map(),
    commands: new Map(),
    lastSeq: 0,
  };
}

export function liveMember(household: HouseholdState, memberNo: number): MemberState | undefined {
  return household.members.find((m) => m.memberNo === memberNo);
}
