import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { ProgrammeRef, PurposeRef, RuleReference } from './types';

/**
 * The programme reference data (补助项目: standards, notices, acceptance, purposes) as the ledger
 * publishes it (services/ledger-api/reference/programmes.v<N>.json). The rules read only what they
 * judge by, and the names of programmes and purposes that summaries show in place of their codes;
 * a purpose that `covers` others may pay whatever those may pay.
 */
const fenText = z
  .string()
  .regex(/^\d{1,18}$/)
  .transform((text) => BigInt(text));

const referenceSchema = z.object({
  version: z.number().int().min(1),
  purposes: z
    .array(z.object({ code: z.string(), name: z.string().min(1), covers: z.array(z.string()) }))
    .max(1_000),
  programmes: z
    .array(
      z.object({
        code: z.string(),
        name: z.string().min(1),
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

export function parseReference(json: unknown): RuleReference {
  const parsed = referenceSchema.parse(json);
  const purposes = new Map<string, PurposeRef>();
  for (const p of parsed.purposes) purposes.set(p.code, { code: p.code, name: p.name });
  const programmes = new Map<string, ProgrammeRef>();
  for (const p of parsed.programmes) {
    programmes.set(p.code, {
      code: p.code,
      name: p.name,
      unit: p.unit,
      minFen: p.standard.minFen,
      maxFen: p.standard.maxFen,
      needsAcceptance: p.needsAcceptance,
      needsNotice: p.notice != null && p.notice.chain.length > 0,
      purposes: [...p.purposes],
    });
  }
  return { programmes, purposes };
}

export function loadReference(file: string): RuleReference {
  return parseReference(JSON.parse(readFileSync(file, 'utf8')));
}
