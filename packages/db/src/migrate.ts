import {
  type Kysely,
  type Migration,
  type MigrationProvider,
  type MigrationResult,
  Migrator,
  type RawBuilder,
  sql,
} from 'kysely';
import { assertIdentifier } from './identifiers';
import { migrations as allMigrations } from './migrations/index';

export interface MigrateOptions {
  /** The schema to migrate (created if missing). Default `public`. */
  schema?: string;
  /**
   * The migration set; default: every migration of this package. Tests pass a subset to
   * exercise upgrades from an older state.
   */
  migrations?: Readonly<Record<string, Migration>>;
}

/** The default schema, where a plain single-schema deployment keeps its tables. */
export const defaultSchema = 'public';

/**
 * Runs each frozen migration with `search_path` set to the target schema for the rest of the
 * migration transaction, so migrations stay free of schema names and the same set can build any
 * number of side-by-side schemas (blue/green read-model rebuilds). The bookkeeping tables
 * (kysely_migration, kysely_migration_lock) live in the target schema too, so each schema knows
 * its own version.
 */
function migratorFor<DB>(db: Kysely<DB>, options: MigrateOptions): Migrator {
  const schema = options.schema ?? defaultSchema;
  assertIdentifier('schema', schema);
  const source = options.migrations ?? allMigrations;
  const provider: MigrationProvider = {
    async getMigrations() {
      const scoped: Record<string, Migration> = {};
      for (const [name, migration] of Object.entries(source)) {
        const inSchema = (run: (db: Kysely<unknown>) => Promise<void>) => async (trx: Kysely<unknown>) => {
          // `set local` ends with the migration transaction, so no pooled connection keeps it.
          await sql`set local search_path to ${sql.id(schema)}`.execute(trx);
          await run(trx);
        };
        scoped[name] = {
          up: inSchema(migration.up),
          ...(migration.down ? { down: inSchema(migration.down) } : {}),
        };
      }
      return scoped;
    },
  };
  // Migrations are numbered by range per change, and two may be written in parallel: one that
  // lands after a higher number already ran somewhere (0008 after 0009) still runs, instead of
  // the migrator refusing the schema as corrupted. Each migration stands alone (frozen, no schema).
  return new Migrator({ db, provider, migrationTableSchema: schema, allowUnorderedMigrations: true });
}

/** Thrown when a migration fails; the whole run is rolled back (PostgreSQL has transactional DDL). */
export class MigrationError extends Error {
  override readonly name = 'MigrationError';
  constructor(
    readonly schema: string,
    readonly migration: string | undefined,
    override readonly cause: unknown,
  ) {
    super(
      `Migrating schema ${schema} failed${migration ? ` at ${migration}` : ''}: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
  }
}

/**
 * Runs a `create … if not exists` statement under a transaction-scoped advisory lock keyed by
 * `object`. Two such statements at once can both pass PostgreSQL's existence check, and one then
 * fails on a catalog unique index (pg_namespace, pg_type): seen in CI with three migration
 * runners starting together. The lock serialises only this step.
 */
export async function createIfAbsent<DB>(db: Kysely<DB>, object: string, statement: RawBuilder<unknown>) {
  await db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtext(${`fundtrace.create:${object}`}))`.execute(trx);
    await statement.execute(trx);
  });
}

/**
 * Brings `schema` to the latest migration and returns the names of the migrations it applied
 * (empty when already up to date). Concurrent callers serialise on kysely's advisory lock, so
 * two instances starting at once do not both migrate.
 */
export async function migrateToLatest<DB>(db: Kysely<DB>, options: MigrateOptions = {}): Promise<string[]> {
  const schema = options.schema ?? defaultSchema;
  assertIdentifier('schema', schema);
  await createIfAbsent(db, `schema:${schema}`, sql`create schema if not exists ${sql.id(schema)}`);
  const { error, results } = await migratorFor(db, options).migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((result: MigrationResult) => result.status === 'Error');
    throw new MigrationError(schema, failed?.migrationName, error);
  }
  return (results ?? [])
    .filter((result) => result.status === 'Success')
    .map((result) => result.migrationName);
}

/**
 * Names of migrations not yet applied to `schema`, in order. A schema that does not exist (or was
 * never migrated) has every migration pending.
 */
export async function pendingMigrations<DB>(db: Kysely<DB>, options: MigrateOptions = {}): Promise<string[]> {
  const schema = options.schema ?? defaultSchema;
  assertIdentifier('schema', schema);
  const source = options.migrations ?? allMigrations;
  const { rows } = await sql<{ exists: boolean }>`
    select to_regclass(${`${schema}.kysely_migration`}) is not null as exists`.execute(db);
  if (!rows[0]?.exists) return Object.keys(source).sort();
  const infos = await migratorFor(db, options).getMigrations();
  return infos.filter((info) => info.executedAt === undefined).map((info) => info.name);
}
