import { fileURLToPath } from 'node:url';
import { commonEnv, loadConfig, port, trustProxy } from '@fundtrace/service-kit';
import { z } from 'zod';

/** The reference data the ledger decides with; the board shows the same programme minimums. */
export const defaultProgrammesFile = fileURLToPath(
  new URL('../../ledger-api/reference/programmes.v1.json', import.meta.url),
);

/**
 * How often the board re-reads the projection checkpoints. A page is at most this stale, and this
 * is the only query a page served from cache causes: one per interval however many readers come.
 */
export const checkpointPollMsDefault = 1_000;

export const configSchema = z.object({
  ...commonEnv,
  PORT: port(4106),
  /** ledger-api, where objections are sent as FileObjection commands. */
  LEDGER_API_URL: z.url().default('http://127.0.0.1:4101'),
  /**
   * The log-keeper as the public reaches it: pages link to its public inclusion-proof and
   * checkpoint routes so a reader can check a line without trusting this board.
   */
  LOG_KEEPER_PUBLIC_URL: z.url().default('http://127.0.0.1:4104'),
  /** Schema of the log-keeper's merkle tables (its LOG_DB_SCHEMA). */
  LOG_DB_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case PostgreSQL identifier')
    .default('public'),
  /** Read-model schema used until the projector first activates one. */
  NOTICE_FALLBACK_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/)
    .default('books'),
  NOTICE_PROGRAMMES_FILE: z.string().min(1).default(defaultProgrammesFile),
  /** Optional JSON object code → name for townships and villages (the books carry codes only). */
  NOTICE_GAZETTEER_FILE: z.string().min(1).optional(),
  NOTICE_CHECKPOINT_POLL_MS: z.coerce.number().int().min(50).max(60_000).default(checkpointPollMsDefault),
  /**
   * Objections one address may file per window. A villager files one or two; a script filing
   * hundreds would bury the real ones and the staff who must answer each.
   */
  NOTICE_OBJECTIONS_PER_WINDOW: z.coerce.number().int().min(1).max(1_000).default(5),
  NOTICE_OBJECTION_WINDOW_MS: z.coerce
    .number()
    .int()
    .min(1_000)
    .default(10 * 60_000),
  /** Requests one address may make to any page per minute: a reader clicks, a scraper hammers. */
  NOTICE_PAGES_PER_MINUTE: z.coerce.number().int().min(1).default(600),
  /**
   * Behind a reverse proxy: the proxies whose X-Forwarded-For names the reader (a hop count or
   * addresses / CIDR ranges); off by default, else every reader shares the proxy's page budget.
   */
  TRUST_PROXY: trustProxy,
});

export type NoticeBoardConfig = z.output<typeof configSchema>;

export function readConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
): NoticeBoardConfig {
  return loadConfig(configSchema, env);
}
