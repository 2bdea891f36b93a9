import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { isAdminCode, levelOf, townshipCodeProblem, villageCodeProblem } from './admin-codes';

/**
 * Names of places for readers: the books carry codes only (GB/T 2260 for partitions, 统计用区划代码
 * for townships and villages), and a page or a report a person reads shows names. Shared by the
 * notice board and audit-api's reports (旬报), so one gazetteer file names a township the same way
 * on the public board and in an inspector's spreadsheet.
 */

/** The levels a code may name: the partitions' four and, inside a county, townships and villages. */
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

/**
 * Names of the seed areas (docs: DOMAIN.md, "Administrative codes"). Township and village names
 * come from a gazetteer file the county maintains, since GB/T 2260 stops at the county.
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

/** Longest place name a gazetteer entry may give. */
export const gazetteerNameCharsMax = 40;

const gazetteerSchema = z
  .record(
    z.string().regex(/^[0-9]{6}([0-9]{3}){0,2}$/, 'a code is 6, 9 or 12 digits (县, 乡镇 or 村)'),
    z
      .string()
      .min(1, 'the name is empty')
      .max(gazetteerNameCharsMax, `the name is longer than ${gazetteerNameCharsMax} characters`),
  )
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

/**
 * Reads a gazetteer file (JSON object: code → name); throws with the file name and, for a bad
 * entry, its code, so whoever keeps the file can find the line to mend.
 */
export function loadGazetteer(file: string | undefined): Gazetteer {
  if (file === undefined) return gazetteer();
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    throw new Error(`gazetteer ${file}: not JSON (${error.message})`);
  }
  const parsed = gazetteerSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      const detail = i.code === 'invalid_key' ? i.issues.map((k) => k.message).join(', ') : i.message;
      return i.path.length > 0 ? `"${String(i.path[0])}": ${detail}` : detail;
    });
    throw new Error(`gazetteer ${file}: ${problems.join('; ')}`);
  }
  return gazetteer(parsed.data);
}
