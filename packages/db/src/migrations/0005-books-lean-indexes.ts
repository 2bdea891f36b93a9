import { type Kysely, sql } from 'kysely';

// Frozen: never edit after it has run anywhere; add a new migration instead. Imports only
// 'kysely' and never names a schema: the runner sets search_path to the target schema.
//
// Two indexes of 0002 that no reader uses cost the projector on every batch: events by
// (partition, type, day) — reports read spending_progress and trails read event_refs — and
// entries by tranche — only `fundtrace check` groups entries by tranche, and it scans them all.

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists events_partition_type`.execute(db);
  await sql`drop index if exists entries_tranche`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`create index events_partition_type on events (partition, type, occurred_on)`.execute(db);
  await sql`create index entries_tranche on entries (partition, tranche_id) where tranche_id is not null`.execute(
    db,
  );
}
