import type { Database } from '@fundtrace/db';
import type { AnyEvent } from '@fundtrace/events';
import type { Kysely } from 'kysely';
import type { Batch } from './batch';
import type { Row } from './store';

type Registry = Extract<AnyEvent, { type: RegistryType }>;
type RegistryType =
  | 'HouseholdRegistered'
  | 'MemberAdded'
  | 'MemberDeceased'
  | 'HouseholdMoved'
  | 'AccountBound'
  | 'AccountChanged'
  | 'HouseholdExited'
  | 'HouseholdReentered'
  | 'PersonalDataRevealed'
  | 'HouseholdPersonalDataErased';

const registryTypes: ReadonlySet<string> = new Set<RegistryType>([
  'HouseholdRegistered',
  'MemberAdded',
  'MemberDeceased',
  'HouseholdMoved',
  'AccountBound',
  'AccountChanged',
  'HouseholdExited',
  'HouseholdReentered',
  'PersonalDataRevealed',
  'HouseholdPersonalDataErased',
]);

export function isRegistryEvent(event: AnyEvent): event is Registry {
  return registryTypes.has(event.type);
}

export async function prefetchRegistry(
  reader: Kysely<Database>,
  batch: Batch,
  events: readonly Registry[],
): Promise<void> {
  const households = new Set(events.map((event) => event.data.householdId));
  await batch.load(reader, 'households', households);
  await batch.loadMembers(reader, households);
}

type MemberData = Extract<Registry, { type: 'HouseholdRegistered' }>['data']['members'][number];

/** Only the keyed hash and the masked forms of a member are kept; the ciphertexts stay in the log. */
function memberRow(batch: Batch, householdId: string, member: MemberData): Row<'members'> {
  return {
    partition: batch.partition,
    household_id: householdId,
    member_no: member.memberNo,
    relation: member.relation,
    name_masked: member.nameMasked,
    id_number_hash: member.idNumberHash,
    id_number_masked: member.idNumberMasked,
    birth_year: member.birthYear,
    sex: member.sex,
    disability_category: member.disability?.category ?? null,
    disability_grade: member.disability?.grade ?? null,
    died_on: null,
    added_seq: batch.at.seqBig,
  };
}

function household(batch: Batch, householdId: string): Row<'households'> {
  const row = batch.stores.households.get(householdId);
  if (row === undefined)
    batch.fail('entity_unknown', `household ${householdId} is not registered in ${batch.partition}`);
  return row;
}

function member(batch: Batch, householdId: string, memberNo: number): Row<'members'> {
  const row = batch.stores.members.isLoaded(householdId, memberNo)
    ? batch.stores.members.get(householdId, memberNo)
    : undefined;
  if (row === undefined) batch.fail('entity_unknown', `household ${householdId} has no member ${memberNo}`);
  return row;
}

export function applyRegistry(batch: Batch, event: Registry): void {
  const seq = batch.at.seqBig;
  switch (event.type) {
    case 'HouseholdRegistered': {
      const d = event.data;
      if (batch.stores.households.get(d.householdId) !== undefined)
        batch.fail('entity_duplicate', `household ${d.householdId} is already registered`);
      const numbers = new Set(d.members.map((m) => m.memberNo));
      if (numbers.size !== d.members.length)
        batch.fail('entity_duplicate', `household ${d.householdId} lists a member number twice`);
      batch.stores.households.put({
        partition: batch.partition,
        household_id: d.householdId,
        village_code: d.villageCode,
        cause_of_poverty: d.causeOfPoverty,
        registered_on: d.registeredOn,
        status: 'registered',
        exited_on: null,
        exit_reason: null,
        phone_hash: d.phoneHash,
        phone_masked: d.phoneMasked,
        masking_version: d.maskingVersion,
        account_bank: null,
        account_medium: null,
        account_hash: null,
        account_masked: null,
        account_holder_member_no: null,
        account_bound_on: null,
        member_count: d.members.length,
        living_member_count: d.members.length,
        registered_seq: seq,
        updated_seq: seq,
      });
      for (const m of d.members) batch.stores.members.put(memberRow(batch, d.householdId, m));
      return;
    }
    case 'MemberAdded': {
      const d = event.data;
      const row = household(batch, d.householdId);
      if (batch.stores.members.isLoaded(d.householdId, d.member.memberNo)) {
        batch.fail('entity_duplicate', `household ${d.householdId} already has member ${d.member.memberNo}`);
      }
      batch.stores.members.put(memberRow(batch, d.householdId, d.member));
      batch.stores.households.put({
        ...row,
        member_count: row.member_count + 1,
        living_member_count: row.living_member_count + 1,
        masking_version: d.maskingVersion,
        updated_seq: seq,
      });
      return;
    }
    case 'MemberDeceased': {
      const d = event.data;
      const row = household(batch, d.householdId);
      const m = member(batch, d.householdId, d.memberNo);
      if (m.died_on !== null)
        batch.fail(
          'transition_invalid',
          `member ${d.memberNo} of ${d.householdId} died on ${m.died_on} already`,
        );
      batch.stores.members.put({ ...m, died_on: d.diedOn });
      batch.stores.households.put({
        ...row,
        living_member_count: row.living_member_count - 1,
        updated_seq: seq,
      });
      return;
    }
    case 'HouseholdMoved': {
      const d = event.data;
      const row = household(batch, d.householdId);
      if (row.village_code !== d.fromVillageCode) {
        batch.fail(
          'transition_invalid',
          `household ${d.householdId} lives in ${row.village_code}, the move starts from ${d.fromVillageCode}`,
        );
      }
      batch.stores.households.put({ ...row, village_code: d.toVillageCode, updated_seq: seq });
      return;
    }
    case 'AccountBound':
    case 'AccountChanged': {
      const d = event.data;
      const row = household(batch, d.householdId);
      if (event.type === 'AccountBound' && row.account_hash !== null) {
        batch.fail('transition_invalid', `household ${d.householdId} already has an account bound`);
      }
      if (event.type === 'AccountChanged' && row.account_hash !== event.data.previousAccountHash) {
        batch.fail(
          'transition_invalid',
          `household ${d.householdId}: the change replaces an account that is not the bound one`,
        );
      }
      member(batch, d.householdId, d.holderMemberNo);
      batch.stores.households.put({
        ...row,
        account_bank: d.bank,
        account_medium: d.medium,
        account_hash: d.accountHash,
        account_masked: d.accountMasked,
        account_holder_member_no: d.holderMemberNo,
        account_bound_on: event.type === 'AccountBound' ? event.data.boundOn : event.data.changedOn,
        masking_version: d.maskingVersion,
        updated_seq: seq,
      });
      return;
    }
    case 'HouseholdExited': {
      const d = event.data;
      const row = household(batch, d.householdId);
      if (row.status === 'removed')
        batch.fail('transition_invalid', `household ${d.householdId} was removed from the register`);
      batch.stores.households.put({
        ...row,
        status: d.kind,
        exited_on: d.exitedOn,
        exit_reason: d.reason,
        updated_seq: seq,
      });
      return;
    }
    case 'HouseholdReentered': {
      const d = event.data;
      const row = household(batch, d.householdId);
      if (row.status !== 'lifted')
        batch.fail(
          'transition_invalid',
          `household ${d.householdId} is ${row.status}; only a lifted household re-enters`,
        );
      batch.stores.households.put({
        ...row,
        status: 'registered',
        exited_on: null,
        exit_reason: null,
        cause_of_poverty: d.causeOfPoverty,
        updated_seq: seq,
      });
      return;
    }
    case 'PersonalDataRevealed':
    case 'HouseholdPersonalDataErased':
      // Kept in the trail only (events and event_refs): who saw what, or had it erased, when and why.
      // An erasure changes no row: the read models hold hashes and masks, which survive it.
      household(batch, event.data.householdId);
      return;
    default: {
      const never: never = event;
      throw new Error(`unhandled registry event ${(never as { type: string }).type}`);
    }
  }
}
