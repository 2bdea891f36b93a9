import { factsOf, notChinese } from '@fundtrace/testkit';
import { describe, expect, it } from 'vitest';
import {
  problemsMessage,
  type RegistryRejectionArgs,
  registryMessage,
  registryMessages,
} from '../src/households/rejection-messages';
import { type RegistryRejectionCode, registryRejectionStatuses } from '../src/households/rejections';

/**
 * Every refusal of the registry is worded in Chinese for the clerk (decision 0131, as ledger-api's).
 * The samples give every code's facts and variants: the type makes a code without samples a
 * compile error, the walk below a test failure.
 */
const samples: { readonly [C in RegistryRejectionCode]: readonly RegistryRejectionArgs[C][] } = {
  household_already_registered: [{ householdId: 'H411325-0001' }],
  household_not_registered: [
    { case: 'household', householdId: 'H411325-0001', partition: '411325' },
    { case: 'household', householdId: 'H411325-0001', partition: null },
    { case: 'id_number' },
  ],
  household_removed: [{ householdId: 'H411325-0001' }],
  household_erased: [{ householdId: 'H411325-0001', erasedOn: '2026-01-05' }],
  household_still_enrolled: [{ householdId: 'H411325-0001' }],
  household_key_shared: [{ householdId: 'H411325-0001', keyId: 'k2019' }],
  household_already_lifted: [
    { householdId: 'H411325-0001', exitedOn: '2020-12-01' },
    { householdId: 'H411325-0001', exitedOn: null },
  ],
  household_not_lifted: [{ householdId: 'H411325-0001' }],
  id_number_invalid: (['length', 'characters', 'region', 'birth_date', 'check_digit'] as const).flatMap(
    (reason) => [
      { member: 2, reason },
      { member: null, reason },
    ],
  ),
  id_number_registered_in_county: [
    { member: 1, ownerMemberNo: 3, ownerHouseholdId: 'H411325-0009' },
    { member: null, ownerMemberNo: 3, ownerHouseholdId: 'H411325-0009' },
  ],
  id_number_repeated_in_household: [
    { member: 3, earlier: 1 },
    { member: null, earlier: 1 },
  ],
  birth_date_mismatch: [{ member: 2 }, { member: null }],
  member_name_invalid: [{ member: 2 }, { member: null }],
  household_head_missing: [{}],
  household_head_ambiguous: [{ member: 2 }, { member: null }],
  household_members_too_many: [{ max: 30 }],
  village_code_invalid: [{ code: '4113251002' }],
  village_outside_partition: [{ code: '411221100201', partition: '411325' }],
  village_unchanged: [{ householdId: 'H411325-0001', villageCode: '411325100201' }],
  account_invalid: (['unknown_bank', 'unknown_medium', 'characters', 'length', 'luhn'] as const).map(
    (reason) => ({ reason }),
  ),
  account_holder_not_member: [{ holderMemberNo: 7 }],
  account_holder_deceased: [{ holderMemberNo: 2 }],
  account_unchanged: [{}],
  change_reason_required: [{}],
  phone_invalid: (['characters', 'length', 'prefix'] as const).map((reason) => ({ reason })),
  lifted_date_required: [{}],
  lifted_date_not_allowed: [{}],
  date_before_registration: [
    { case: 'lifted' },
    { case: 'change', label: '死亡日期', date: '2019-12-31', registeredOn: '2020-01-01' },
  ],
  date_in_future: [{ label: '建档日期', date: '2035-01-01', today: '2026-11-23' }],
  date_before_birth: [{ memberNo: 2 }],
  date_before_exit: [{ reenteredOn: '2020-01-01', exitedOn: '2021-06-30' }],
  member_not_found: [
    { householdId: 'H411325-0001', memberNos: [9] },
    { householdId: 'H411325-0001', memberNos: [8, 9] },
  ],
  member_already_deceased: [{ memberNo: 2 }],
  import_rows_invalid: [{ count: 4 }],
  import_not_found: [{ importId: 'import-households-3f2a' }],
  partition_not_served: [{ partition: '110101' }],
  projection_behind: [{ partition: '411325', projected: 120, minSeq: 125 }],
  sequence_not_written: [{ partition: '411325', lastSeq: 120, minSeq: 999 }],
  idempotency_key_reused: [{ commandId: 'cmd-0193' }],
};

/** Facts a message says in words of its own, not as they are. */
const translated = new Set(['case', 'reason']);

/** The facts a message shows as they are: households, members, dates, counts. */
const shown = (args: object, skip: ReadonlySet<string> = translated) => factsOf(args, { skip });

const codes = Object.keys(registryRejectionStatuses) as RegistryRejectionCode[];

describe('every refusal of the registry has a Chinese message (0131)', () => {
  it('has a wording and samples for every code, and nothing for a code that is not one', () => {
    const without = codes.filter((c) => typeof registryMessages[c] !== 'function' || !samples[c]?.length);
    expect(without).toEqual([]);
    expect(Object.keys(registryMessages).sort()).toEqual([...codes].sort());
  });

  it.each(codes)('%s: a Chinese sentence naming its households, members and dates', (code) => {
    for (const args of samples[code]) {
      const message = registryMessage(code, args as never);
      expect(notChinese(message, shown(args, new Set()))).toBeUndefined();
      for (const fact of shown(args)) expect(message, `${code} ${JSON.stringify(args)}`).toContain(fact);
      expect(message).toMatch(/[。]$/);
    }
  });

  it('names a refusal of several problems by its first', () => {
    const first = registryMessage('household_head_missing', {});
    expect(problemsMessage(3, first)).toBe(`共 3 处问题，第一处：${first}`);
  });
});
