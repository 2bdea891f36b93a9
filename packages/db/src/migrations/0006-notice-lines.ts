import { type Kysely, sql } from 'kysely';

// Frozen: never edit after it has run anywhere; add a new migration instead. Imports only
// 'kysely' and never names a schema: the runner sets search_path to the target schema.
//
// The proposed beneficiaries of a notice (公示名单, event NoticeLinesPublished), published with
// the notice before anyone is paid. One row per line; a household is listed once per notice.
// member_nos: the members the line pays for, comma-separated ('' = the household as a whole);
// text because the projector writes rows through unnest(), which cannot carry nested arrays.

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table notice_lines (
    partition text not null,
    notice_id text not null,
    line_no integer not null check (line_no >= 1),
    household_id text not null,
    member_nos text not null,
    quantity integer not null check (quantity >= 1),
    amount_fen bigint not null check (amount_fen > 0),
    seq bigint not null,
    primary key (partition, notice_id, line_no)
  )`.execute(db);
  await sql`create unique index notice_lines_household on notice_lines (partition, notice_id, household_id)`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists notice_lines`.execute(db);
}
