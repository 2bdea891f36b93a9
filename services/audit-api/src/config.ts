import { fileURLToPath } from 'node:url';
import { isAdminCode } from '@fundtrace/events';
import { NoteError, type NoteVerifier, parseVerifierKey } from '@fundtrace/merkle';
import { commonEnv, loadConfigWith, port, streamWriterEnv } from '@fundtrace/service-kit';
import { z } from 'zod';

/** Most partitions one audit-api instance writes AUDIT streams for; each keeps its findings in memory. */
export const partitionsPerInstanceMax = 64;

/**
 * How often the rules run over every partition by default: hourly. The books change by rosters and
 * allocations a few times a day; a warning an hour late is still news, and a run reads a whole
 * county's books.
 */
export const rulesIntervalMsDefault = 60 * 60 * 1000;
/** Below a minute, runs would queue behind each other on a county of any size. */
export const rulesIntervalMsMin = 60_000;

/** The ledger's programme reference data (standards, notices, purposes), read as data. */
export const defaultProgrammesFile = fileURLToPath(
  new URL('../../ledger-api/reference/programmes.v1.json', import.meta.url),
);

const partitions = z
  .string()
  .default('411325')
  .transform((text, ctx) => {
    const codes = [
      ...new Set(
        text
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== ''),
      ),
    ];
    for (const code of codes) {
      if (!isAdminCode(code))
        ctx.addIssue({ code: 'custom', message: `${code} is not an administrative code` });
    }
    if (codes.length === 0 || codes.length > partitionsPerInstanceMax) {
      ctx.addIssue({ code: 'custom', message: `list 1–${partitionsPerInstanceMax} partition codes` });
    }
    return codes;
  });

/** Per-rule parameter overrides as JSON, e.g. `{"idle_funds":{"idleDaysMax":90}}`; amounts in fen as strings. */
const ruleParams = z
  .string()
  .default('{}')
  .transform((text, ctx) => {
    try {
      const parsed = JSON.parse(text) as unknown;
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new Error('not an object');
      return parsed as Record<string, Record<string, unknown>>;
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: `must be a JSON object: ${(error as Error).message}` });
      return z.NEVER;
    }
  });

export const auditEnv = z.object({
  ...commonEnv,
  /** STREAM_REPLICAS: replicas of the AUDIT streams it creates or verifies (3 on a JetStream cluster). */
  ...streamWriterEnv,
  PORT: port(4105),
  /** Partitions whose AUDIT_<code> stream this instance writes (single writer per stream) and whose rules it runs. */
  AUDIT_PARTITIONS: partitions,
  /** The log-keeper's verifier key (`GET /v1/verifier-key` of the log-keeper): picks its checkpoints. */
  LOG_VERIFIER_KEY: z.string({
    error: 'is required (the log-keeper verifier key; npm start writes it to .data/)',
  }),
  /** Schema of the Merkle trees and checkpoints the log-keeper writes (its LOG_DB_SCHEMA). */
  LOG_DB_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case PostgreSQL identifier')
    .default('public'),
  RULES_PROGRAMMES_FILE: z.string().default(defaultProgrammesFile),
  /**
   * Optional JSON object code → name for townships and villages (the notice board's
   * NOTICE_GAZETTEER_FILE): the 旬报 by township or village names its rows; without it a row is
   * named by level and code (乡镇 411325100).
   */
  AUDIT_GAZETTEER_FILE: z.string().min(1).optional(),
  /** 0 turns the schedule off (rules then run only on POST /v1/rules/run). */
  RULES_INTERVAL_MS: z.coerce
    .number()
    .int()
    .refine((ms) => ms === 0 || ms >= rulesIntervalMsMin, `must be 0 or at least ${rulesIntervalMsMin}`)
    .default(rulesIntervalMsDefault),
  RULES_PARAMS: ruleParams,
});

export interface AuditConfig {
  readonly env: Readonly<Omit<z.output<typeof auditEnv>, 'LOG_VERIFIER_KEY'>>;
  readonly verifier: NoteVerifier;
  readonly verifierKey: string;
}

export function loadAuditConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
): AuditConfig {
  const { parsed, derived: verifier } = loadConfigWith<typeof auditEnv, NoteVerifier>(
    auditEnv,
    env,
    (raw) => {
      if (raw.LOG_VERIFIER_KEY === undefined) return undefined;
      try {
        return { value: parseVerifierKey(raw.LOG_VERIFIER_KEY.trim()) };
      } catch (error) {
        if (!(error instanceof NoteError)) throw error;
        return { problems: [`LOG_VERIFIER_KEY: ${error.message}`] };
      }
    },
  );
  const { LOG_VERIFIER_KEY, ...rest } = parsed;
  return Object.freeze({ env: Object.freeze(rest), verifier, verifierKey: LOG_VERIFIER_KEY.trim() });
}
