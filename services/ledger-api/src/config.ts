import { ledger } from '@fundtrace/events';
import { commonEnv, loadConfig, port, streamWriterEnv } from '@fundtrace/service-kit';
import { z } from 'zod';
import { defaultProgrammesFile } from './reference/programmes';

/**
 * Partitions one ledger-api process writes by default in development: the demo
 * chain central → 河南 → 南阳 → 内乡, so the whole allocation flow runs in one
 * process. In production each province or county runs its own instances.
 */
export const defaultPartitions = '000000,410000,411300,411325';

/** Most partitions one process writes: each holds its whole state in memory. */
export const partitionsPerProcessMax = 64;

const partitionList = z
  .string()
  .transform((text) =>
    text
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p !== ''),
  )
  .pipe(z.array(ledger.partitionCodeSchema).min(1).max(partitionsPerProcessMax))
  .refine((list) => new Set(list).size === list.length, 'lists a partition twice');

export const configSchema = z.object({
  NATS_URL: commonEnv.NATS_URL,
  FUNDTRACE_NAMESPACE: commonEnv.FUNDTRACE_NAMESPACE,
  JWT_SECRET: commonEnv.JWT_SECRET,
  HOST: commonEnv.HOST,
  LOG_LEVEL: commonEnv.LOG_LEVEL,
  PORT: port(4101),
  /** Comma-separated administrative codes whose LEDGER streams this process writes. */
  LEDGER_PARTITIONS: z.string().default(defaultPartitions).pipe(partitionList),
  /** The programmes reference file (versioned JSON). */
  LEDGER_PROGRAMMES_FILE: z.string().min(1).default(defaultProgrammesFile),
  /** The log-keeper, asked for a signed checkpoint whenever a notice is published; unset = no request. */
  LOG_KEEPER_URL: z.url().optional(),
  /** STREAM_REPLICAS: replicas of the LEDGER and REGISTRY streams it creates (3 on a JetStream cluster). */
  ...streamWriterEnv,
});

export type LedgerConfig = z.output<typeof configSchema>;

export function readConfig(env: Readonly<Record<string, string | undefined>> = process.env): LedgerConfig {
  return loadConfig(configSchema, env);
}
