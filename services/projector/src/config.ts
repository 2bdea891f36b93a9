import { projectorBatchSize } from '@fundtrace/books';
import { databaseUrl, host, loadConfig, logLevel, namespace, natsUrl, port } from '@fundtrace/service-kit';
import { z } from 'zod';

/** The largest batch eventlog's runner accepts (one PostgreSQL transaction). */
const batchSizeMax = 1_000;

export const configSchema = z.object({
  DATABASE_URL: databaseUrl,
  NATS_URL: natsUrl,
  FUNDTRACE_NAMESPACE: namespace,
  HOST: host,
  PORT: port(4103),
  LOG_LEVEL: logLevel,
  /**
   * The read-model schema to create when no schema is active yet (first start). Afterwards the
   * active-schema pointer decides, and `fundtrace replay` moves it.
   */
  PROJECTOR_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case identifier')
    .default('books'),
  PROJECTOR_BATCH_SIZE: z.coerce.number().int().min(1).max(batchSizeMax).default(projectorBatchSize),
});

export type Config = z.output<typeof configSchema>;

/** Read once at startup; nothing else reads process.env. */
export function readConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
): Readonly<Config> {
  return loadConfig(configSchema, env);
}
