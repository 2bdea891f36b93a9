import { type App, createApp, dbPlugin, natsPlugin } from '@fundtrace/service-kit';
import type { Logger } from 'pino';
import type { RegistryConfig } from './config';
import { ImportService } from './imports/import-service';
import { DataKeyStore } from './keys/key-store';
import type { County } from './routes/context';
import { householdRoutes } from './routes/households';
import { importRoutes } from './routes/imports';
import { RegistryWriter } from './writer/registry-writer';

export interface BuildAppOptions {
  readonly config: RegistryConfig;
  /** A ready logger (tests pass one writing to a stream they read back). */
  readonly logger?: Logger;
}

export interface RegistryApp {
  readonly app: App;
  readonly counties: ReadonlyMap<string, County>;
  readonly keys: DataKeyStore;
}

/**
 * Builds registry-api without listening (tests use `app.inject()`): the kit's app, the NATS
 * connection, one writer per county rebuilt from its stream, and the routes.
 */
export async function buildApp(options: BuildAppOptions): Promise<RegistryApp> {
  const { env, keyring } = options.config;
  const app = await createApp({
    name: 'registry-api',
    version: '0.1.0',
    description:
      'Registered poor households (建档立卡), their members and 一卡通 accounts; the single writer of each county REGISTRY stream. Personal data is encrypted in events and masked in every answer; clear text only through an audited reveal.',
    ...(options.logger ? { logger: options.logger } : { logLevel: env.LOG_LEVEL }),
    auth: { secret: env.JWT_SECRET },
  });
  await app.register(natsPlugin, { url: env.NATS_URL, name: 'registry-api' });
  // Reads come from the books (the projector's live read-model schema, followed across replays);
  // the writer's in-memory state is for deciding commands only (decision 0043).
  await app.register(dbPlugin, {
    url: env.DATABASE_URL,
    schema: { active: true, fallback: 'public' },
    applicationName: 'registry-api',
  });
  const keys = await DataKeyStore.open({
    url: env.DATABASE_URL,
    keyring,
    logger: app.log as unknown as Logger,
  });
  app.addHook('onClose', () => keys.close());
  app.readiness.add('key_store', () => keys.ping());
  const counties = new Map<string, County>();
  for (const partition of env.REGISTRY_PARTITIONS) {
    const writer = await RegistryWriter.open({
      js: app.js,
      jsm: app.jsm,
      partition,
      ns: env.FUNDTRACE_NAMESPACE,
      replicas: env.STREAM_REPLICAS,
      keyring,
      keys,
      logger: app.log as unknown as Logger,
    });
    counties.set(partition, { writer, imports: new ImportService(writer) });
  }
  householdRoutes(app, counties);
  importRoutes(app, counties);
  return { app, counties, keys };
}
