import { registry, villageCodeProblem } from '@fundtrace/events';
import {
  accountNumberHash,
  currentMaskingPolicy,
  householdColumns,
  idNumberHash,
  isDataKeyId,
  type Keyring,
  type MemberInputParsed,
  sealAccountNumber,
  sealHealth,
  sealIdNumber,
  sealName,
  sealPhone,
  validateBankAccount,
  validateIdNumber,
  validatePhone,
} from '@fundtrace/pii';
import type { RegistryCommand } from './commands';
import { problemsMessage, type RegistryRejectionArgs, registryMessage } from './rejection-messages';
import type { Problem, RegistryRejection, RegistryRejectionCode } from './rejections';
import type { HouseholdState, IdOwner } from './state';

/**
 * The registry's business rules: `decide(command, household, context)` returns the events to append
 * or a named rejection. Pure apart from the encryption of personal data, whose random IVs are not
 * business logic: no clock, no I/O, no ids (those, and today's date, come with the command and the
 * context).
 */

type Draft<T extends registry.RegistryEventType> = {
  readonly type: T;
  readonly data: registry.RegistryData<T>;
};
export type RegistryEventDraft = { [T in registry.RegistryEventType]: Draft<T> }[registry.RegistryEventType];

/** The template's column header of a household field (建档日期 …), as the clerk typed the value under it. */
function templateHeader(key: (typeof householdColumns)[number]['key']): string {
  const column = householdColumns.find((c) => c.key === key);
  if (column === undefined) throw new Error(`no household column ${key}`);
  return column.header;
}

/**
 * A date as a refusal names it to poverty-office staff, who read 建档日期, not registeredOn: the
 * household template's column header where the date is a column of it, otherwise the change's own
 * Chinese name (a change has no template column; it comes through the API). The problem's
 * `field` keeps the command's field name for programs.
 */
const dateLabels = {
  registeredOn: templateHeader('registeredOn'),
  liftedOn: templateHeader('liftedOn'),
  addedOn: '增员日期',
  diedOn: '死亡日期',
  movedOn: '迁移日期',
  on: '一卡通绑定或变更日期',
  exitedOn: '退出日期（脱贫或销号）',
  reenteredOn: '返贫日期',
  erasedOn: '个人信息删除日期',
} as const;
type ChangeDateField = Exclude<keyof typeof dateLabels, 'registeredOn' | 'liftedOn'>;

export interface DecideContext {
  /** The county whose books these are (the partition of REGISTRY_<code>). */
  readonly partition: string;
  readonly keyring: Keyring;
  readonly commandId: string;
  /** Keyed digest of the command's content, written into every event (see commandDigestSchema). */
  readonly commandDigest: string;
  /** Who holds an ID-number hash in this county, including households decided earlier in one import. */
  readonly idOwner: (hash: string) => IdOwner | undefined;
  /** Check a registration and stop before sealing anything (dry runs, an import's first pass). */
  readonly validateOnly?: boolean;
  /**
   * The business date (Beijing, YYYY-MM-DD) the command is decided on: no date it records may be
   * later. A 建档日期 typed as 2035 was registered, and the household counted as registered since.
   */
  readonly today: string;
}

export type Decision =
  | { readonly ok: true; readonly events: readonly RegistryEventDraft[] }
  | { readonly ok: false; readonly rejection: RegistryRejection };

/** The reason written on the exit event of a household registered as already lifted out of poverty. */
export const liftedAtRegistrationReason = '登记时已脱贫 (registered as already lifted out of poverty)';

export function decide(
  command: RegistryCommand,
  household: HouseholdState | undefined,
  ctx: DecideContext,
): Decision {
  if (command.kind === 'register') return decideRegister(command.household, household, ctx);
  if (household === undefined) {
    return reject('household_not_registered', {
      case: 'household',
      householdId: command.householdId,
      partition: ctx.partition,
    });
  }
  // A reveal of an erased household is still audited and answers keyDestroyed; nothing else may
  // touch it (new personal data would need the destroyed key).
  if (household.erasedOn !== null && command.kind !== 'reveal') {
    return reject('household_erased', { householdId: household.householdId, erasedOn: household.erasedOn });
  }
  if (household.status === 'removed' && command.kind !== 'reveal' && command.kind !== 'erase') {
    return reject('household_removed', { householdId: household.householdId });
  }
  switch (command.kind) {
    case 'add_member':
      return decideAddMember(command, household, ctx);
    case 'record_death':
      return decideDeath(command, household, ctx);
    case 'move':
      return decideMove(command, household, ctx);
    case 'bind_account':
      return decideAccount(command, household, ctx);
    case 'exit':
      return decideExit(command, household, ctx);
    case 'reenter':
      return decideReenter(command, household, ctx);
    case 'reveal':
      return decideReveal(command, household, ctx);
    case 'erase':
      return decideErase(command, household, ctx);
  }
}

// ── Registration ──

function decideRegister(
  input: Extract<RegistryCommand, { kind: 'register' }>['household'],
  existing: HouseholdState | undefined,
  ctx: DecideContext,
): Decision {
  const resuming = existing !== undefined && existing.registeredBy === ctx.commandId;
  if (existing !== undefined && !resuming) {
    const taken = { householdId: input.householdId };
    return reject('household_already_registered', taken, [
      problem('household_already_registered', taken, { field: 'householdId' }),
    ]);
  }
  const problems: Problem[] = [];
  problems.push(...villageProblems(input.villageCode, ctx.partition, 'villageCode'));
  const heads = input.members.filter((m) => m.relation === 'head').length;
  if (heads === 0) {
    problems.push(problem('household_head_missing', {}, { field: 'relation' }));
  } else if (heads > 1) {
    input.members.forEach((m, i) => {
      if (m.relation === 'head' && i > 0) {
        problems.push(
          problem('household_head_ambiguous', { member: i + 1 }, { member: i + 1, field: 'relation' }),
        );
      }
    });
  }
  const hashes: string[] = [];
  const seen = new Map<string, number>();
  input.members.forEach((member, i) => {
    const memberProblems = memberValidation(member, i + 1, input.registeredOn);
    problems.push(...memberProblems);
    if (memberProblems.some((p) => p.field === 'idNumber')) {
      hashes.push('');
      return;
    }
    const hash = idNumberHash(normalizedId(member), ctx.keyring);
    hashes.push(hash);
    const earlier = seen.get(hash);
    if (earlier !== undefined) {
      problems.push(
        problem(
          'id_number_repeated_in_household',
          { member: i + 1, earlier },
          { member: i + 1, field: 'idNumber' },
        ),
      );
      return;
    }
    seen.set(hash, i + 1);
    const owner = ctx.idOwner(hash);
    if (owner !== undefined && owner.householdId !== input.householdId) {
      problems.push(
        problem(
          'id_number_registered_in_county',
          { member: i + 1, ownerMemberNo: owner.memberNo, ownerHouseholdId: owner.householdId },
          { member: i + 1, field: 'idNumber', householdId: owner.householdId },
        ),
      );
    }
  });
  if (input.phone !== null) {
    const phone = validatePhone(input.phone);
    if (!phone.ok)
      problems.push(
        problem('phone_invalid', { reason: phone.reason }, { field: 'phone', reason: phone.reason }),
      );
  }
  if (input.account !== null) {
    problems.push(...accountProblems(input.account, input.members.length, new Set()));
  }
  if (input.status === 'lifted' && input.liftedOn === null) {
    problems.push(problem('lifted_date_required', {}, { field: 'liftedOn' }));
  }
  if (input.status === 'enrolled' && input.liftedOn !== null) {
    problems.push(problem('lifted_date_not_allowed', {}, { field: 'liftedOn' }));
  }
  for (const [field, date] of [
    ['registeredOn', input.registeredOn],
    ['liftedOn', input.liftedOn],
  ] as const) {
    if (date !== null && date > ctx.today) {
      problems.push(
        problem('date_in_future', { label: dateLabels[field], date, today: ctx.today }, { field }),
      );
    }
  }
  if (input.liftedOn !== null && input.liftedOn < input.registeredOn) {
    problems.push(problem('date_before_registration', { case: 'lifted' }, { field: 'liftedOn' }));
  }
  if (problems.length > 0) return rejectAll(problems);
  if (ctx.validateOnly === true) return { ok: true, events: [] };

  const events: RegistryEventDraft[] = [];
  const common = { householdId: input.householdId, commandDigest: ctx.commandDigest };
  if (!resuming) {
    const phone = input.phone === null ? null : sealPhone(validatedPhone(input.phone), ctx.keyring);
    events.push({
      type: 'HouseholdRegistered',
      data: {
        ...common,
        villageCode: input.villageCode,
        causeOfPoverty: input.causeOfPoverty,
        registeredOn: input.registeredOn,
        members: input.members.map((m, i) => sealMember(m, i + 1, ctx.keyring)),
        phoneEnc: phone?.enc ?? null,
        phoneHash: phone?.hash ?? null,
        phoneMasked: phone?.masked ?? null,
        maskingVersion: currentMaskingPolicy.version,
      },
    });
  }
  // A retried registration (same command id) appends only what the first attempt did not store.
  if (input.account !== null && (!resuming || existing.account === null)) {
    events.push(accountEvent(input.account, null, input.registeredOn, null, common, ctx));
  }
  if (input.status === 'lifted' && (!resuming || existing.status === 'enrolled')) {
    events.push({
      type: 'HouseholdExited',
      data: { ...common, kind: 'lifted', exitedOn: input.liftedOn!, reason: liftedAtRegistrationReason },
    });
  }
  return { ok: true, events };
}

/** The normalised ID numbers of a (valid) registration: what the county index will hold. */
export function registrationIdHashes(members: readonly MemberInputParsed[], keyring: Keyring): string[] {
  return members.map((m) => idNumberHash(normalizedId(m), keyring));
}

function normalizedId(member: MemberInputParsed): string {
  const result = validateIdNumber(member.idNumber);
  if (!result.ok) throw new Error('normalizedId called on an invalid ID number'); // validated before
  return result.value;
}

function validatedPhone(raw: string): string {
  const result = validatePhone(raw);
  if (!result.ok) throw new Error('validatedPhone called on an invalid phone'); // validated before
  return result.number;
}

/** Every problem of one member (name, ID number, birth date against it). */
function memberValidation(
  member: MemberInputParsed,
  position: number,
  asOf: string,
  /** The member as the message names it (第 N 名成员), or null for a command of one member. */
  named: number | null = position,
): Problem[] {
  const problems: Problem[] = [];
  const name = member.name.trim();
  if (name === '' || /[\p{Cc}\d]/u.test(name)) {
    problems.push(problem('member_name_invalid', { member: named }, { member: position, field: 'name' }));
  }
  const id = validateIdNumber(member.idNumber, { asOf });
  if (!id.ok) {
    problems.push(
      problem(
        'id_number_invalid',
        { member: named, reason: id.reason },
        { member: position, field: 'idNumber', reason: id.reason },
      ),
    );
  } else if (member.birthDate !== null && member.birthDate !== id.birthDate) {
    problems.push(
      problem('birth_date_mismatch', { member: named }, { member: position, field: 'birthDate' }),
    );
  }
  return problems;
}

function sealMember(member: MemberInputParsed, memberNo: number, keyring: Keyring): registry.MemberData {
  const id = validateIdNumber(member.idNumber);
  if (!id.ok) throw new Error('sealMember called on an invalid ID number'); // validated before
  const sealedId = sealIdNumber(id.value, keyring);
  const name = sealName(member.name.trim(), keyring);
  return {
    memberNo,
    relation: member.relation,
    nameEnc: name.enc,
    nameMasked: name.masked,
    idNumberEnc: sealedId.enc,
    idNumberHash: sealedId.hash,
    idNumberMasked: sealedId.masked,
    birthYear: Number(id.birthDate.slice(0, 4)),
    sex: id.sex,
    disability: member.disability,
    healthEnc: sealHealth(member.health, keyring),
  };
}

/** A village code is 12 digits; a longer mistyped value is shown cut to this many characters. */
const villageCodeShownMax = 20;

function villageProblems(code: string, partition: string, field: string): Problem[] {
  // The validator's own words are English; the clerk reads the code's (the reason is in the code).
  if (villageCodeProblem(code) !== undefined)
    return [problem('village_code_invalid', { code: code.slice(0, villageCodeShownMax) }, { field })];
  if (!code.startsWith(partition)) {
    return [problem('village_outside_partition', { code, partition }, { field })];
  }
  return [];
}

function accountProblems(
  account: { bank: string; medium: string; number: string; holderMemberNo: number },
  memberCount: number | readonly number[],
  deceased: ReadonlySet<number>,
): Problem[] {
  const problems: Problem[] = [];
  const result = validateBankAccount(account.bank, account.medium, account.number);
  if (!result.ok)
    problems.push(
      problem('account_invalid', { reason: result.reason }, { field: 'account', reason: result.reason }),
    );
  const isMember =
    typeof memberCount === 'number'
      ? account.holderMemberNo <= memberCount
      : memberCount.includes(account.holderMemberNo);
  if (!isMember) {
    problems.push(
      problem(
        'account_holder_not_member',
        { holderMemberNo: account.holderMemberNo },
        { field: 'holderMemberNo' },
      ),
    );
  } else if (deceased.has(account.holderMemberNo)) {
    problems.push(
      problem(
        'account_holder_deceased',
        { holderMemberNo: account.holderMemberNo },
        { field: 'holderMemberNo' },
      ),
    );
  }
  return problems;
}

function accountEvent(
  account: { bank: string; medium: string; number: string; holderMemberNo: number },
  previousHash: string | null,
  on: string,
  reason: string | null,
  common: { householdId: string; commandDigest: string },
  ctx: DecideContext,
): RegistryEventDraft {
  const result = validateBankAccount(account.bank, account.medium, account.number);
  if (!result.ok) throw new Error('accountEvent called on an invalid account'); // validated before
  const sealed = sealAccountNumber(result.number, ctx.keyring);
  const fields = {
    ...common,
    bank: result.bank,
    medium: result.medium,
    accountEnc: sealed.enc,
    accountHash: sealed.hash,
    accountMasked: sealed.masked,
    holderMemberNo: account.holderMemberNo,
    maskingVersion: currentMaskingPolicy.version,
  };
  if (previousHash === null) return { type: 'AccountBound', data: { ...fields, boundOn: on } };
  return {
    type: 'AccountChanged',
    data: { ...fields, previousAccountHash: previousHash, changedOn: on, reason: reason! },
  };
}

// ── Changes to a registered household ──

type Cmd<K extends RegistryCommand['kind']> = Extract<RegistryCommand, { kind: K }>;

/** A change's date: on or after the registration, and not after today. */
function changeDateProblem(
  household: HouseholdState,
  date: string,
  field: ChangeDateField,
  today: string,
): Decision | undefined {
  const label = dateLabels[field];
  if (date > today) {
    const args = { label, date, today };
    return reject('date_in_future', args, [problem('date_in_future', args, { field })]);
  }
  if (date < household.registeredOn) {
    const args = { case: 'change', label, date, registeredOn: household.registeredOn } as const;
    return reject('date_before_registration', args, [problem('date_before_registration', args, { field })]);
  }
  return undefined;
}

function decideAddMember(
  command: Cmd<'add_member'>,
  household: HouseholdState,
  ctx: DecideContext,
): Decision {
  const misdated = changeDateProblem(household, command.addedOn, 'addedOn', ctx.today);
  if (misdated) return misdated;
  if (household.members.length >= registry.householdMembersMax) {
    return reject('household_members_too_many', { max: registry.householdMembersMax });
  }
  if (command.member.relation === 'head') {
    return reject('household_head_ambiguous', { member: null });
  }
  // The one member of the command: its problems say 成员, not 第 1 名成员.
  const problems = memberValidation(command.member, 1, command.addedOn, null);
  if (problems.length > 0) return rejectAll(problems);
  const hash = idNumberHash(normalizedId(command.member), ctx.keyring);
  const owner = ctx.idOwner(hash);
  if (owner !== undefined) {
    const where = { field: 'idNumber', householdId: owner.householdId };
    return rejectAll([
      owner.householdId === household.householdId
        ? problem('id_number_repeated_in_household', { member: null, earlier: owner.memberNo }, where)
        : problem(
            'id_number_registered_in_county',
            { member: null, ownerMemberNo: owner.memberNo, ownerHouseholdId: owner.householdId },
            where,
          ),
    ]);
  }
  const memberNo = Math.max(...household.members.map((m) => m.memberNo)) + 1;
  return ok({
    type: 'MemberAdded',
    data: {
      householdId: household.householdId,
      commandDigest: ctx.commandDigest,
      member: sealMember(command.member, memberNo, ctx.keyring),
      reason: command.reason,
      addedOn: command.addedOn,
      maskingVersion: currentMaskingPolicy.version,
    },
  });
}

function decideDeath(command: Cmd<'record_death'>, household: HouseholdState, ctx: DecideContext): Decision {
  const member = household.members.find((m) => m.memberNo === command.memberNo);
  if (member === undefined) {
    return reject('member_not_found', { householdId: household.householdId, memberNos: [command.memberNo] });
  }
  if (member.deceasedOn !== null) {
    return reject('member_already_deceased', { memberNo: command.memberNo });
  }
  if (Number(command.diedOn.slice(0, 4)) < member.birthYear) {
    return reject('date_before_birth', { memberNo: command.memberNo });
  }
  const misdated = changeDateProblem(household, command.diedOn, 'diedOn', ctx.today);
  if (misdated) return misdated;
  return ok({
    type: 'MemberDeceased',
    data: {
      householdId: household.householdId,
      commandDigest: ctx.commandDigest,
      memberNo: command.memberNo,
      diedOn: command.diedOn,
    },
  });
}

function decideMove(command: Cmd<'move'>, household: HouseholdState, ctx: DecideContext): Decision {
  const problems = villageProblems(command.toVillageCode, ctx.partition, 'toVillageCode');
  if (problems.length > 0) return rejectAll(problems);
  if (command.toVillageCode === household.villageCode) {
    return reject('village_unchanged', {
      householdId: household.householdId,
      villageCode: household.villageCode,
    });
  }
  const misdated = changeDateProblem(household, command.movedOn, 'movedOn', ctx.today);
  if (misdated) return misdated;
  return ok({
    type: 'HouseholdMoved',
    data: {
      householdId: household.householdId,
      commandDigest: ctx.commandDigest,
      fromVillageCode: household.villageCode,
      toVillageCode: command.toVillageCode,
      movedOn: command.movedOn,
    },
  });
}

function decideAccount(
  command: Cmd<'bind_account'>,
  household: HouseholdState,
  ctx: DecideContext,
): Decision {
  const deceased = new Set(household.members.filter((m) => m.deceasedOn !== null).map((m) => m.memberNo));
  const problems = accountProblems(
    command.account,
    household.members.map((m) => m.memberNo),
    deceased,
  );
  if (problems.length > 0) return rejectAll(problems);
  const misdated = changeDateProblem(household, command.on, 'on', ctx.today);
  if (misdated) return misdated;
  const current = household.account;
  if (current !== null) {
    const result = validateBankAccount(command.account.bank, command.account.medium, command.account.number);
    const hash = result.ok ? accountNumberHash(result.number, ctx.keyring) : '';
    if (
      hash === current.accountHash &&
      command.account.holderMemberNo === current.holderMemberNo &&
      command.account.bank === current.bank
    ) {
      return reject('account_unchanged', {});
    }
    if (command.reason === null) {
      return reject('change_reason_required', {});
    }
  }
  const common = { householdId: household.householdId, commandDigest: ctx.commandDigest };
  return ok(
    accountEvent(command.account, current?.accountHash ?? null, command.on, command.reason, common, ctx),
  );
}

function decideExit(command: Cmd<'exit'>, household: HouseholdState, ctx: DecideContext): Decision {
  if (command.exitKind === 'lifted' && household.status === 'lifted') {
    return reject('household_already_lifted', {
      householdId: household.householdId,
      exitedOn: household.exitedOn,
    });
  }
  const misdated = changeDateProblem(household, command.exitedOn, 'exitedOn', ctx.today);
  if (misdated) return misdated;
  return ok({
    type: 'HouseholdExited',
    data: {
      householdId: household.householdId,
      commandDigest: ctx.commandDigest,
      kind: command.exitKind,
      exitedOn: command.exitedOn,
      reason: command.reason,
    },
  });
}

function decideReenter(command: Cmd<'reenter'>, household: HouseholdState, ctx: DecideContext): Decision {
  if (household.status !== 'lifted') {
    return reject('household_not_lifted', { householdId: household.householdId });
  }
  const misdated = changeDateProblem(household, command.reenteredOn, 'reenteredOn', ctx.today);
  if (misdated) return misdated;
  if (household.exitedOn !== null && command.reenteredOn < household.exitedOn) {
    return reject('date_before_exit', { reenteredOn: command.reenteredOn, exitedOn: household.exitedOn });
  }
  return ok({
    type: 'HouseholdReentered',
    data: {
      householdId: household.householdId,
      commandDigest: ctx.commandDigest,
      reenteredOn: command.reenteredOn,
      causeOfPoverty: command.causeOfPoverty,
      reason: command.reason,
    },
  });
}

function decideReveal(command: Cmd<'reveal'>, household: HouseholdState, ctx: DecideContext): Decision {
  const missing = command.memberNos.filter((no) => !household.members.some((m) => m.memberNo === no));
  if (missing.length > 0) {
    return reject('member_not_found', { householdId: household.householdId, memberNos: missing });
  }
  return ok({
    type: 'PersonalDataRevealed',
    data: {
      householdId: household.householdId,
      commandDigest: ctx.commandDigest,
      memberNos: [...new Set(command.memberNos)].sort((a, b) => a - b),
      fields: [...new Set(command.fields)],
      reason: command.reason,
    },
  });
}

/**
 * Erasure destroys the household's own data key. Two refusals keep a promise from being broken:
 * an enrolled household is still paid (its account number is needed until it exits — 脱贫 or 销号 —
 * and keeping it is the statutory basis of the programme), and a household registered before data
 * keys shares its period key with the rest of that period, which no single request can destroy.
 */
function decideErase(command: Cmd<'erase'>, household: HouseholdState, ctx: DecideContext): Decision {
  if (household.status === 'enrolled') {
    return reject('household_still_enrolled', { householdId: household.householdId });
  }
  if (!isDataKeyId(household.keyId)) {
    return reject('household_key_shared', { householdId: household.householdId, keyId: household.keyId });
  }
  const misdated = changeDateProblem(household, command.erasedOn, 'erasedOn', ctx.today);
  if (misdated) return misdated;
  return ok({
    type: 'HouseholdPersonalDataErased',
    data: {
      householdId: household.householdId,
      commandDigest: ctx.commandDigest,
      dataKeyId: household.keyId,
      erasedOn: command.erasedOn,
      reason: command.reason,
    },
  });
}

// ── Results ──

function ok(...events: RegistryEventDraft[]): Decision {
  return { ok: true, events };
}

/** A refusal worded by the catalogue (decision 0131); one problem of the same words unless given. */
function reject<C extends RegistryRejectionCode>(
  code: C,
  args: RegistryRejectionArgs[C],
  problems?: Problem[],
): Decision {
  const message = registryMessage(code, args);
  return { ok: false, rejection: { code, message, problems: problems ?? [{ code, message }] } };
}

/** One problem of a command, worded by the catalogue, with where it is (member, field, reason). */
function problem<C extends RegistryRejectionCode>(
  code: C,
  args: RegistryRejectionArgs[C],
  where: Omit<Problem, 'code' | 'message'> = {},
): Problem {
  return { code, message: registryMessage(code, args), ...where };
}

function rejectAll(problems: Problem[]): Decision {
  const first = problems[0]!;
  const message = problems.length === 1 ? first.message : problemsMessage(problems.length, first.message);
  return { ok: false, rejection: { code: first.code, message, problems } };
}
