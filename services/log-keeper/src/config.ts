import { defaultOriginPrefix, NoteError, type NoteSigner, parseSigningKey } from '@fundtrace/merkle';
import { ConfigError, commonEnv, loadConfig, port, trustProxy } from '@fundtrace/service-kit';
import { z } from 'zod';

/**
 * How often the keeper signs a checkpoint of every stream that grew since its last
 * one. A minute keeps the newest signed root at most a minute behind the books,
 * while a quiet county adds no checkpoints at all (nothing is signed twice).
 */
export const checkpointIntervalMsDefault = 60_000;

/** Below a second, signing would compete with appending for the same row locks for no reader's benefit. */
export const checkpointIntervalMsMin = 1_000;

/** Checkpoint origins are `<prefix>/<stream>`: a schema-less URL naming the operator (c2sp.org/tlog-checkpoint). */
const originPrefix = z
  .string()
  .regex(
    /^[^\s+/][^\s+]*[^\s+/]$|^[^\s+/]$/,
    'must be a schema-less URL without spaces, "+" or a trailing "/"',
  )
  .default(defaultOriginPrefix);

/** Twice the notice board's page budget: a page a reader opens may link a few proofs. */
export const requestsPerMinuteDefault = 1_200;

export const logKeeperEnv = z.object({
  ...commonEnv,
  PORT: port(4104),
  /** Base64 Ed25519 key: PKCS#8 DER or a 32-byte seed (npm start writes a development key to .data/). */
  LOG_SIGNING_KEY: z.string({ error: 'is required (npm start writes a development key to .data/)' }),
  /** Origin prefix and key name, e.g. `finance.neixiang.gov.cn/fundtrace`. */
  LOG_ORIGIN_PREFIX: originPrefix,
  LOG_CHECKPOINT_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(checkpointIntervalMsMin)
    .default(checkpointIntervalMsDefault),
  /**
   * The PostgreSQL schema of the trees and checkpoints. Not a blue/green read-model schema:
   * signed checkpoints are history the log must never contradict, not a view to rebuild.
   */
  LOG_DB_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case PostgreSQL identifier')
    .default('public'),
  /**
   * Requests one address may make per minute. The proofs are public and each costs queries of the
   * tree: a reader checks a few lines of a notice, a scraper must not hold the database.
   */
  LOG_REQUESTS_PER_MINUTE: z.coerce.number().int().min(1).default(requestsPerMinuteDefault),
  /** Behind a reverse proxy: whose X-Forwarded-For names the client (hop count or CIDR list); off by default. */
  TRUST_PROXY: trustProxy,
});

export interface LogKeeperConfig {
  readonly env: Readonly<Omit<z.output<typeof logKeeperEnv>, 'LOG_SIGNING_KEY'>>;
  /** Kept out of env: the private key must never be logged or echoed. */
  readonly signer: NoteSigner;
}

/** Reads the environment once; every problem (including an unusable key) is reported together. */
export function loadLogKeeperConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
): LogKeeperConfig {
  const problems: string[] = [];
  let parsed: z.output<typeof logKeeperEnv> | undefined;
  try {
    parsed = loadConfig(logKeeperEnv, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  let signer: NoteSigner | undefined;
  if (env.LOG_SIGNING_KEY !== undefined) {
    try {
      // The key name is the origin prefix: one verifier key covers every stream's checkpoints.
      signer = parseSigningKey(parsed?.LOG_ORIGIN_PREFIX ?? defaultOriginPrefix, env.LOG_SIGNING_KEY);
    } catch (error) {
      if (!(error instanceof NoteError)) throw error;
      problems.push(`LOG_SIGNING_KEY: ${error.message}`);
    }
  }
  if (problems.length > 0 || parsed === undefined || signer === undefined) throw new ConfigError(problems);
  const { LOG_SIGNING_KEY: _key, ...rest } = parsed;
  return Object.freeze({ env: Object.freeze(rest), signer });
}
