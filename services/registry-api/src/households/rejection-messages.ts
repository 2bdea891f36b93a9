import type { AccountProblem, IdNumberProblem, PhoneProblem } from '@fundtrace/pii';
import type { RegistryRejectionCode } from './rejections';

/**
 * How the registry words each refusal, in Chinese, for the clerk (乡村振兴局 / 乡镇) who must act
 * on it: what was refused, the household and member numbers and dates involved, and what to do
 * (decision 0131, as ledger-api's). One entry per RegistryRejectionCode; the decider names the
 * code and hands over the facts. Codes, `problems[].code/field/reason` and details are the API's
 * contract and do not depend on these words. Never personal data: no ID number, name, phone or
 * account number, not even in part; household ids and member numbers only.
 */

/** Which member a problem is about, when the command names several (registration, import). */
const ofMember = (member: number | null) => (member === null ? '' : `第 ${member} 名成员的`);

const idNumberReasons: Readonly<Record<IdNumberProblem, string>> = {
  length: '位数不对（应为 18 位）',
  characters: '含有数字和末位 X 以外的字符',
  region: '前 6 位不是有效的行政区划代码',
  birth_date: '其中的出生日期不是有效日期',
  check_digit: '校验位不对（可能有数字录错）',
};

const phoneReasons: Readonly<Record<PhoneProblem, string>> = {
  characters: '只能由数字组成',
  length: '位数不对（手机号 11 位，带区号的固话 10–12 位）',
  prefix: '开头不对（手机号以 13–19 开头，固话以区号 0 开头）',
};

const accountReasons: Readonly<Record<AccountProblem, string>> = {
  unknown_bank: '开户银行代码不在支持的银行列表中',
  unknown_medium: '账户介质只能是银行卡或存折',
  characters: '账号只能由数字组成',
  length: '账号位数不对（卡号 16–19 位，存折 10–25 位）',
  luhn: '卡号校验位不对（可能有数字录错）',
};

/** What each refusal's message is made of. */
export interface RegistryRejectionArgs {
  household_already_registered: { householdId: string };
  household_not_registered:
    | { case: 'household'; householdId: string; partition: string | null }
    | { case: 'id_number' };
  household_removed: { householdId: string };
  household_erased: { householdId: string; erasedOn: string };
  household_still_enrolled: { householdId: string };
  household_key_shared: { householdId: string; keyId: string };
  household_already_lifted: { householdId: string; exitedOn: string | null };
  household_not_lifted: { householdId: string };
  id_number_invalid: { member: number | null; reason: IdNumberProblem };
  id_number_registered_in_county: {
    member: number | null;
    ownerMemberNo: number;
    ownerHouseholdId: string;
  };
  id_number_repeated_in_household: { member: number | null; earlier: number };
  birth_date_mismatch: { member: number | null };
  member_name_invalid: { member: number | null };
  household_head_missing: Record<string, never>;
  household_head_ambiguous: { member: number | null };
  household_members_too_many: { max: number };
  village_code_invalid: { code: string };
  village_outside_partition: { code: string; partition: string };
  village_unchanged: { householdId: string; villageCode: string };
  account_invalid: { reason: AccountProblem };
  account_holder_not_member: { holderMemberNo: number };
  account_holder_deceased: { holderMemberNo: number };
  account_unchanged: Record<string, never>;
  change_reason_required: Record<string, never>;
  phone_invalid: { reason: PhoneProblem };
  lifted_date_required: Record<string, never>;
  lifted_date_not_allowed: Record<string, never>;
  date_before_registration:
    | { case: 'lifted' }
    | { case: 'change'; label: string; date: string; registeredOn: string };
  date_in_future: { label: string; date: string; today: string };
  date_before_birth: { memberNo: number };
  date_before_exit: { reenteredOn: string; exitedOn: string };
  member_not_found: { householdId: string; memberNos: readonly number[] };
  member_already_deceased: { memberNo: number };
  import_rows_invalid: { count: number };
  import_not_found: { importId: string };
  partition_not_served: { partition: string };
  projection_behind: { partition: string; projected: number; minSeq: number };
  sequence_not_written: { partition: string; lastSeq: number; minSeq: number };
  idempotency_key_reused: { commandId: string };
}

/** Every code's wording; a code without one does not compile (and the catalogue test says which). */
export const registryMessages: {
  readonly [C in RegistryRejectionCode]: (a: RegistryRejectionArgs[C]) => string;
} = {
  household_already_registered: (a) => `户编号 ${a.householdId} 已登记；新的户请另编户编号。`,
  household_not_registered: (a) =>
    a.case === 'household'
      ? `户 ${a.householdId} 未在${a.partition === null ? '' : ` ${a.partition} `}登记库中登记；请核对户编号。`
      : '本县登记库中没有持有该身份证号码的户；请核对号码。',
  household_removed: (a) => `户 ${a.householdId} 已从登记库销号；不能再变更。`,
  household_erased: (a) => `户 ${a.householdId} 的个人信息已于 ${a.erasedOn} 删除；不能再变更或查看。`,
  household_still_enrolled: (a) =>
    `户 ${a.householdId} 仍在册并在领取补助；请先登记退出（脱贫或销号），再删除其个人信息。`,
  household_key_shared: (a) =>
    `户 ${a.householdId} 登记于按户密钥启用之前，使用时段密钥 ${a.keyId}；只能连同该时段所有户一起销毁该密钥来删除（见决定 0040）。`,
  household_already_lifted: (a) =>
    `户 ${a.householdId} 已脱贫${a.exitedOn === null ? '' : `（${a.exitedOn}）`}；无需再次登记脱贫。`,
  household_not_lifted: (a) => `户 ${a.householdId} 尚未脱贫；只有已脱贫的户才能登记返贫。`,
  id_number_invalid: (a) =>
    `${ofMember(a.member)}身份证号码${idNumberReasons[a.reason] ?? '无效'}；请核对号码。`,
  id_number_registered_in_county: (a) =>
    `${ofMember(a.member)}身份证号码已登记为本县户 ${a.ownerHouseholdId} 的第 ${a.ownerMemberNo} 名成员；同一人不能重复登记。`,
  id_number_repeated_in_household: (a) =>
    `${ofMember(a.member)}身份证号码与本户第 ${a.earlier} 名成员相同；每名成员只登记一次。`,
  birth_date_mismatch: (a) => `${ofMember(a.member)}出生日期与身份证号码中的出生日期不一致；请核对。`,
  member_name_invalid: (a) => `${ofMember(a.member)}姓名为空或含有数字、控制字符；请填写姓名。`,
  household_head_missing: () => '一户须有且只有一名户主；本户没有填写户主。',
  household_head_ambiguous: (a) =>
    a.member === null
      ? '本户已有户主；新增成员不能再是户主。'
      : `一户只能有一名户主；第 ${a.member} 名成员也填成了户主。`,
  household_members_too_many: (a) => `一户最多 ${a.max} 名成员；请核对成员名单。`,
  village_code_invalid: (a) =>
    `村代码 ${a.code} 不是有效的村级行政区划代码（12 位数字，乡镇号、村号不为 000）；请核对。`,
  village_outside_partition: (a) => `村 ${a.code} 不在本县 ${a.partition}；请核对村代码。`,
  village_unchanged: (a) => `户 ${a.householdId} 已在村 ${a.villageCode}；无需迁移。`,
  account_invalid: (a) => `一卡通账户无效：${accountReasons[a.reason] ?? a.reason}；请核对。`,
  account_holder_not_member: (a) =>
    `一卡通持卡人（第 ${a.holderMemberNo} 名成员）不是本户成员；请填写本户成员的编号。`,
  account_holder_deceased: (a) =>
    `一卡通持卡人（第 ${a.holderMemberNo} 名成员）已登记死亡；请改由在世成员持卡。`,
  account_unchanged: () => '本户已绑定该一卡通账户和持卡人；无需变更。',
  change_reason_required: () => '变更已绑定的一卡通账户须填写原因（如卡丢失、换银行、换持卡人）。',
  phone_invalid: (a) => `联系电话${phoneReasons[a.reason] ?? '无效'}；请核对。`,
  lifted_date_required: () => '登记为已脱贫的户须填写脱贫日期。',
  lifted_date_not_allowed: () => '填写了脱贫日期，但状态不是已脱贫；请核对状态或删去脱贫日期。',
  date_before_registration: (a) =>
    a.case === 'lifted'
      ? '脱贫日期早于建档日期；请核对两个日期。'
      : `${a.label} ${a.date} 早于该户建档日期（${a.registeredOn}）；请核对日期。`,
  date_in_future: (a) => `${a.label} ${a.date} 晚于今天（${a.today}）；请核对日期。`,
  date_before_birth: (a) => `第 ${a.memberNo} 名成员的死亡日期早于其出生年份；请核对日期。`,
  date_before_exit: (a) => `返贫日期 ${a.reenteredOn} 早于退出日期 ${a.exitedOn}；请核对日期。`,
  member_not_found: (a) => `户 ${a.householdId} 没有第 ${a.memberNos.join('、')} 名成员；请核对成员编号。`,
  member_already_deceased: (a) => `第 ${a.memberNo} 名成员已登记死亡；无需再次登记。`,
  import_rows_invalid: (a) => `文件中有 ${a.count} 处问题，未导入任何内容；请改正后重新导入。`,
  import_not_found: (a) => `没有编号为 ${a.importId} 的导入；请核对导入编号。`,
  partition_not_served: (a) =>
    `本服务不管理 ${a.partition} 的登记库；请核对县代码，或改用管理该县的服务地址。`,
  projection_behind: (a) =>
    `${a.partition} 登记库的查询数据已更新到序号 ${a.projected}，尚未到 ${a.minSeq}；请稍后重试。`,
  sequence_not_written: (a) =>
    `${a.partition} 登记库只写到序号 ${a.lastSeq}，没有序号 ${a.minSeq}；请核对序号。`,
  idempotency_key_reused: (a) =>
    `指令编号 ${a.commandId} 已用于另一条内容不同的指令；新的指令请生成新的编号。`,
};

/** The message of a refusal: the code's wording applied to its facts. */
export function registryMessage<C extends RegistryRejectionCode>(
  code: C,
  args: RegistryRejectionArgs[C],
): string {
  // Indexing the mapped type with a generic code is one function per code to TypeScript; the
  // signature above already ties `args` to `code`.
  const wording = registryMessages[code] as unknown as (a: unknown) => string;
  return wording(args);
}

/** A refusal of several problems, named by its first (the list is in `problems`). */
export function problemsMessage(count: number, first: string): string {
  return `共 ${count} 处问题，第一处：${first}`;
}
