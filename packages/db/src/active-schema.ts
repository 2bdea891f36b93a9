import { type Kysely, sql } from 'kysely';
import { assertIdentifier } from './identifiers';
import { createIfAbsent, pendingMigrations } from './migrate';

/**
 * Blue/green read models: the projector rebuilds into a fresh schema, then points
 * `public.fundtrace_active_schema` at it in one transaction; readers consult that pointer (and
 * may LISTEN on {@link activeSchemaChannel} to learn about a switch without polling).
 */

/** LISTEN/NOTIFY channel on which {@link setActiveSchema} announces the new schema's name. */
export const activeSchemaChannel = 'fundtrace_active_schema';

/** Creates the pointer table if missing. One row at most: the check on `singleton` enforces it. */
export async function ensureActiveSchemaTable<DB>(db: Kysely<DB>): Promise<void> {
  await createIfAbsent(
    db,
    'table:public.fundtrace_active_schema',
    sql`
    create table if not exists public.fundtrace_active_schema (
      singleton boolean primary key default true check (singleton),
      name text not null,
      activated_at timestamptz not null default now()
    )`,
  );
}

/** `create schema if not exists`. */
export async function createSchema<DB>(db: Kysely<DB>, name: string): Promise<void> {
  assertIdentifier('schema', name);
  await createIfAbsent(db, `schema:${name}`, sql`create schema if not exists ${sql.id(name)}`);
}

/** Whether a schema of that name exists. */
export async function schemaExists<DB>(db: Kysely<DB>, name: string): Promise<boolean> {
  assertIdentifier('schema', name);
  const { rows } = await sql<{ exists: boolean }>`
    select exists (select 1 from pg_namespace where nspname = ${name}) as exists`.execute(db);
  return rows[0]?.exists === true;
}

/** The live read-model schema, or null when none was ever activated. */
export async function getActiveSchema<DB>(db: Kysely<DB>): Promise<string | null> {
  // to_regclass instead of creating the table: a read-only reader must not need CREATE. Two
  // statements, because PostgreSQL resolves every table of one statement before running it.
  const { rows: found } = await sql<{ exists: boolean }>`
    select to_regclass('public.fundtrace_active_schema') is not null as exists`.execute(db);
  if (!found[0]?.exists) return null;
  const { rows } = await sql<{ name: string }>`select name from public.fundtrace_active_schema`.execute(db);
  return rows[0]?.name ?? null;
}

/**
 * Makes `name` the live read-model schema and returns the previous one. Throws if the schema does
 * not exist or is not fully migrated: switching readers to a half-built schema would serve them
 * missing tables.
 */
export async function setActiveSchema<DB>(db: Kysely<DB>, name: string): Promise<string | null> {
  assertIdentifier('schema', name);
  await ensureActiveSchemaTable(db);
  if (!(await schemaExists(db, name))) throw new Error(`Cannot activate schema ${name}: it does not exist`);
  const pending = await pendingMigrations(db, { schema: name });
  if (pending.length > 0) {
    throw new Error(`Cannot activate schema ${name}: migrations pending (${pending.join(', ')})`);
  }
  return db.transaction().execute(async (trx) => {
    // Row lock: a concurrent switch or dropSchema waits for this one to commit.
    const { rows } = await sql<{ name: string }>`
      select name from public.fundtrace_active_schema for update`.execute(trx);
    const previous = rows[0]?.name ?? null;
    await sql`
      insert into public.fundtrace_active_schema (singleton, name, activated_at) values (true, ${name}, now())
      on conflict (singleton) do update set name = excluded.name, activated_at = excluded.activated_at`.execute(
      trx,
    );
    // Delivered on commit only, so listeners never see a switch that rolled back.
    await sql`select pg_notify(${activeSchemaChannel}, ${name})`.execute(trx);
    return previous;
  });
}

/**
 * Drops a schema and everything in it. Refuses `public` and the active schema: dropping what
 * readers are reading is never what an operator meant.
 */
export async function dropSchema<DB>(db: Kysely<DB>, name: string): Promise<void> {
  assertIdentifier('schema', name);
  if (name === 'public') throw new Error('Refusing to drop schema public');
  await ensureActiveSchemaTable(db);
  await db.transaction().execute(async (trx) => {
    const { rows } = await sql<{ name: string }>`
      select name from public.fundtrace_active_schema for update`.execute(trx);
    if (rows[0]?.name === name) throw new Error(`Refusing to drop schema ${name}: it is the active schema`);
    await sql`drop schema if exists ${sql.id(name)} cascade`.execute(trx);
  });
}
