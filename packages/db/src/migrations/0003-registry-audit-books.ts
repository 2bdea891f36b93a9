import { type Kysely, sql } from 'kysely';

// Frozen: never edit after it has run anywhere; add a new migration instead. Imports only
// 'kysely' and never names a schema: the runner sets search_path to the target schema.
//
// Read models of the registry (households, members) and of the audit trail (findings). Personal
// data is kept only as keyed hashes (for matching) and masked forms (for display): the
// ciphertexts of the registry events are never copied here.

export async function up(db: Kysely<unknown>): Promise<void> {
  const statements = [
    sql`create table households (
      partition text not null,
      household_id text not null,
      village_code text not null,
      cause_of_poverty text not null,
      registered_on date not null,
      status text not null check (status in ('registered', 'lifted', 'removed')),
      exited_on date,
      exit_reason text,
      phone_hash text,
      phone_masked text,
      masking_version integer not null,
      account_bank text,
      account_medium text,
      account_hash text,
      account_masked text,
      account_holder_member_no integer,
      account_bound_on date,
      member_count integer not null check (member_count >= 0),
      living_member_count integer not null check (living_member_count >= 0),
      registered_seq bigint not null,
      updated_seq bigint not null,
      primary key (partition, household_id)
    )`,
    sql`create index households_village on households (partition, village_code)`,
    sql`create index households_account_hash on households (account_hash) where account_hash is not null`,
    sql`create table members (
      partition text not null,
      household_id text not null,
      member_no integer not null,
      relation text not null,
      name_masked text not null,
      id_number_hash text not null,
      id_number_masked text not null,
      birth_year integer not null,
      sex text not null,
      disability_category text,
      disability_grade integer,
      died_on date,
      added_seq bigint not null,
      primary key (partition, household_id, member_no)
    )`,
    sql`create index members_id_number_hash on members (id_number_hash)`,
    sql`create table findings (
      partition text not null,
      finding_id text not null,
      rule_id text not null,
      rule_version integer not null,
      severity text not null,
      summary text not null,
      status text not null check (status in ('open', 'reviewed', 'traced', 'rectified', 'closed')),
      review_outcome text,
      resolution text,
      recovered_fen bigint not null,
      raised_on date not null,
      raised_seq bigint not null,
      closed_on date,
      last_step_seq bigint not null,
      step_count integer not null,
      primary key (partition, finding_id)
    )`,
    sql`create index findings_status on findings (partition, status, raised_on)`,
    sql`create table finding_subjects (
      partition text not null,
      finding_id text not null,
      subject_context text not null,
      subject_partition text not null,
      subject_entity text not null,
      subject_id text not null,
      seq bigint not null,
      primary key (partition, finding_id, subject_context, subject_partition, subject_entity, subject_id)
    )`,
    sql`create index finding_subjects_subject on finding_subjects (subject_partition, subject_entity, subject_id)`,
    sql`create table finding_evidence (
      partition text not null,
      finding_id text not null,
      evidence_stream text not null,
      evidence_seq bigint not null,
      evidence_type text not null,
      seq bigint not null,
      primary key (partition, finding_id, evidence_stream, evidence_seq)
    )`,
  ];
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['finding_evidence', 'finding_subjects', 'findings', 'members', 'households']) {
    await sql`drop table if exists ${sql.id(table)}`.execute(db);
  }
}
