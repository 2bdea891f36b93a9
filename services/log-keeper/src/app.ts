import { migrateToLatest } from '@fundtrace/db';
import {
  type App,
  createApp,
  createLogger,
  dbPlugin,
  limitPerAddress,
  natsPlugin,
} from '@fundtrace/service-kit';
import type { LogKeeperConfig } from './config';
import { type Keeper, startKeeper } from './keeper/runner';
import { checkpointSigner, scheduleCheckpoints } from './keeper/signing';
import { checkpointRoutes } from './routes/checkpoints';
import { proofRoutes } from './routes/proofs';
import { treeKeyFor } from './streams';

export const serviceName = 'log-keeper';
export const serviceVersion = '0.1.0';

export interface LogKeeperApp {
  readonly app: App;
  readonly keeper: Keeper;
}

/**
 * Builds the log-keeper (no listen: tests use app.inject): PostgreSQL and NATS
 * plugins, migrations of its schema, the keeper's consumers, scheduled signing
 * and the routes. Closing the app stops signing, then the consumers, then the
 * connections.
 */
export async function buildApp(config: LogKeeperConfig): Promise<LogKeeperApp> {
  const { env, signer } = config;
  // One pino logger for the HTTP app and the consumers, so every line carries the service name.
  const logger = createLogger({ name: serviceName, level: env.LOG_LEVEL });
  const app = await createApp({
    name: serviceName,
    logger,
    version: serviceVersion,
    description:
      'The verifiable log: RFC 6962 Merkle trees over every stream, signed C2SP checkpoints, inclusion and consistency proofs, evidence bundles.',
    auth: { secret: env.JWT_SECRET },
    trustProxy: env.TRUST_PROXY,
  });
  await limitPerAddress(app, env.LOG_REQUESTS_PER_MINUTE);
  await app.register(dbPlugin, {
    url: env.DATABASE_URL,
    schema: env.LOG_DB_SCHEMA,
    applicationName: serviceName,
  });
  await app.register(natsPlugin, { url: env.NATS_URL, name: serviceName });
  await migrateToLatest(app.db, { schema: env.LOG_DB_SCHEMA });

  const keeper = startKeeper({
    nc: app.nats,
    db: app.db,
    ns: env.FUNDTRACE_NAMESPACE,
    logger,
  });
  const treeKey = treeKeyFor(env.FUNDTRACE_NAMESPACE);
  const checkpoints = checkpointSigner({
    db: app.db,
    signer,
    originPrefix: env.LOG_ORIGIN_PREFIX,
    treeKey,
    logger,
  });
  const schedule = scheduleCheckpoints({
    signer: checkpoints,
    streams: () => keeper.streams(),
    intervalMs: env.LOG_CHECKPOINT_INTERVAL_MS,
    logger,
  });
  let failure: unknown;
  keeper.done.catch((error: unknown) => {
    failure = error;
  });
  app.readiness.add('merkle_log', async () => {
    if (failure !== undefined) throw new Error('a stream failed; the log is stopped');
  });
  app.addHook('onClose', async () => {
    await schedule.stop();
    await keeper.stop();
  });

  const deps = { keeper, checkpoints, signer, originPrefix: env.LOG_ORIGIN_PREFIX, treeKey };
  checkpointRoutes(app, deps);
  proofRoutes(app, deps);
  return { app, keeper };
}
