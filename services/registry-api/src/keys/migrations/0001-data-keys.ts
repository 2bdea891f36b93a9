import { type Kysely, sql } from 'kysely';

// Frozen: never edit after it has run anywhere; add a new migration instead. Imports only 'kysely'
// and never names a schema: the runner sets search_path to the key store's schema.
//
// The household data keys (decision 0042): one row per household, ever. A destroyed key keeps its
// row as a tombstone (who, when, why) with the wrapped key and its master key id gone.

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table data_keys (
    data_key_id text primary key,
    partition text not null,
    household_id text not null,
    wrapped_key bytea,
    master_key_id text,
    created_at timestamptz not null default now(),
    rewrapped_at timestamptz,
    destroyed_at timestamptz,
    destroyed_by text,
    reason text,
    constraint data_keys_live_or_destroyed check (
      (destroyed_at is null and wrapped_key is not null and master_key_id is not null)
      or (destroyed_at is not null and wrapped_key is null and master_key_id is null
          and destroyed_by is not null and reason is not null)
    )
  )`.execute(db);
  await sql`create unique index data_keys_household on data_keys (partition, household_id)`.execute(db);
  await sql`create index data_keys_master on data_keys (master_key_id) where master_key_id is not null`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists data_keys`.execute(db);
}
