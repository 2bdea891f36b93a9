import {
  decryptField,
  generateDataKey,
  type HouseholdInputParsed,
  householdKeyring,
  validateIdNumber,
} from '@fundtrace/pii';
import { beforeEach, describe, expect, it } from 'vitest';
import type { RegistryCommand } from '../src/households/commands';
import { decide, liftedAtRegistrationReason } from '../src/households/decide';
import { Books, codes, county, idNumber, sampleHouseholds, testKeyring } from './helpers';

const keyring = testKeyring();
const [base, second] = sampleHouseholds(2, 11) as [HouseholdInputParsed, HouseholdInputParsed];

/** A two-person household with known data, for exact assertions. */
function household(overrides: Partial<HouseholdInputParsed> = {}): HouseholdInputParsed {
  return {
    householdId: '41132590000001',
    villageCode: '411325100201',
    causeOfPoverty: 'illness',
    registeredOn: '2016-03-01',
    status: 'enrolled',
    liftedOn: null,
    phone: '13812345678',
    members: [
      {
        name: '张三丰',
        idNumber: idNumber('411325', '19650412', '031'),
        relation: 'head',
        birthDate: '1965-04-12',
        disability: null,
        health: 'chronic_illness',
      },
      {
        name: '李秀英',
        idNumber: idNumber('411325', '19680930', '042'),
        relation: 'spouse',
        birthDate: null,
        disability: { category: 'physical', grade: 3 },
        health: 'disabled',
      },
    ],
    account: { bank: 'ABC', medium: 'card', number: '6228480402564890018', holderMemberNo: 1 },
    ...overrides,
  };
}

describe('register a household', () => {
  let books: Books;
  beforeEach(() => {
    books = new Books(keyring);
  });

  it('given nothing, when a valid household registers, then it is registered with its account bound', () => {
    const decision = books.run({ kind: 'register', household: household() });
    expect(decision.ok).toBe(true);
    if (!decision.ok) return;
    expect(decision.events.map((e) => e.type)).toEqual(['HouseholdRegistered', 'AccountBound']);
    const registered = decision.events[0]!;
    if (registered.type !== 'HouseholdRegistered') return;
    const [head, spouse] = registered.data.members;
    expect(head).toMatchObject({
      memberNo: 1,
      relation: 'head',
      nameMasked: '张*丰',
      idNumberMasked: '4113**********' + household().members[0]!.idNumber.slice(14),
      birthYear: 1965,
      sex: 'male',
    });
    expect(spouse).toMatchObject({
      memberNo: 2,
      sex: 'female',
      disability: { category: 'physical', grade: 3 },
    });
    expect(decryptField('id_number', head!.idNumberEnc, keyring)).toEqual({
      ok: true,
      value: household().members[0]!.idNumber,
    });
    expect(decryptField('health', spouse!.healthEnc, keyring)).toEqual({ ok: true, value: 'disabled' });
    expect(registered.data.phoneMasked).toBe('138****5678');
    const json = JSON.stringify(decision.events);
    for (const m of household().members) expect(json).not.toContain(m.idNumber);
    expect(json).not.toContain('6228480402564890018');
    expect(json).not.toContain('13812345678');
    expect(json).not.toContain('张三丰');
    const state = books.state.households.get('41132590000001')!;
    expect(state.account).toMatchObject({ bank: 'ABC', accountMasked: '****0018', holderMemberNo: 1 });
    expect(books.state.villageIndex.get('411325100201')).toEqual(new Set(['41132590000001']));
  });

  it('registers a household already lifted out of poverty as registration plus exit', () => {
    const decision = books.run({
      kind: 'register',
      household: household({ status: 'lifted', liftedOn: '2018-12-01', account: null }),
    });
    expect(decision.ok && decision.events.map((e) => e.type)).toEqual([
      'HouseholdRegistered',
      'HouseholdExited',
    ]);
    expect(decision.ok && decision.events[1]!.data).toMatchObject({
      kind: 'lifted',
      exitedOn: '2018-12-01',
      reason: liftedAtRegistrationReason,
    });
    expect(books.state.households.get('41132590000001')!.status).toBe('lifted');
  });

  it('refuses a second registration of the same household number', () => {
    books.run({ kind: 'register', household: household() });
    const again = books.run({
      kind: 'register',
      household: household({ members: second.members, account: null }),
    });
    expect(codes(again)).toEqual(['household_already_registered']);
  });

  it('refuses an ID number that another household of the county holds, naming that household', () => {
    books.run({ kind: 'register', household: base });
    const thief = household({
      members: [{ ...household().members[0]!, idNumber: base.members[0]!.idNumber, birthDate: null }],
      account: null,
    });
    const decision = books.run({ kind: 'register', household: thief });
    expect(decision.ok).toBe(false);
    if (decision.ok) return;
    expect(decision.rejection.code).toBe('id_number_registered_in_county');
    expect(decision.rejection.problems[0]).toMatchObject({
      member: 1,
      field: 'idNumber',
      householdId: base.householdId,
    });
    expect(decision.rejection.message).not.toContain(base.members[0]!.idNumber);
  });

  it('allows the same ID number in another county (the rules warn about it later)', () => {
    const neighbour = new Books(keyring, '411326');
    books.run({ kind: 'register', household: household() });
    const there = household({ villageCode: '411326100201' });
    expect(neighbour.run({ kind: 'register', household: there }).ok).toBe(true);
  });

  it('reports every problem of a registration at once, each with member and field', () => {
    const bad = household({
      villageCode: '411326100201',
      phone: '12345',
      members: [
        {
          ...household().members[0]!,
          relation: 'spouse',
          idNumber: household().members[0]!.idNumber.slice(0, 17) + 'Y',
        },
        { ...household().members[1]!, birthDate: '1968-10-01' },
        { ...household().members[1]!, name: '王五' },
      ],
      account: { bank: 'ABC', medium: 'card', number: '6228480402564890019', holderMemberNo: 4 },
    });
    const decision = books.run({ kind: 'register', household: bad });
    expect(codes(decision).sort()).toEqual(
      [
        'village_outside_partition',
        'household_head_missing',
        'id_number_invalid',
        'birth_date_mismatch',
        'id_number_repeated_in_household',
        'phone_invalid',
        'account_invalid',
        'account_holder_not_member',
      ].sort(),
    );
    if (decision.ok) return;
    expect(decision.rejection.problems.find((p) => p.code === 'id_number_invalid')).toMatchObject({
      member: 1,
      reason: 'characters',
    });
    expect(decision.rejection.problems.find((p) => p.code === 'account_invalid')).toMatchObject({
      reason: 'luhn',
    });
    expect(
      decision.rejection.problems.find((p) => p.code === 'id_number_repeated_in_household'),
    ).toMatchObject({ member: 3 });
    expect(books.state.households.size).toBe(0);
  });

  it.each([
    ['check_digit', (id: string) => id.slice(0, 17) + (id[17] === '1' ? '2' : '1')],
    ['region', (id: string) => idNumber('991325', id.slice(6, 14), id.slice(14, 17))],
    ['birth_date', () => idNumber('411325', '20300101', '001')],
    ['length', (id: string) => id.slice(0, 16)],
  ])('names the wrong part of an ID number: %s', (reason, spoil) => {
    const h = household();
    const decision = books.run({
      kind: 'register',
      household: {
        ...h,
        members: [{ ...h.members[0]!, idNumber: spoil(h.members[0]!.idNumber) }, h.members[1]!],
      },
    });
    expect(decision.ok).toBe(false);
    if (decision.ok) return;
    expect(decision.rejection.problems[0]).toMatchObject({ code: 'id_number_invalid', reason, member: 1 });
  });

  it('refuses a 建档日期 or 脱贫 date after today, and a change dated after today (a typed 2035)', () => {
    books.today = '2026-11-23';
    const future = books.run({ kind: 'register', household: household({ registeredOn: '2035-01-01' }) });
    expect(future.ok === false && future.rejection.problems).toEqual([
      // Named as the template's column is (建档日期), the field kept for programs.
      {
        code: 'date_in_future',
        message: '建档日期 2035-01-01 晚于今天（2026-11-23）；请核对日期。',
        field: 'registeredOn',
      },
    ]);
    expect(
      codes(
        books.run({ kind: 'register', household: household({ status: 'lifted', liftedOn: '2026-11-24' }) }),
      ),
    ).toEqual(['date_in_future']);
    // Today itself is a date a clerk may record.
    const h = household({ registeredOn: '2026-11-23' });
    expect(books.run({ kind: 'register', household: h }).ok).toBe(true);
    const exit = (exitedOn: string) =>
      books.run({ kind: 'exit', householdId: h.householdId, exitKind: 'lifted', exitedOn, reason: '脱贫' });
    expect(codes(exit('2026-11-24'))).toEqual(['date_in_future']);
    expect(exit('2026-11-23').ok).toBe(true);
  });

  it('names a misdated field in Chinese for poverty-office staff and keeps the field name in the problem', () => {
    // A household key of its own, so that its personal data can be erased (decision 0040).
    const dataKey = generateDataKey();
    const books = new Books(householdKeyring(keyring, dataKey.dataKeyId, dataKey.key));
    books.today = '2026-11-23';
    const lifted = books.run({
      kind: 'register',
      household: household({ status: 'lifted', liftedOn: '2026-11-24' }),
    });
    expect(lifted.ok === false && lifted.rejection.problems).toEqual([
      {
        code: 'date_in_future',
        message: '脱贫日期 2026-11-24 晚于今天（2026-11-23）；请核对日期。',
        field: 'liftedOn',
      },
    ]);
    const h = household({ registeredOn: '2020-01-01' });
    expect(books.run({ kind: 'register', household: h }).ok).toBe(true);
    const householdId = h.householdId;
    const member = household().members[1]!;
    const future = '2035-01-01';
    const death = { kind: 'record_death', householdId, memberNo: 2, diedOn: future } as const;
    const exit = {
      kind: 'exit',
      householdId,
      exitKind: 'removed',
      exitedOn: future,
      reason: '销号',
    } as const;
    /** A change dated 2035 is refused, named as staff read it, the field kept for programs. */
    const refusedAsInFuture = (field: string, label: string, command: RegistryCommand) => {
      const refused = books.run(command);
      expect(refused.ok, field).toBe(false);
      if (refused.ok) return;
      const message = `${label} ${future} 晚于今天（2026-11-23）；请核对日期。`;
      expect(refused.rejection).toEqual({
        code: 'date_in_future',
        message,
        problems: [{ code: 'date_in_future', message, field }],
      });
    };
    refusedAsInFuture('addedOn', '增员日期', {
      kind: 'add_member',
      householdId,
      member,
      reason: 'birth',
      addedOn: future,
    });
    refusedAsInFuture('diedOn', '死亡日期', death);
    refusedAsInFuture('movedOn', '迁移日期', {
      kind: 'move',
      householdId,
      toVillageCode: '411325100202',
      movedOn: future,
    });
    refusedAsInFuture('on', '一卡通绑定或变更日期', {
      kind: 'bind_account',
      householdId,
      account: h.account!,
      on: future,
      reason: '换卡',
    });
    refusedAsInFuture('exitedOn', '退出日期（脱贫或销号）', exit);
    const early = books.run({ ...death, diedOn: '2019-12-31' });
    expect(early.ok === false && early.rejection.problems).toEqual([
      {
        code: 'date_before_registration',
        message: '死亡日期 2019-12-31 早于该户建档日期（2020-01-01）；请核对日期。',
        field: 'diedOn',
      },
    ]);
    // Erasing needs the household out of poverty or the register first.
    expect(books.run({ ...exit, exitKind: 'lifted', exitedOn: '2026-11-01', reason: '脱贫' }).ok).toBe(true);
    // 返贫 is dated too (0093): a fall back into poverty recorded for 2035 is a typo.
    refusedAsInFuture('reenteredOn', '返贫日期', {
      kind: 'reenter',
      householdId,
      reenteredOn: future,
      causeOfPoverty: 'illness',
      reason: '因病返贫',
    });
    refusedAsInFuture('erasedOn', '个人信息删除日期', {
      kind: 'erase',
      householdId,
      erasedOn: future,
      reason: '本人申请',
    });
  });

  it('refuses two heads, a missing 脱贫 date, a 脱贫 date without the status and one before registration', () => {
    const h = household();
    expect(
      codes(
        books.run({
          kind: 'register',
          household: { ...h, members: [h.members[0]!, { ...h.members[1]!, relation: 'head' }] },
        }),
      ),
    ).toEqual(['household_head_ambiguous']);
    expect(codes(books.run({ kind: 'register', household: household({ status: 'lifted' }) }))).toEqual([
      'lifted_date_required',
    ]);
    expect(codes(books.run({ kind: 'register', household: household({ liftedOn: '2018-01-01' }) }))).toEqual([
      'lifted_date_not_allowed',
    ]);
    expect(
      codes(
        books.run({ kind: 'register', household: household({ status: 'lifted', liftedOn: '2015-01-01' }) }),
      ),
    ).toEqual(['date_before_registration']);
    expect(
      codes(books.run({ kind: 'register', household: household({ villageCode: '4113251002' }) })),
    ).toEqual(['village_code_invalid']);
    expect(
      codes(
        books.run({
          kind: 'register',
          household: household({ members: [{ ...h.members[0]!, name: '张3' }], account: null }),
        }),
      ),
    ).toEqual(['member_name_invalid']);
  });

  it('resumes a registration retried under the same command id: only the missing events', () => {
    const h = household({ status: 'lifted', liftedOn: '2019-01-01' });
    const first = decide({ kind: 'register', household: h }, undefined, books.context('import-1'));
    expect(first.ok).toBe(true);
    if (!first.ok) return;
    books.fold(first.events.slice(0, 1), 'import-1'); // the append stopped after the first event
    const retry = books.run({ kind: 'register', household: h }, 'import-1');
    expect(retry.ok && retry.events.map((e) => e.type)).toEqual(['AccountBound', 'HouseholdExited']);
    const again = books.run({ kind: 'register', household: h }, 'import-1');
    expect(again.ok && again.events).toEqual([]);
    expect(codes(books.run({ kind: 'register', household: h }, 'import-2'))).toEqual([
      'household_already_registered',
    ]);
  });
});

describe('changes to a registered household', () => {
  let books: Books;
  const id = '41132590000001';
  beforeEach(() => {
    books = new Books(keyring);
    expect(books.run({ kind: 'register', household: household() }).ok).toBe(true);
  });

  it('refuses any change to an unregistered household', () => {
    expect(
      codes(books.run({ kind: 'record_death', householdId: 'nope', memberNo: 1, diedOn: '2020-01-01' })),
    ).toEqual(['household_not_registered']);
  });

  it('records a death once, not before birth or registration, and only of a member', () => {
    expect(
      codes(books.run({ kind: 'record_death', householdId: id, memberNo: 3, diedOn: '2020-01-01' })),
    ).toEqual(['member_not_found']);
    expect(
      codes(books.run({ kind: 'record_death', householdId: id, memberNo: 1, diedOn: '1960-01-01' })),
    ).toEqual(['date_before_birth']);
    expect(
      codes(books.run({ kind: 'record_death', householdId: id, memberNo: 1, diedOn: '2015-01-01' })),
    ).toEqual(['date_before_registration']);
    expect(books.run({ kind: 'record_death', householdId: id, memberNo: 2, diedOn: '2020-05-01' }).ok).toBe(
      true,
    );
    expect(books.state.households.get(id)!.members[1]!.deceasedOn).toBe('2020-05-01');
    expect(
      codes(books.run({ kind: 'record_death', householdId: id, memberNo: 2, diedOn: '2020-05-02' })),
    ).toEqual(['member_already_deceased']);
  });

  it('moves within the county only, and only to another village', () => {
    expect(
      codes(
        books.run({ kind: 'move', householdId: id, toVillageCode: '411325100201', movedOn: '2019-01-01' }),
      ),
    ).toEqual(['village_unchanged']);
    expect(
      codes(
        books.run({ kind: 'move', householdId: id, toVillageCode: '411326100201', movedOn: '2019-01-01' }),
      ),
    ).toEqual(['village_outside_partition']);
    const moved = books.run({
      kind: 'move',
      householdId: id,
      toVillageCode: '411325101203',
      movedOn: '2019-01-01',
    });
    expect(moved.ok && moved.events[0]!.data).toMatchObject({
      fromVillageCode: '411325100201',
      toVillageCode: '411325101203',
    });
    expect(books.state.villageIndex.get('411325100201')).toBeUndefined();
    expect(books.state.villageIndex.get('411325101203')).toEqual(new Set([id]));
  });

  it('changes the account with a reason, to a living member, and refuses a no-op change', () => {
    const card = '6228480402564890018';
    const passbook = { bank: 'RCC', medium: 'passbook', number: '41132501234567', holderMemberNo: 2 };
    expect(
      codes(
        books.run({
          kind: 'bind_account',
          householdId: id,
          account: { bank: 'ABC', medium: 'card', number: card, holderMemberNo: 1 },
          on: '2019-01-01',
          reason: 'x',
        }),
      ),
    ).toEqual(['account_unchanged']);
    expect(
      codes(
        books.run({
          kind: 'bind_account',
          householdId: id,
          account: passbook,
          on: '2019-01-01',
          reason: null,
        }),
      ),
    ).toEqual(['change_reason_required']);
    expect(
      codes(
        books.run({
          kind: 'bind_account',
          householdId: id,
          account: { ...passbook, holderMemberNo: 7 },
          on: '2019-01-01',
          reason: '换卡',
        }),
      ),
    ).toEqual(['account_holder_not_member']);
    const changed = books.run({
      kind: 'bind_account',
      householdId: id,
      account: passbook,
      on: '2019-01-01',
      reason: '换卡',
    });
    expect(changed.ok && changed.events[0]!.type).toBe('AccountChanged');
    expect(books.state.households.get(id)!.account).toMatchObject({
      bank: 'RCC',
      medium: 'passbook',
      holderMemberNo: 2,
      accountMasked: '****4567',
    });
    books.run({ kind: 'record_death', householdId: id, memberNo: 1, diedOn: '2020-01-01' });
    expect(
      codes(
        books.run({
          kind: 'bind_account',
          householdId: id,
          account: { bank: 'ABC', medium: 'card', number: card, holderMemberNo: 1 },
          on: '2020-02-01',
          reason: '换卡',
        }),
      ),
    ).toEqual(['account_holder_deceased']);
  });

  it('indexes shared accounts across households (一卡多户 is a warning, not a refusal)', () => {
    const other = household({
      householdId: '41132590000002',
      members: second.members,
      account: { bank: 'ABC', medium: 'card', number: '6228480402564890018', holderMemberNo: 1 },
    });
    expect(books.run({ kind: 'register', household: other }).ok).toBe(true);
    const hash = books.state.households.get(id)!.account!.accountHash;
    expect(books.state.accountIndex.get(hash)).toEqual(new Set([id, '41132590000002']));
  });

  it('adds a member with a fresh number, never a second head nor a known ID', () => {
    const child = {
      name: '张小明',
      idNumber: idNumber('411325', '20180301', '013'),
      relation: 'son' as const,
      birthDate: null,
      disability: null,
      health: 'healthy' as const,
    };
    const added = books.run({
      kind: 'add_member',
      householdId: id,
      member: child,
      reason: 'birth',
      addedOn: '2018-03-05',
    });
    expect(added.ok && added.events[0]!.type === 'MemberAdded' && added.events[0]!.data.member.memberNo).toBe(
      3,
    );
    expect(
      codes(
        books.run({
          kind: 'add_member',
          householdId: id,
          member: child,
          reason: 'birth',
          addedOn: '2018-03-05',
        }),
      ),
    ).toEqual(['id_number_repeated_in_household']);
    expect(
      codes(
        books.run({
          kind: 'add_member',
          householdId: id,
          member: { ...child, relation: 'head' },
          reason: 'other',
          addedOn: '2018-03-05',
        }),
      ),
    ).toEqual(['household_head_ambiguous']);
    expect(
      codes(
        books.run({
          kind: 'add_member',
          householdId: id,
          member: { ...child, idNumber: idNumber('411325', '20190301', '013') },
          reason: 'birth',
          addedOn: '2018-03-05',
        }),
      ),
    ).toEqual(['id_number_invalid']);
  });

  it('exits, refuses a second 脱贫, re-enters only after an exit, and freezes after 销号', () => {
    expect(
      codes(
        books.run({
          kind: 'reenter',
          householdId: id,
          reenteredOn: '2020-01-01',
          causeOfPoverty: 'illness',
          reason: '因病返贫',
        }),
      ),
    ).toEqual(['household_not_lifted']);
    expect(
      books.run({
        kind: 'exit',
        householdId: id,
        exitKind: 'lifted',
        exitedOn: '2019-12-01',
        reason: '两不愁三保障达标',
      }).ok,
    ).toBe(true);
    expect(
      codes(
        books.run({ kind: 'exit', householdId: id, exitKind: 'lifted', exitedOn: '2019-12-02', reason: 'x' }),
      ),
    ).toEqual(['household_already_lifted']);
    expect(
      codes(
        books.run({
          kind: 'reenter',
          householdId: id,
          reenteredOn: '2019-11-01',
          causeOfPoverty: 'illness',
          reason: 'x',
        }),
      ),
    ).toEqual(['date_before_exit']);
    expect(
      books.run({
        kind: 'reenter',
        householdId: id,
        reenteredOn: '2020-06-01',
        causeOfPoverty: 'disaster',
        reason: '因灾返贫',
      }).ok,
    ).toBe(true);
    expect(books.state.households.get(id)).toMatchObject({
      status: 'enrolled',
      causeOfPoverty: 'disaster',
      exitedOn: null,
    });
    expect(
      books.run({
        kind: 'exit',
        householdId: id,
        exitKind: 'removed',
        exitedOn: '2021-01-01',
        reason: '错评',
      }).ok,
    ).toBe(true);
    expect(
      codes(
        books.run({ kind: 'move', householdId: id, toVillageCode: '411325101203', movedOn: '2021-02-01' }),
      ),
    ).toEqual(['household_removed']);
    expect(
      codes(
        books.run({ kind: 'exit', householdId: id, exitKind: 'lifted', exitedOn: '2021-02-01', reason: 'x' }),
      ),
    ).toEqual(['household_removed']);
  });

  it('records a reveal as an event naming members and fields, even after 销号', () => {
    expect(
      codes(
        books.run({
          kind: 'reveal',
          householdId: id,
          memberNos: [9],
          fields: ['id_number'],
          reason: '核对身份',
        }),
      ),
    ).toEqual(['member_not_found']);
    books.run({ kind: 'exit', householdId: id, exitKind: 'removed', exitedOn: '2021-01-01', reason: '错评' });
    const reveal = books.run({
      kind: 'reveal',
      householdId: id,
      memberNos: [2, 1, 1],
      fields: ['id_number', 'health', 'id_number'],
      reason: '核对身份',
    });
    expect(reveal.ok && reveal.events[0]).toEqual({
      type: 'PersonalDataRevealed',
      data: {
        householdId: id,
        commandDigest: 'a'.repeat(64),
        memberNos: [1, 2],
        fields: ['id_number', 'health'],
        reason: '核对身份',
      },
    });
  });
});

describe('erase a household (decision 0042)', () => {
  const dataKey = generateDataKey();
  const erase = (id: string, erasedOn = '2024-06-01') =>
    ({ kind: 'erase', householdId: id, erasedOn, reason: '本人申请删除个人信息' }) as const;

  it('erases an exited household sealed under its own data key, naming the key and nothing personal', () => {
    const books = new Books(householdKeyring(keyring, dataKey.dataKeyId, dataKey.key));
    const id = household().householdId;
    books.run({ kind: 'register', household: household() });
    expect(codes(books.run(erase(id)))).toEqual(['household_still_enrolled']);
    books.run({ kind: 'exit', householdId: id, exitKind: 'lifted', exitedOn: '2020-12-01', reason: '脱贫' });
    expect(codes(books.run(erase(id, '2016-01-01')))).toEqual(['date_before_registration']);
    const erased = books.run(erase(id));
    expect(erased.ok && erased.events).toEqual([
      {
        type: 'HouseholdPersonalDataErased',
        data: {
          householdId: id,
          commandDigest: 'a'.repeat(64),
          dataKeyId: dataKey.dataKeyId,
          erasedOn: '2024-06-01',
          reason: '本人申请删除个人信息',
        },
      },
    ]);
    expect(books.state.households.get(id)!.erasedOn).toBe('2024-06-01');
    // Afterwards only an (audited) reveal is accepted; nothing may seal new data for it.
    expect(codes(books.run(erase(id)))).toEqual(['household_erased']);
    expect(
      codes(
        books.run({ kind: 'move', householdId: id, toVillageCode: '411325100202', movedOn: '2024-07-01' }),
      ),
    ).toEqual(['household_erased']);
    expect(
      books.run({ kind: 'reveal', householdId: id, memberNos: [1], fields: ['name'], reason: '核对' }).ok,
    ).toBe(true);
  });

  it('erases a household removed from the register (销号) too', () => {
    const books = new Books(householdKeyring(keyring, dataKey.dataKeyId, dataKey.key));
    const id = household().householdId;
    books.run({ kind: 'register', household: household() });
    books.run({ kind: 'exit', householdId: id, exitKind: 'removed', exitedOn: '2021-01-01', reason: '错评' });
    expect(books.run(erase(id)).ok).toBe(true);
  });

  it('refuses a household sealed under a period key: one request cannot destroy a shared key', () => {
    const books = new Books(keyring);
    const id = household().householdId;
    books.run({ kind: 'register', household: household() });
    books.run({ kind: 'exit', householdId: id, exitKind: 'removed', exitedOn: '2021-01-01', reason: '错评' });
    expect(codes(books.run(erase(id)))).toEqual(['household_key_shared']);
    expect(codes(books.run(erase('41132599999999')))).toEqual(['household_not_registered']);
  });
});

describe('generated households', () => {
  it('all register in one county without a single rejection', () => {
    const books = new Books(keyring);
    for (const h of sampleHouseholds(300, 5)) {
      const decision = books.run({ kind: 'register', household: h });
      expect(decision.ok, JSON.stringify(!decision.ok && decision.rejection.problems)).toBe(true);
    }
    expect(books.state.households.size).toBe(300);
    const idCount = [...books.state.households.values()].reduce((n, h) => n + h.members.length, 0);
    expect(books.state.idIndex.size).toBe(idCount);
    expect(validateIdNumber(base.members[0]!.idNumber).ok).toBe(true);
    expect(county).toBe('411325');
  });
});

describe('limits', () => {
  it('refuses a member beyond the most a household may have', () => {
    const books = new Books(keyring);
    const big = sampleHouseholds(1, 99)[0]!;
    const members = Array.from({ length: 30 }, (_, i) => ({
      name: '王某',
      idNumber: idNumber(
        '411325',
        `1980${String(Math.floor(i / 28) + 1).padStart(2, '0')}${String((i % 28) + 1).padStart(2, '0')}`,
        '015',
      ),
      relation: (i === 0 ? 'head' : 'other') as 'head' | 'other',
      birthDate: null,
      disability: null,
      health: 'healthy' as const,
    }));
    expect(books.run({ kind: 'register', household: { ...big, members, account: null } }).ok).toBe(true);
    const extra = { ...members[1]!, idNumber: idNumber('411325', '19900101', '015') };
    expect(
      codes(
        books.run({
          kind: 'add_member',
          householdId: big.householdId,
          member: extra,
          reason: 'birth',
          addedOn: '2020-01-01',
        }),
      ),
    ).toEqual(['household_members_too_many']);
  });
});
