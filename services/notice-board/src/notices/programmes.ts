import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { noticeMinDaysDefault } from './period';

/**
 * Programme names and notice minimums, read from the reference data file the ledger decides with
 * (services/ledger-api/reference/programmes.v*.json, or NOTICE_PROGRAMMES_FILE): the board shows
 * the same minimum the writer enforces. Only the fields the board needs are read.
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
});

export interface Programmes {
  readonly version: number;
  name(code: string): string;
  /** The shortest period of this programme's notices; the default for unknown or none. */
  minDays(code: string | null): number;
}

export function programmesFrom(json: unknown): Programmes {
  const parsed = fileSchema.parse(json);
  const byCode = new Map(parsed.programmes.map((p) => [p.code, p]));
  return {
    version: parsed.version,
    name: (code) => byCode.get(code)?.name ?? code,
    minDays: (code) =>
      code === null ? noticeMinDaysDefault : (byCode.get(code)?.notice?.minDays ?? noticeMinDaysDefault),
  };
}

export function loadProgrammes(file: string): Programmes {
  return programmesFrom(JSON.parse(readFileSync(file, 'utf8')));
}
