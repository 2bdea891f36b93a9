import { isAdminCode, levelOf, type registry } from '@fundtrace/events';
import { type BankCode, luhnCheckDigit } from '../bank-account';
import { idCheckCharacter } from '../id-number';
import type { HouseholdInput, MemberInput } from './input';
import { type Random, seededRandom } from './random';

/**
 * Realistic, reproducible households for the demo county and the benchmarks: names drawn from the
 * surnames common in Henan, valid ID numbers (region, birth date, sequence parity, check digit) born
 * in the county, 一卡通 cards with valid Luhn digits, family structures that hang together (a spouse
 * of plausible age, children younger than their parents). The same seed always gives the same data.
 *
 * Township and village codes are plausible, not official: townships follow the NBS numbering habit
 * (1xx for 镇, 2xx for 乡) and villages number from 201 (村委会). 内乡县's township names are real.
 */

export interface Township {
  readonly code: string;
  readonly name: string;
}
export interface Village {
  readonly code: string;
  readonly name: string;
  readonly township: Township;
}

/** 内乡县's sixteen townships (real names; codes assigned as described above). */
const neixiangTownships = [
  '城关镇',
  '夏馆镇',
  '师岗镇',
  '马山口镇',
  '湍东镇',
  '赤眉镇',
  '瓦亭镇',
  '王店镇',
  '灌涨镇',
  '桃溪镇',
  '岞岖镇',
  '余关镇',
  '大桥乡',
  '赵店乡',
  '七里坪乡',
  '板场乡',
] as const;

/** Surnames by rough frequency in rural Henan (weights are relative). */
const surnames: readonly (readonly [string, number])[] = [
  ['王', 10],
  ['李', 9],
  ['张', 9],
  ['刘', 7],
  ['陈', 5],
  ['杨', 4],
  ['赵', 4],
  ['黄', 2],
  ['周', 3],
  ['吴', 2],
  ['徐', 2],
  ['孙', 3],
  ['胡', 2],
  ['朱', 2],
  ['高', 2],
  ['郭', 3],
  ['马', 3],
  ['何', 1],
  ['罗', 1],
  ['梁', 1],
  ['宋', 2],
  ['郑', 2],
  ['谢', 1],
  ['韩', 1],
  ['唐', 1],
  ['冯', 2],
  ['于', 1],
  ['董', 1],
  ['程', 1],
  ['曹', 1],
  ['袁', 1],
  ['邓', 1],
  ['许', 1],
  ['魏', 1],
  ['薛', 1],
  ['闫', 1],
  ['贾', 1],
  ['牛', 1],
  ['岳', 1],
  ['聂', 1],
  ['翟', 1],
  ['姬', 1],
];
const maleGiven =
  '建国军伟强磊勇军杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林洋振海峰国民德志成春保全富贵'.split('');
const femaleGiven = '秀英华玉兰芳娟敏静丽霞燕红艳梅琳娜婷雪倩凤菊桂荣翠花云莲珍香琴'.split('');
const villageRoots = '王李张刘陈杨赵黄周孙马郭宋郑冯'.split('');
const villageSuffixes = [
  '庄',
  '营',
  '沟',
  '河',
  '岭',
  '坪',
  '湾',
  '店',
  '寨',
  '洼',
  '坡',
  '岗',
  '峪',
  '园',
  '桥',
];

/** Other counties of 南阳 (the county's own city), for the few members born elsewhere. */
const neighbouringRegions = ['411302', '411303', '411321', '411322', '411323', '411324', '411326', '411327'];

/** Card BINs of the banks that pay subsidies in rural Henan, by bank. */
const cardBins: Readonly<Partial<Record<BankCode, string>>> = {
  RCC: '622991',
  PSBC: '621799',
  ABC: '622848',
  RCB: '623059',
};
const mobilePrefixes = [
  '130',
  '131',
  '132',
  '133',
  '135',
  '136',
  '137',
  '138',
  '139',
  '150',
  '151',
  '152',
  '155',
  '156',
  '157',
  '158',
  '159',
  '176',
  '177',
  '182',
  '183',
  '185',
  '186',
  '187',
  '188',
  '189',
];

const householdSizes: readonly (readonly [number, number])[] = [
  [1, 12],
  [2, 20],
  [3, 22],
  [4, 22],
  [5, 14],
  [6, 6],
  [7, 3],
  [8, 1],
];
const causes: readonly (readonly [registry.CauseOfPoverty, number])[] = [
  ['illness', 40],
  ['disability', 12],
  ['education', 8],
  ['lack_of_skills', 12],
  ['lack_of_labour', 10],
  ['lack_of_capital', 8],
  ['disaster', 2],
  ['lack_of_land', 3],
  ['lack_of_water', 1],
  ['poor_transport', 1],
  ['lack_of_motivation', 2],
  ['other', 1],
];
const disabilityCategoryWeights: readonly (readonly [registry.DisabilityCategory, number])[] = [
  ['physical', 45],
  ['visual', 15],
  ['hearing', 12],
  ['intellectual', 10],
  ['mental', 10],
  ['speech', 3],
  ['multiple', 5],
];

/** Most households one call generates: a province-sized benchmark set, with memory still bounded. */
export const generateHouseholdsMax = 2_000_000;
/** Villages per township at most (numbers 201–999). */
const villagesPerTownshipMax = 799;

export function townshipsOf(county: string): Township[] {
  assertCounty(county);
  const names: readonly string[] =
    county === '411325' ? neixiangTownships : Array.from({ length: 12 }, (_, i) => `第${i + 1}乡镇`);
  let town = 100;
  let xiang = 200;
  return names.map((name) => ({
    code: county + String(name.endsWith('乡') ? xiang++ : town++).padStart(3, '0'),
    name,
  }));
}

/** `count` villages spread over the county's townships, the same for the same county. */
export function generateVillages(county: string, count: number): Village[] {
  const townships = townshipsOf(county);
  if (!Number.isInteger(count) || count < 1 || count > townships.length * villagesPerTownshipMax) {
    throw new RangeError(
      `village count must be 1–${townships.length * villagesPerTownshipMax}, got ${count}`,
    );
  }
  const random = seededRandom(`villages:${county}`);
  const used = new Set<string>();
  return Array.from({ length: count }, (_, i) => {
    const township = townships[i % townships.length]!;
    const number = 201 + Math.floor(i / townships.length);
    let name: string;
    do {
      name = `${random.pick(villageRoots)}${random.pick(villageSuffixes)}村`;
    } while (used.has(`${township.code}${name}`) && used.size < 10_000);
    used.add(`${township.code}${name}`);
    return { code: township.code + String(number).padStart(3, '0'), name, township };
  });
}

export interface GenerateHouseholdsOptions {
  /** The county partition, e.g. 411325. */
  readonly county: string;
  /** How many villages to spread the households over, or the village codes themselves. */
  readonly villages: number | readonly string[];
  readonly count: number;
  readonly seed: string | number;
  /** Share of households that already left poverty (脱贫), registered with their exit date. */
  readonly liftedShare?: number;
  /** Number the households from here (to add a second batch to a county without clashes). */
  readonly firstNumber?: number;
  /**
   * Region codes the members' ID numbers are drawn from. Default: the county (95%) and its
   * neighbours. IDs are unique within one call; a second batch for the same county gets IDs that
   * cannot clash with the first only if it uses regions the first did not.
   */
  readonly birthRegions?: readonly string[];
}

/**
 * Households ready to be registered (clear text, as staff would enter them). ID numbers are unique
 * across the whole result; household numbers are `<county><8 digits>`.
 */
export function generateHouseholds(options: GenerateHouseholdsOptions): HouseholdInput[] {
  const { county, count, seed } = options;
  assertCounty(county);
  if (!Number.isInteger(count) || count < 0 || count > generateHouseholdsMax) {
    throw new RangeError(`household count must be 0–${generateHouseholdsMax}, got ${count}`);
  }
  const villageCodes =
    typeof options.villages === 'number'
      ? generateVillages(county, options.villages).map((v) => v.code)
      : [...options.villages];
  if (villageCodes.length === 0) throw new RangeError('at least one village is needed');
  const liftedShare = options.liftedShare ?? 0.3;
  const firstNumber = options.firstNumber ?? 1;
  const random = seededRandom(`households:${county}:${seed}`);
  const ids = new Set<string>();
  const regions = options.birthRegions ?? null;
  if (
    regions !== null &&
    (regions.length === 0 || regions.some((r) => !isAdminCode(r) || levelOf(r) !== 'county'))
  ) {
    throw new RangeError('birthRegions must be county codes');
  }
  const households: HouseholdInput[] = [];
  for (let i = 0; i < count; i++) {
    households.push(generateOne(random, county, regions, villageCodes, ids, firstNumber + i, liftedShare));
  }
  return households;
}

function generateOne(
  random: Random,
  county: string,
  regions: readonly string[] | null,
  villages: readonly string[],
  ids: Set<string>,
  number: number,
  liftedShare: number,
): HouseholdInput {
  // 建档立卡 registration ran mainly 2014–2016.
  const registeredOn = isoDate(random.int(2014, 2016), random.int(1, 12), random.int(1, 28));
  const refYear = Number(registeredOn.slice(0, 4));
  const size = random.weighted(householdSizes);
  const surname = random.weighted(surnames);
  const headMale = random.chance(0.8);
  const headAge = size === 1 ? random.int(55, 88) : random.int(28, 75);
  const members: MemberInput[] = [];
  const add = (relation: registry.Relation, male: boolean, age: number, ownSurname: boolean) => {
    const birthYear = Math.max(refYear - age, 1920);
    members.push(
      member(
        random,
        county,
        regions,
        ids,
        relation,
        male,
        birthYear,
        registeredOn,
        ownSurname ? surname : undefined,
      ),
    );
  };
  add('head', headMale, headAge, true);
  if (size >= 2 && random.chance(0.85))
    add('spouse', !headMale, clampAge(headAge + random.int(-5, 5)), false);
  while (members.length < size) {
    const slot = members.length;
    if (slot >= 2 && headAge < 55 && random.chance(0.15)) {
      const male = random.chance(0.5);
      add(male ? 'father' : 'mother', male, clampAge(headAge + random.int(22, 32)), male);
      continue;
    }
    if (headAge >= 58 && slot >= 3 && random.chance(0.5)) {
      const male = random.chance(0.5);
      add(male ? 'grandson' : 'granddaughter', male, random.int(0, Math.max(0, headAge - 45)), true);
      continue;
    }
    const male = random.chance(0.52);
    add(male ? 'son' : 'daughter', male, random.int(0, Math.max(0, headAge - 20)), true);
  }
  const lifted = random.chance(liftedShare);
  const liftedOn = lifted
    ? isoDate(random.int(refYear + 1, 2020), random.int(1, 12), random.int(1, 28))
    : null;
  const holderMemberNo = members.length >= 2 && random.chance(0.1) ? 2 : 1;
  return {
    householdId: `${county}${String(number).padStart(8, '0')}`,
    villageCode: random.pick(villages),
    causeOfPoverty:
      members.some((m) => m.disability) && random.chance(0.5) ? 'disability' : random.weighted(causes),
    registeredOn,
    status: lifted ? 'lifted' : 'enrolled',
    liftedOn,
    phone: random.chance(0.8) ? random.pick(mobilePrefixes) + random.digits(8) : null,
    members,
    account: random.chance(0.95) ? account(random, holderMemberNo) : null,
  };
}

function member(
  random: Random,
  county: string,
  regions: readonly string[] | null,
  ids: Set<string>,
  relation: registry.Relation,
  male: boolean,
  birthYear: number,
  notAfter: string,
  surname: string | undefined,
): MemberInput {
  let birthDate: string;
  let idNumber: string;
  do {
    birthDate = isoDate(birthYear, random.int(1, 12), random.int(1, 28));
    if (birthDate > notAfter) birthDate = notAfter;
    const region =
      regions !== null
        ? random.pick(regions)
        : random.chance(0.95)
          ? county
          : random.pick(neighbouringRegions);
    // Sequence code: two free digits, then one whose parity is the sex (odd for men).
    const parity = male ? random.pick([1, 3, 5, 7, 9]) : random.pick([0, 2, 4, 6, 8]);
    const first17 = region + birthDate.replaceAll('-', '') + random.digits(2) + parity;
    idNumber = first17 + idCheckCharacter(first17);
  } while (ids.has(idNumber));
  ids.add(idNumber);
  const given = male ? maleGiven : femaleGiven;
  const name =
    (surname ?? random.weighted(surnames)) +
    random.pick(given) +
    (random.chance(0.7) ? random.pick(given) : '');
  const disabled = random.chance(0.06);
  const health: registry.HealthCondition = disabled
    ? 'disabled'
    : random.weighted([
        ['healthy', 70],
        ['chronic_illness', 20],
        ['serious_illness', 6],
      ] as const);
  return {
    name,
    idNumber,
    relation,
    birthDate,
    disability: disabled
      ? { category: random.weighted(disabilityCategoryWeights), grade: random.int(1, 4) }
      : null,
    health,
  };
}

function account(random: Random, holderMemberNo: number): NonNullable<HouseholdInput['account']> {
  const bank = random.weighted<BankCode>([
    ['RCC', 45],
    ['PSBC', 25],
    ['ABC', 20],
    ['RCB', 10],
  ]);
  if (random.chance(0.7)) {
    const payload = cardBins[bank]! + random.digits(12);
    return { bank, medium: 'card', number: payload + luhnCheckDigit(payload), holderMemberNo };
  }
  return {
    bank,
    medium: 'passbook',
    number: random.digits(random.int(15, 20)).replace(/^0/, '1'),
    holderMemberNo,
  };
}

function clampAge(age: number): number {
  return Math.min(Math.max(age, 18), 95);
}

function isoDate(year: number, month: number, day: number): string {
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

function assertCounty(county: string): void {
  if (!isAdminCode(county) || levelOf(county) !== 'county') {
    throw new RangeError(`${county} is not a county code`);
  }
}
