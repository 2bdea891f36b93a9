import { type Kysely, sql } from 'kysely';

// Frozen: never edit after it has run anywhere; add a new migration instead. Imports only
// 'kysely' and never names a schema: the runner sets search_path to the target schema.
//
// Decision 0110. An entity's trail is in recorded time, then stream and sequence, across streams;
// with only (partition, ref_kind, ref_id, stream, seq) as event_refs' key, a page sorted every
// reference of the entity (a pool account's 200,000: ~17,100 buffers a page). The event's
// `recorded_at` is copied into event_refs and becomes part of the key, in the trail's order, so a
// page is one range of the key. The key replaces the old one rather than joining it: nothing else
// reads event_refs, and every event writes ~3 rows here at random places of the key (decision
// 0054), so a second index would double that cost. Still unique per (reference, stream, seq):
// `recorded_at` is the event's, one value per (stream, seq).
//
// Existing books get their `recorded_at` from `events`. The table is copied rather than updated
// in place: an UPDATE of every row writes a second version of each (the table doubles and stays
// so until a VACUUM FULL) and would maintain the key row by row; the copy writes each row once
// and the key is built once, sorted, after it. Writers are locked out for the copy (a row
// committed between the copy and the drop would be lost); readers are not until the swap.

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`lock table event_refs in exclusive mode`.execute(db);
  await sql`create table event_refs_by_time (
      partition text not null,
      ref_kind text not null,
      ref_id text not null,
      recorded_at timestamptz not null,
      stream text not null,
      seq bigint not null
    )`.execute(db);
  await sql`insert into event_refs_by_time (partition, ref_kind, ref_id, recorded_at, stream, seq)
    select r.partition, r.ref_kind, r.ref_id, e.recorded_at, r.stream, r.seq
    from event_refs r
    join events e on e.stream = r.stream and e.seq = r.seq`.execute(db);
  // Every reference is to an event of the books (the projector writes both in one transaction);
  // one that is not would be dropped silently by the join, so the migration fails instead.
  const { rows } = await sql<{ refs: string; copied: string }>`
    select (select count(*) from event_refs)::text as refs,
           (select count(*) from event_refs_by_time)::text as copied`.execute(db);
  if (rows[0]!.refs !== rows[0]!.copied) {
    throw new Error(
      `event_refs holds ${rows[0]!.refs} rows, ${rows[0]!.copied} of them name an event of the books`,
    );
  }
  await sql`drop table event_refs`.execute(db);
  await sql`alter table event_refs_by_time rename to event_refs`.execute(db);
  await sql`alter table event_refs add constraint event_refs_pkey
    primary key (partition, ref_kind, ref_id, recorded_at, stream, seq)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table event_refs drop constraint event_refs_pkey`.execute(db);
  await sql`alter table event_refs drop column recorded_at`.execute(db);
  await sql`alter table event_refs add constraint event_refs_pkey
    primary key (partition, ref_kind, ref_id, stream, seq)`.execute(db);
}
