import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { ProgrammeRef } from './types';

/**
 * The programme reference data (补助项目: standards, notices, acceptance, purposes) as the ledger
 * publishes it (services/ledger-api/reference/programmes.v<N>.json). The rules read only what they
 * judge by; a purpose that `covers` others may pay whatever those may pay.
 */
const fenText = z
  .string()
  .regex(/^\d{1,18}$/)
  .transform((text) => BigInt(text));

const referenceSchema = z.object({
  version: z.number().int().min(1),
  purposes: z.array(z.object({ code: z.string(), covers: z.array(z.string()) })).max(1_000),
  programmes: z
    .array(
      z.object({
        code: z.string(),
        unit: z.string(),
        standard: z.object({ minFen: fenText.nullable(), maxFen: fenText.nullable() }),
        needsAcceptance: z.boolean(),
        notice: z
          .object({ chain: z.array(z.string()), minDays: z.number() })
          .nullable()
          .optional(),
        purposes: z.array(z.string()).min(1),
      }),
    )
    .max(1_000),
});

export function parseProgrammes(json: unknown): ReadonlyMap<string, ProgrammeRef> {
  const parsed = referenceSchema.parse(json);
  const programmes = new Map<string, ProgrammeRef>();
  for (const p of parsed.programmes) {
    programmes.set(p.code, {
      code: p.code,
      unit: p.unit,
      minFen: p.standard.minFen,
      maxFen: p.standard.maxFen,
      needsAcceptance: p.needsAcceptance,
      needsNotice: p.notice != null && p.notice.chain.length > 0,
      purposes: [...p.purposes],
    });
  }
  return programmes;
}

export function loadProgrammes(file: string): ReadonlyMap<string, ProgrammeRef> {
  return parseProgrammes(JSON.parse(readFileSync(file, 'utf8')));
}
