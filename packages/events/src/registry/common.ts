import { z } from 'zod';

/**
 * Building blocks of the registry events (households, members, 一卡通 accounts). Personal data never
 * appears in clear: each such field is an AES-256-GCM ciphertext (`…Enc`, see @fundtrace/pii) with a
 * keyed hash (`…Hash`, HMAC-SHA256, for matching) and a masked form (`…Masked`, for display) beside it.
 */

/**
 * 户编号: the household number the poverty registration system (建档立卡) assigned. It is the entity
 * id, so it becomes a subject token: letters, digits, `_` and `-` only. 40 characters hold every
 * numbering seen in the seed counties (up to 20 digits) with room for a prefix.
 */
export const householdIdLengthMax = 40;
export const householdIdSchema = z
  .string()
  .min(1)
  .max(householdIdLengthMax)
  .regex(
    /^[A-Za-z0-9_-]+$/,
    'a household number has letters, digits, "_" and "-" only (it becomes a subject token)',
  );

/**
 * Most members of one household. The largest rural households registered in the seed counties have a
 * dozen people; 30 leaves room for extended families without letting one event grow unbounded.
 */
export const householdMembersMax = 30;

/** Member numbers are given in order and never reused, so a dead member's number stays his. */
export const memberNoSchema = z.number().int().min(1).max(999);

/** Free-text reasons (exit, re-entry, reveal): a sentence a clerk types, not a document. */
export const registryTextLengthMax = 500;
export const registryTextSchema = z
  .string()
  .min(1)
  .max(registryTextLengthMax)
  .refine((text) => text.trim() === text && text !== '', 'must not be blank or padded with spaces');

export const registryDateSchema = z.iso.date();

/** 与户主关系: the relations the 建档立卡 forms use. */
export const relations = [
  'head', // 户主
  'spouse', // 配偶
  'son', // 之子
  'daughter', // 之女
  'daughter_in_law', // 之儿媳
  'son_in_law', // 之女婿
  'grandson', // 之孙子
  'granddaughter', // 之孙女
  'father', // 之父
  'mother', // 之母
  'sibling', // 兄弟姐妹
  'other', // 其他
] as const;
export type Relation = (typeof relations)[number];
export const relationLabels: Readonly<Record<Relation, string>> = {
  head: '户主',
  spouse: '配偶',
  son: '之子',
  daughter: '之女',
  daughter_in_law: '之儿媳',
  son_in_law: '之女婿',
  grandson: '之孙子',
  granddaughter: '之孙女',
  father: '之父',
  mother: '之母',
  sibling: '兄弟姐妹',
  other: '其他',
};

/** 致贫原因 (main cause of poverty), the closed list of the national registration system. */
export const causesOfPoverty = [
  'illness', // 因病
  'disability', // 因残
  'education', // 因学
  'disaster', // 因灾
  'lack_of_land', // 缺土地
  'lack_of_water', // 缺水
  'lack_of_skills', // 缺技术
  'lack_of_labour', // 缺劳力
  'lack_of_capital', // 缺资金
  'poor_transport', // 交通条件落后
  'lack_of_motivation', // 自身发展动力不足
  'other', // 其他
] as const;
export type CauseOfPoverty = (typeof causesOfPoverty)[number];
export const causeOfPovertyLabels: Readonly<Record<CauseOfPoverty, string>> = {
  illness: '因病',
  disability: '因残',
  education: '因学',
  disaster: '因灾',
  lack_of_land: '缺土地',
  lack_of_water: '缺水',
  lack_of_skills: '缺技术',
  lack_of_labour: '缺劳力',
  lack_of_capital: '缺资金',
  poor_transport: '交通条件落后',
  lack_of_motivation: '自身发展动力不足',
  other: '其他',
};

/** 残疾类别 (GB/T 26341-2010) and its grades 一级 (most severe) … 四级. */
export const disabilityCategories = [
  'visual', // 视力
  'hearing', // 听力
  'speech', // 言语
  'physical', // 肢体
  'intellectual', // 智力
  'mental', // 精神
  'multiple', // 多重
] as const;
export type DisabilityCategory = (typeof disabilityCategories)[number];
export const disabilityCategoryLabels: Readonly<Record<DisabilityCategory, string>> = {
  visual: '视力',
  hearing: '听力',
  speech: '言语',
  physical: '肢体',
  intellectual: '智力',
  mental: '精神',
  multiple: '多重',
};
/**
 * Disability is kept in clear (category and grade only): eligibility for the disability allowances
 * (残疾人两项补贴) depends on it and the rules must check it. It is never shown publicly.
 */
export const disabilitySchema = z
  .object({ category: z.enum(disabilityCategories), grade: z.number().int().min(1).max(4) })
  .nullable();

/** 健康状况, the categories of the registration forms; the value itself is stored encrypted. */
export const healthConditions = ['healthy', 'chronic_illness', 'serious_illness', 'disabled'] as const;
export type HealthCondition = (typeof healthConditions)[number];
export const healthConditionLabels: Readonly<Record<HealthCondition, string>> = {
  healthy: '健康',
  chronic_illness: '长期慢性病',
  serious_illness: '患有大病',
  disabled: '残疾',
};

/**
 * 脱贫 (`lifted`: the household left poverty and stays in the register, monitored) or 销号
 * (`removed`: taken off the register — wrongly identified, every member dead, moved away).
 */
export const exitKinds = ['lifted', 'removed'] as const;
export type ExitKind = (typeof exitKinds)[number];

/** How a member joined a registered household. */
export const memberAddedReasons = ['birth', 'marriage', 'adoption', 'return', 'other'] as const;

/** The kinds of personal data a reveal can disclose (the field kinds of @fundtrace/pii). */
export const revealableFields = ['name', 'id_number', 'account_number', 'phone', 'health'] as const;
export type RevealableField = (typeof revealableFields)[number];

/** Bank codes come from reference data (the banks a county pays through); the schema fixes the shape. */
export const bankCodeSchema = z.string().regex(/^[A-Z]{2,8}$/, 'a bank code is 2–8 capital letters');
export const accountMediumSchema = z.enum(['card', 'passbook']);

/**
 * An AES-256-GCM ciphertext with its key id: base64 of a 12-byte IV (16 chars), a 16-byte tag (24
 * chars) and the ciphertext. 1400 base64 characters hold the longest field @fundtrace/pii accepts.
 */
export const encryptedFieldSchema = z.strictObject({
  keyId: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/),
  iv: z.string().regex(/^[A-Za-z0-9+/]{16}$/, 'iv is 12 bytes of base64'),
  ct: z
    .string()
    .max(1400)
    .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'ct is base64'),
  tag: z.string().regex(/^[A-Za-z0-9+/]{22}==$/, 'tag is 16 bytes of base64'),
});
export type EncryptedFieldData = z.output<typeof encryptedFieldSchema>;

/** HMAC-SHA256 as lower-case hex. */
export const piiHashSchema = z.string().regex(/^[0-9a-f]{64}$/, 'a keyed hash is 64 lower-case hex digits');

/**
 * The writer's fingerprint of the command that produced an event: HMAC-SHA256 (the PII hash key,
 * domain `command`) of the command's canonical content. Commands carry personal data, so a plain
 * hash would let anyone confirm a guessed ID number; keyed, it only lets the writer, after a
 * restart, tell a repeated command (same id, same content: the original result) from a reused id
 * with other content (`idempotency_key_reused`), which ARCHITECTURE requires beyond JetStream's
 * duplicate window.
 */
export const commandDigestSchema = z
  .string()
  .regex(/^[0-9a-f]{64}$/, 'a command digest is 64 lower-case hex digits');

/** Masks are short display strings (张*丰, 4101**********1234, ****1234, 138****5678). */
export const maskedSchema = z.string().min(1).max(40);

/** The version of the masking policy the `…Masked` fields were produced with. */
export const maskingVersionSchema = z.number().int().min(1).max(99);

export const memberSchema = z.object({
  memberNo: memberNoSchema,
  relation: z.enum(relations),
  nameEnc: encryptedFieldSchema,
  nameMasked: maskedSchema,
  idNumberEnc: encryptedFieldSchema,
  idNumberHash: piiHashSchema,
  idNumberMasked: maskedSchema,
  /**
   * The birth year only: the full date is inside the ID number, and the date next to the masked
   * number (first 4 and last 4 characters) would leave just two digits to guess.
   */
  birthYear: z.number().int().min(1900).max(2199),
  sex: z.enum(['male', 'female']),
  disability: disabilitySchema,
  healthEnc: encryptedFieldSchema,
});
export type MemberData = z.output<typeof memberSchema>;

export const accountFieldsSchema = z.object({
  bank: bankCodeSchema,
  medium: accountMediumSchema,
  accountEnc: encryptedFieldSchema,
  accountHash: piiHashSchema,
  accountMasked: maskedSchema,
  /** The member who holds the account; payments reach a person, so the holder must be a member. */
  holderMemberNo: memberNoSchema,
});
