import { projectorBatchSize } from '@fundtrace/books';
import {
  projectionAckWaitMs,
  projectionBatchMessagesMax,
  projectionMaxWaitMsDefault,
  projectionMaxWaitMsMin,
} from '@fundtrace/eventlog';
import { databaseUrl, host, loadConfig, logLevel, namespace, natsUrl, port } from '@fundtrace/service-kit';
import { z } from 'zod';

/** The largest batch eventlog's runner accepts (one PostgreSQL transaction). */
const batchSizeMax = projectionBatchMessagesMax;

export const configSchema = z
  .object({
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
    /**
     * How long NATS waits for the ack of a batch before redelivering it. After a SIGKILL the batches
     * the dead process held come back only after this, so it bounds recovery time; it must exceed the
     * longest batch transaction (a batch that outlives it is delivered twice, which the checkpoint
     * makes harmless, but it is wasted work).
     */
    PROJECTOR_ACK_WAIT_MS: z.coerce
      .number()
      .int()
      .min(projectionMaxWaitMsMin)
      .max(600_000)
      .default(projectionAckWaitMs),
    /** How long an idle pull waits for new events; bounds a graceful stop. At most the ack wait. */
    PROJECTOR_MAX_WAIT_MS: z.coerce
      .number()
      .int()
      .min(projectionMaxWaitMsMin)
      .max(60_000)
      .default(projectionMaxWaitMsDefault),
  })
  .refine((config) => config.PROJECTOR_MAX_WAIT_MS <= config.PROJECTOR_ACK_WAIT_MS, {
    message: 'PROJECTOR_MAX_WAIT_MS must not exceed PROJECTOR_ACK_WAIT_MS',
    path: ['PROJECTOR_MAX_WAIT_MS'],
  });

export type Config = z.output<typeof configSchema>;

/** Read once at startup; nothing else reads process.env. */
export function readConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
): Readonly<Config> {
  return loadConfig(configSchema, env);
}
