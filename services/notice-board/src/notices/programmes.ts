import { readFileSync } from 'node:fs';
import { ledger } from '@fundtrace/events';
import { z } from 'zod';
import { noticeMinDaysDefault } from './period';

/**
 * Programme names, purpose names and notice minimums, read from the reference data file the ledger
 * decides with (services/ledger-api/reference/programmes.v*.json, or NOTICE_PROGRAMMES_FILE): the
 * board shows the same minimum the writer enforces, and a project's 类别 (a purpose code such as
 * `infrastructure`) by its Chinese name. Only the fields the board needs are read.
 */
const fileSchema = z.object({
  version: z.number().int().min(1),
  programmes: z
    .array(
      z.object({
        code: z.string().min(1),
        name: z.string().min(1),
        notice: z.object({ minDays: z.number().int().min(1).max(90) }).nullable(),
      }),
    )
    .max(1_000),
  purposes: z
    .array(z.object({ code: z.string().min(1), name: z.string().min(1) }))
    .max(1_000)
    .default([]),
});

export interface Programmes {
  readonly version: number;
  name(code: string): string;
  /** A purpose (用途) or project category by its Chinese name; an unknown code as it is. */
  purposeName(code: string): string;
  /** The shortest period of this programme's notices; the default for unknown or none. */
  minDays(code: string | null): number;
}

export function programmesFrom(json: unknown): Programmes {
  const parsed = fileSchema.parse(json);
  const byCode = new Map(parsed.programmes.map((p) => [p.code, p]));
  const purposes = new Map(parsed.purposes.map((p) => [p.code, ledger.purposeDisplayName(p.name)]));
  return {
    version: parsed.version,
    name: (code) => byCode.get(code)?.name ?? code,
    purposeName: (code) => purposes.get(code) ?? code,
    minDays: (code) =>
      code === null ? noticeMinDaysDefault : (byCode.get(code)?.notice?.minDays ?? noticeMinDaysDefault),
  };
}

export function loadProgrammes(file: string): Programmes {
  return programmesFrom(JSON.parse(readFileSync(file, 'utf8')));
}
