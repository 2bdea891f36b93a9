import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ledger } from '@fundtrace/events';
import { fenSchema } from '@fundtrace/money';
import { z } from 'zod';

const codeSchema = ledger.codeSchema;

/**
 * Programmes (补助项目) and purposes (用途) are reference data, not code: standards
 * change by policy document, and an event must stay explainable under the
 * standard it was decided with. The file carries a version; the writer loads it
 * once at start and fails fast on any inconsistency.
 */

/** The file shipped with the service; LEDGER_PROGRAMMES_FILE may point elsewhere. */
export const defaultProgrammesFile = fileURLToPath(
  new URL('../../reference/programmes.v1.json', import.meta.url),
);

/** The units a standard is expressed in; a payment's quantity counts these. */
export const programmeUnits = [
  'household',
  'person',
  'person_month',
  'person_year',
  'household_year',
  'student_year',
  'm2',
] as const;

const purposeSchema = z.object({
  code: codeSchema,
  name: z.string().min(1),
  /** Uses this purpose may also pay for (a general tranche may pay any specific use). */
  covers: z.array(codeSchema),
});

const programmeSchema = z.object({
  code: codeSchema,
  name: z.string().min(1),
  unit: z.enum(programmeUnits),
  /** Per unit. A null bound means the plans set none (e.g. 光伏收益 "≥ 3,000"); the named payment limit still applies. */
  standard: z.object({ minFen: fenSchema.nullable(), maxFen: fenSchema.nullable() }),
  needsAcceptance: z.boolean(),
  /** The notice chain (e.g. 三榜公示: first, second, third) and the shortest period of each notice, in days. */
  notice: z
    .object({ chain: z.array(codeSchema).min(1), minDays: z.number().int().min(1).max(90) })
    .nullable(),
  /** Purposes of money that may pay this programme (专款专用). */
  purposes: z.array(codeSchema).min(1),
  source: z.string().min(1),
});

const fileSchema = z.object({
  $comment: z.string().optional(),
  version: z.number().int().min(1),
  effectiveFrom: z.iso.date(),
  purposes: z.array(purposeSchema).min(1),
  programmes: z.array(programmeSchema).min(1),
});

export type Programme = z.infer<typeof programmeSchema>;
export type Purpose = z.infer<typeof purposeSchema>;

export interface Reference {
  readonly version: number;
  readonly purposes: ReadonlyMap<string, Purpose>;
  readonly programmes: ReadonlyMap<string, Programme>;
  /** True when money of purpose `tranchePurpose` may be used for `use` (专款专用). */
  allows(tranchePurpose: string, use: string): boolean;
}

export class ReferenceDataError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(`Invalid reference data in ${file}:\n- ${problems.join('\n- ')}`);
    this.name = 'ReferenceDataError';
  }
}

/** Builds the reference from already-parsed JSON, listing every problem at once. */
export function buildReference(json: unknown, file = '<inline>'): Reference {
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    throw new ReferenceDataError(
      file,
      parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
  const problems: string[] = [];
  const purposes = new Map<string, Purpose>();
  for (const p of parsed.data.purposes) {
    if (purposes.has(p.code)) problems.push(`purpose ${p.code} is listed twice`);
    purposes.set(p.code, p);
  }
  for (const p of purposes.values()) {
    for (const c of p.covers)
      if (!purposes.has(c)) problems.push(`purpose ${p.code} covers unknown purpose ${c}`);
  }
  const programmes = new Map<string, Programme>();
  for (const prog of parsed.data.programmes) {
    if (programmes.has(prog.code)) problems.push(`programme ${prog.code} is listed twice`);
    programmes.set(prog.code, prog);
    for (const c of prog.purposes) {
      if (!purposes.has(c)) problems.push(`programme ${prog.code} names unknown purpose ${c}`);
    }
    const { minFen, maxFen } = prog.standard;
    if (minFen !== null && maxFen !== null && minFen > maxFen) {
      problems.push(
        `programme ${prog.code}: standard minimum ${minFen} fen is above its maximum ${maxFen} fen`,
      );
    }
    if (prog.notice && new Set(prog.notice.chain).size !== prog.notice.chain.length) {
      problems.push(`programme ${prog.code}: notice chain names a stage twice`);
    }
  }
  if (problems.length > 0) throw new ReferenceDataError(file, problems);

  // Precomputed so the hot path (every roster row) is one Set lookup.
  const allowed = new Map<string, Set<string>>();
  for (const p of purposes.values()) allowed.set(p.code, new Set([p.code, ...p.covers]));
  return Object.freeze({
    version: parsed.data.version,
    purposes,
    programmes,
    allows: (tranchePurpose: string, use: string) => allowed.get(tranchePurpose)?.has(use) ?? false,
  });
}

export function loadReference(file: string = defaultProgrammesFile): Reference {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ReferenceDataError(file, [`cannot read the file as JSON: ${(error as Error).message}`]);
  }
  return buildReference(json, file);
}
