import { readFileSync } from 'node:fs';
import { isAdminCode, levelOf, parentOf, townshipCodeProblem, villageCodeProblem } from '@fundtrace/events';
import { z } from 'zod';

/**
 * The five levels a reader walks: province → city → county → township → village. Provinces,
 * cities and counties have books (partitions); townships and villages live in their county's
 * books and are found through village codes (统计用区划代码, 9 and 12 digits).
 */
export type RegionLevel = 'central' | 'province' | 'city' | 'county' | 'township' | 'village';

export const levelLabels: Readonly<Record<RegionLevel, string>> = {
  central: '中央',
  province: '省',
  city: '市',
  county: '县',
  township: '乡镇',
  village: '村',
};

/** The level of a 6-, 9- or 12-digit code, or undefined when it is none of them. */
export function regionLevel(code: string): RegionLevel | undefined {
  if (code.length === 6) return isAdminCode(code) ? levelOf(code) : undefined;
  if (code.length === 9) return townshipCodeProblem(code) === undefined ? 'township' : undefined;
  if (code.length === 12) return villageCodeProblem(code) === undefined ? 'village' : undefined;
  return undefined;
}

/** The county whose books hold a county, township or village code. */
export function countyOf(code: string): string {
  return code.slice(0, 6);
}

/** The region directly above: village → township → county → city → province → central. */
export function regionParent(code: string): string | undefined {
  if (code.length === 12) return code.slice(0, 9);
  if (code.length === 9) return code.slice(0, 6);
  return parentOf(code);
}

/** The chain from the top down to `code`, for the breadcrumb. */
export function regionChain(code: string): string[] {
  const chain: string[] = [];
  for (let c: string | undefined = code; c !== undefined; c = regionParent(c)) chain.unshift(c);
  return chain;
}

/**
 * Names of the seed areas (docs: DOMAIN.md, "Administrative codes"). The books carry codes only;
 * township and village names come from a gazetteer file (NOTICE_GAZETTEER_FILE) the county
 * maintains, since GB/T 2260 stops at the county.
 */
const seedNames: Readonly<Record<string, string>> = {
  '000000': '中央',
  '410000': '河南省',
  '410300': '洛阳市',
  '410322': '孟津县',
  '410323': '新安县',
  '410324': '栾川县',
  '410325': '嵩县',
  '410326': '汝阳县',
  '410327': '宜阳县',
  '410328': '洛宁县',
  '410329': '伊川县',
  '410381': '偃师市',
  '411300': '南阳市',
  '411325': '内乡县',
  '411200': '三门峡市',
  '411221': '渑池县',
  '430000': '湖南省',
  '430600': '岳阳市',
  '430626': '平江县',
  '370000': '山东省',
  '370400': '枣庄市',
};

/** Most names a gazetteer file may hold: a province's villages, with room to spare. */
export const gazetteerEntriesMax = 200_000;

const gazetteerSchema = z
  .record(z.string().regex(/^[0-9]{6}([0-9]{3}){0,2}$/), z.string().min(1).max(40))
  .refine((r) => Object.keys(r).length <= gazetteerEntriesMax, `at most ${gazetteerEntriesMax} entries`);

export interface Gazetteer {
  /** The region's name, or a label made of its level and code when no name is known. */
  name(code: string): string;
}

export function gazetteer(extra: Readonly<Record<string, string>> = {}): Gazetteer {
  const names = new Map<string, string>([...Object.entries(seedNames), ...Object.entries(extra)]);
  return {
    name(code) {
      const known = names.get(code);
      if (known !== undefined) return known;
      const level = regionLevel(code);
      return level === undefined ? code : `${levelLabels[level]} ${code}`;
    },
  };
}

/** Reads a gazetteer file (JSON object: code → name); throws with the file name on any problem. */
export function loadGazetteer(file: string | undefined): Gazetteer {
  if (file === undefined) return gazetteer();
  const parsed = gazetteerSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    throw new Error(`gazetteer ${file}: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  }
  return gazetteer(parsed.data);
}
