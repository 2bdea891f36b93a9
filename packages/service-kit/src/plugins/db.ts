import { createDb, type Database } from '@fundtrace/db';
import fp from 'fastify-plugin';
import { type Kysely, sql } from 'kysely';

export interface DbPluginOptions {
  /** config's DATABASE_URL. */
  url: string;
  /** The schema to work in (see @fundtrace/db createDb); default the server's (`public`). */
  schema?: string;
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
    const db = createDb<Database>(options.url, {
      ...(options.schema === undefined ? {} : { schema: options.schema }),
      ...(options.max === undefined ? {} : { max: options.max }),
      applicationName: options.applicationName,
      onIdleError: (error) => app.log.warn({ err: error }, 'idle PostgreSQL connection failed'),
    });
    app.decorate('db', db);
    app.readiness.add('postgres', async () => {
      await sql`select 1`.execute(db);
    });
    app.addHook('onClose', async () => {
      await db.destroy();
    });
  },
  { name: '@fundtrace/service-kit/db', fastify: '5.x' },
);
