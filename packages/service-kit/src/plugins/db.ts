import { connectActiveSchemaDb, createDb, type Database } from '@fundtrace/db';
import fp from 'fastify-plugin';
import { type Kysely, sql } from 'kysely';

export interface DbPluginOptions {
  /** config's DATABASE_URL. */
  url: string;
  /**
   * Where queries run:
   * - a schema name: that schema (writers of their own tables, e.g. the log-keeper);
   * - `{ active: true }`: the live blue/green read-model schema, followed across switches
   *   (readers: audit-api, notice board), optionally with a fallback before the first activation;
   * - omitted: the server default (`public`).
   */
  schema?: string | { active: true; fallback?: string };
  /** Pool size; default @fundtrace/db's. */
  max?: number;
  /** Shown in pg_stat_activity; the service name. */
  applicationName: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    db: Kysely<Database>;
  }
}

/**
 * The service's kysely instance (one pool), decorated as `app.db`, with a `postgres` readiness
 * check, destroyed (pool ended) when the app closes.
 */
export const dbPlugin = fp<DbPluginOptions>(
  async (app, options) => {
    const onIdleError = (error: Error) => app.log.warn({ err: error }, 'idle PostgreSQL connection failed');
    const common = {
      ...(options.max === undefined ? {} : { max: options.max }),
      applicationName: options.applicationName,
      onIdleError,
    };
    let db: Kysely<Database>;
    let destroy: () => Promise<void>;
    if (typeof options.schema === 'object') {
      const reader = await connectActiveSchemaDb<Database>(options.url, {
        ...common,
        ...(options.schema.fallback === undefined ? {} : { fallbackSchema: options.schema.fallback }),
        onSwitch: (schema, previous) => app.log.info({ schema, previous }, 'read models switched'),
        onError: (error) => app.log.warn({ err: error }, 'following the active read-model schema'),
      });
      db = reader.db;
      destroy = () => reader.destroy();
    } else {
      db = createDb<Database>(options.url, {
        ...common,
        ...(options.schema === undefined ? {} : { schema: options.schema }),
      });
      destroy = () => db.destroy();
    }
    app.decorate('db', db);
    app.readiness.add('postgres', async () => {
      await sql`select 1`.execute(db);
    });
    app.addHook('onClose', async () => {
      await destroy();
    });
  },
  { name: '@fundtrace/service-kit/db', fastify: '5.x' },
);
