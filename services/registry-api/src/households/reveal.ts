import type { registry } from '@fundtrace/events';
import { decryptField, type EncryptedField, type Keyring, type PiiKind } from '@fundtrace/pii';
import type { RegistryEventDraft } from './decide';
import type { HouseholdState } from './state';

/**
 * What an audited reveal returns: the requested fields in clear, or `null` with `keyDestroyed`
 * when the key they were encrypted with was destroyed (crypto-shredding honours a deletion request).
 */
export interface RevealedValue {
  readonly value: string | null;
  readonly keyDestroyed: boolean;
}

export interface RevealedMember {
  readonly memberNo: number;
  readonly name?: RevealedValue;
  readonly idNumber?: RevealedValue;
  readonly health?: RevealedValue;
}

export interface Revealed {
  readonly members: RevealedMember[];
  readonly phone?: RevealedValue | null;
  readonly accountNumber?: RevealedValue | null;
}

/** Reads a stored event by sequence; the writer's `readEvent`. */
export type EventReader = (seq: number) => Promise<RegistryEventDraft>;

function open(kind: PiiKind, field: EncryptedField, keyring: Keyring): RevealedValue {
  const result = decryptField(kind, field, keyring);
  return result.ok ? { value: result.value, keyDestroyed: false } : { value: null, keyDestroyed: true };
}

function memberData(event: RegistryEventDraft, memberNo: number): registry.MemberData {
  if (event.type === 'HouseholdRegistered') {
    const member = event.data.members.find((m) => m.memberNo === memberNo);
    if (member) return member;
  }
  if (event.type === 'MemberAdded' && event.data.member.memberNo === memberNo) return event.data.member;
  throw new Error(`invariant: event ${event.type} does not hold member ${memberNo}`);
}

/**
 * Decrypts the requested fields of a household. Call it only after the PersonalDataRevealed event
 * was appended: the audit comes first, the disclosure second.
 */
export async function revealFields(
  household: HouseholdState,
  memberNos: readonly number[],
  fields: readonly registry.RevealableField[],
  keyring: Keyring,
  read: EventReader,
): Promise<Revealed> {
  const want = new Set(fields);
  const cache = new Map<number, RegistryEventDraft>();
  const at = async (seq: number) => {
    let event = cache.get(seq);
    if (event === undefined) {
      event = await read(seq);
      cache.set(seq, event);
    }
    return event;
  };
  const members: RevealedMember[] = [];
  for (const memberNo of memberNos) {
    const state = household.members.find((m) => m.memberNo === memberNo);
    if (state === undefined) throw new Error(`invariant: reveal of unknown member ${memberNo}`);
    const data = memberData(await at(state.seq), memberNo);
    members.push({
      memberNo,
      ...(want.has('name') ? { name: open('name', data.nameEnc, keyring) } : {}),
      ...(want.has('id_number') ? { idNumber: open('id_number', data.idNumberEnc, keyring) } : {}),
      ...(want.has('health') ? { health: open('health', data.healthEnc, keyring) } : {}),
    });
  }
  const revealed: { -readonly [K in keyof Revealed]: Revealed[K] } = { members };
  if (want.has('phone')) {
    if (household.phone === null) revealed.phone = null;
    else {
      const event = await at(household.phone.seq);
      if (event.type !== 'HouseholdRegistered' || event.data.phoneEnc === null) {
        throw new Error('invariant: the phone event holds no phone');
      }
      revealed.phone = open('phone', event.data.phoneEnc, keyring);
    }
  }
  if (want.has('account_number')) {
    if (household.account === null) revealed.accountNumber = null;
    else {
      const event = await at(household.account.seq);
      if (event.type !== 'AccountBound' && event.type !== 'AccountChanged') {
        throw new Error('invariant: the account event holds no account');
      }
      revealed.accountNumber = open('account_number', event.data.accountEnc, keyring);
    }
  }
  return revealed;
}
