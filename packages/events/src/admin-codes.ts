import { z } from 'zod';

/**
 * Administrative division codes (行政区划代码, GB/T 2260): six digits, two for the
 * province, two for the city (地级), two for the county (县级). A partition is
 * keyed by one of them; `000000` stands for the central government, which
 * GB/T 2260 does not number.
 */
export type AdminLevel = 'central' | 'province' | 'city' | 'county';

export const centralCode = '000000';

/**
 * The 34 province-level prefixes of GB/T 2260: 北京 11 … 内蒙古 15, 辽宁 21 … 黑龙江 23,
 * 上海 31 … 山东 37, 河南 41 … 海南 46, 重庆 50 … 西藏 54, 陕西 61 … 新疆 65,
 * 台湾 71, 香港 81, 澳门 82. Any other prefix is a typo, not a new province.
 */
export const provincePrefixes: readonly string[] = Object.freeze([
  '11',
  '12',
  '13',
  '14',
  '15',
  '21',
  '22',
  '23',
  '31',
  '32',
  '33',
  '34',
  '35',
  '36',
  '37',
  '41',
  '42',
  '43',
  '44',
  '45',
  '46',
  '50',
  '51',
  '52',
  '53',
  '54',
  '61',
  '62',
  '63',
  '64',
  '65',
  '71',
  '81',
  '82',
]);
const provincePrefixSet = new Set(provincePrefixes);

/**
 * 直辖市 (Beijing, Tianjin, Shanghai, Chongqing): the city digits (01 市辖区, 02 县)
 * are a grouping, not a level of government with its own books, so a county's
 * parent is the municipality itself.
 */
const municipalityPrefixes = new Set(['11', '12', '31', '50']);

/**
 * City digits `90` group 省直辖县级行政区划 (e.g. 济源 419001, 仙桃 429004): counties the
 * province administers directly, with no city above them.
 */
const provinceAdministeredCityDigits = '90';

const sixDigits = /^[0-9]{6}$/;

/** Why `code` is not a structurally valid administrative code, or undefined when it is. */
export function adminCodeProblem(code: string): string | undefined {
  if (!sixDigits.test(code)) return `administrative code must be 6 digits, got "${clip(code)}"`;
  if (code === centralCode) return undefined;
  const province = code.slice(0, 2);
  const city = code.slice(2, 4);
  const county = code.slice(4, 6);
  if (!provincePrefixSet.has(province)) {
    return `administrative code ${code} has no province ${province} (GB/T 2260 province codes are 11–82)`;
  }
  if (city === '00' && county !== '00') {
    return `administrative code ${code} names a county without a city (city digits 00, county digits ${county})`;
  }
  return undefined;
}

export function isAdminCode(code: string): boolean {
  return adminCodeProblem(code) === undefined;
}

/** A partition key: `000000` (central) or a GB/T 2260 code with a real province prefix. */
export const adminCodeSchema = z.string().check((ctx) => {
  const problem = adminCodeProblem(ctx.value);
  if (problem !== undefined) ctx.issues.push({ code: 'custom', message: problem, input: ctx.value });
});

function assertAdminCode(code: string): void {
  const problem = adminCodeProblem(code);
  if (problem !== undefined) throw new RangeError(problem);
}

export function levelOf(code: string): AdminLevel {
  assertAdminCode(code);
  if (code === centralCode) return 'central';
  if (code.endsWith('0000')) return 'province';
  if (code.endsWith('00')) return 'city';
  return 'county';
}

/**
 * The level whose books sit directly above `code`'s: county → city → province →
 * central. Counties of a 直辖市 and 省直辖县 answer to the province. Central has
 * no parent (undefined).
 */
export function parentOf(code: string): string | undefined {
  const level = levelOf(code);
  const province = `${code.slice(0, 2)}0000`;
  switch (level) {
    case 'central':
      return undefined;
    case 'province':
      return centralCode;
    case 'city':
      return province;
    case 'county': {
      const city = code.slice(2, 4);
      if (municipalityPrefixes.has(code.slice(0, 2)) || city === provinceAdministeredCityDigits)
        return province;
      return `${code.slice(0, 4)}00`;
    }
  }
}

/** The chain from `code` up to central, `code` first: 411325 → 411300 → 410000 → 000000. */
export function ancestorsOf(code: string): string[] {
  const chain = [code];
  for (let parent = parentOf(code); parent !== undefined; parent = parentOf(parent)) chain.push(parent);
  return chain;
}

/** True when `code` is `ancestor` or lies below it (a county is within its city, province and central). */
export function isWithin(code: string, ancestor: string): boolean {
  return ancestorsOf(code).includes(ancestor);
}

// ── Township and village codes (统计用区划代码, National Bureau of Statistics) ──
//
// The NBS extends the six county digits with three for the township (乡镇街道,
// 001–999) and three for the village or neighbourhood committee (村/居委会,
// 001–999). GB/T 2260 stops at the county, so these are the only codes villages
// have; `000` is never a township or village number.

const townshipPattern = /^[0-9]{9}$/;
const villagePattern = /^[0-9]{12}$/;

function countyPartProblem(code: string, what: string): string | undefined {
  const county = code.slice(0, 6);
  const problem = adminCodeProblem(county);
  if (problem !== undefined) return `${what} ${code}: ${problem}`;
  if (levelOf(county) !== 'county') {
    return `${what} ${code} must start with a county code, but ${county} is a ${levelOf(county)} code`;
  }
  return undefined;
}

export function townshipCodeProblem(code: string): string | undefined {
  if (!townshipPattern.test(code)) return `township code must be 9 digits, got "${clip(code)}"`;
  const county = countyPartProblem(code, 'township code');
  if (county !== undefined) return county;
  if (code.slice(6, 9) === '000') return `township code ${code} has township number 000`;
  return undefined;
}

export function villageCodeProblem(code: string): string | undefined {
  if (!villagePattern.test(code)) return `village code must be 12 digits, got "${clip(code)}"`;
  const township = townshipCodeProblem(code.slice(0, 9));
  if (township !== undefined) return `village code ${code}: ${township}`;
  if (code.slice(9, 12) === '000') return `village code ${code} has village number 000`;
  return undefined;
}

/** 乡镇街道 code: a county code followed by a three-digit township number (not 000). */
export const townshipCodeSchema = z.string().check((ctx) => {
  const problem = townshipCodeProblem(ctx.value);
  if (problem !== undefined) ctx.issues.push({ code: 'custom', message: problem, input: ctx.value });
});

/** 村/居委会 code: a township code followed by a three-digit village number (not 000). */
export const villageCodeSchema = z.string().check((ctx) => {
  const problem = villageCodeProblem(ctx.value);
  if (problem !== undefined) ctx.issues.push({ code: 'custom', message: problem, input: ctx.value });
});

/** The township (9 digits) a village belongs to. */
export function townshipOf(villageCode: string): string {
  const problem = villageCodeProblem(villageCode);
  if (problem !== undefined) throw new RangeError(problem);
  return villageCode.slice(0, 9);
}

/** The county (6 digits, the partition whose books hold it) of a township or village code. */
export function countyOf(code: string): string {
  const problem = code.length === 9 ? townshipCodeProblem(code) : villageCodeProblem(code);
  if (problem !== undefined) throw new RangeError(problem);
  return code.slice(0, 6);
}

// ── The seed areas (DOMAIN.md) ──

export interface AreaName {
  readonly code: string;
  readonly name: string;
  /** False for codes we assigned ourselves because GB/T 2260 has none (see docs/decisions/0020). */
  readonly official: boolean;
}

/**
 * 枣庄高新区 (Zaozhuang high-tech zone) is a functional zone, not an administrative
 * division, so GB/T 2260 gives it no code, yet its poverty-alleviation plan keeps
 * its own books. 370471: inside 枣庄 370400's range (whose GB/T 2260 codes are
 * 370402–370406 and 370481), in the 71–79 block that no city's counties reach
 * and that the NBS statistical codes use for development zones. See docs/decisions/0020-local-admin-codes.md.
 */
export const zaozhuangHighTechZoneCode = '370471';

const areaList: readonly AreaName[] = [
  { code: centralCode, name: '中央', official: true },
  { code: '410000', name: '河南省', official: true },
  { code: '410300', name: '洛阳市', official: true },
  { code: '410322', name: '孟津县', official: true },
  { code: '410323', name: '新安县', official: true },
  { code: '410324', name: '栾川县', official: true },
  { code: '410325', name: '嵩县', official: true },
  { code: '410326', name: '汝阳县', official: true },
  { code: '410327', name: '宜阳县', official: true },
  { code: '410328', name: '洛宁县', official: true },
  { code: '410329', name: '伊川县', official: true },
  { code: '410381', name: '偃师市', official: true },
  { code: '411200', name: '三门峡市', official: true },
  { code: '411221', name: '渑池县', official: true },
  { code: '411300', name: '南阳市', official: true },
  { code: '411325', name: '内乡县', official: true },
  { code: '430000', name: '湖南省', official: true },
  { code: '430600', name: '岳阳市', official: true },
  { code: '430626', name: '平江县', official: true },
  { code: '370000', name: '山东省', official: true },
  { code: '370400', name: '枣庄市', official: true },
  { code: zaozhuangHighTechZoneCode, name: '枣庄高新技术产业开发区', official: false },
];

/** Names of the seed areas, by code. Not a full GB/T 2260 table: names are display data, not rules. */
export const seedAreas: ReadonlyMap<string, AreaName> = new Map(areaList.map((area) => [area.code, area]));

function clip(text: string): string {
  const shown = 20;
  return text.length > shown ? `${text.slice(0, shown)}… (${text.length} characters)` : text;
}
