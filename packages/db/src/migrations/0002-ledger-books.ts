import { type Kysely, sql } from 'kysely';

// Frozen: never edit after it has run anywhere; add a new migration instead. Imports only
// 'kysely' and never names a schema: the runner sets search_path to the target schema.
//
// The ledger read models the projector maintains (services/projector). Every table is keyed by
// the partition (administrative code) first, because one schema holds the books of every
// partition. Money is bigint fen; business dates are `date` (Beijing calendar day); every row
// names the stream sequence that made it, so a reader can always go back to the event.

export async function up(db: Kysely<unknown>): Promise<void> {
  const statements = [
    // The full trail: every event of every stream, payload in wire form (money as digit strings)
    // minus encrypted personal-data fields, plus its Merkle leaf hash so a reader can prove it.
    sql`create table events (
      stream text not null,
      seq bigint not null check (seq >= 1),
      partition text not null,
      context text not null,
      subject text not null,
      event_id text not null,
      type text not null,
      version integer not null,
      entity text not null,
      entity_id text not null,
      occurred_at timestamptz not null,
      occurred_on date not null,
      recorded_at timestamptz not null,
      actor_user_id text not null,
      actor_role text not null,
      actor_org text not null,
      command_id text not null,
      correlation_id text not null,
      causation_id text,
      data jsonb not null,
      leaf_hash bytea not null,
      primary key (stream, seq)
    )`,
    sql`create unique index events_event_id on events (event_id)`,
    sql`create index events_correlation on events (correlation_id)`,
    sql`create index events_partition_type on events (partition, type, occurred_on)`,
    // Which entities an event concerns (its subject plus the ids its payload names), so the trail
    // of a household or a project is one index range.
    sql`create table event_refs (
      partition text not null,
      ref_kind text not null,
      ref_id text not null,
      stream text not null,
      seq bigint not null,
      primary key (partition, ref_kind, ref_id, stream, seq)
    )`,
    sql`create table accounts (
      partition text not null,
      account_id text not null,
      kind text not null,
      name text not null,
      opened_seq bigint not null,
      primary key (partition, account_id)
    )`,
    // Asset accounts: balance = debits - credits. Real accounts never go below zero; the nominal
    // accounts (prefixed '@') stand for the world outside the books (see the projector's README).
    sql`create table balances (
      partition text not null,
      account_id text not null,
      debit_fen bigint not null check (debit_fen >= 0),
      credit_fen bigint not null check (credit_fen >= 0),
      balance_fen bigint not null,
      primary key (partition, account_id)
    )`,
    sql`create table tranches (
      partition text not null,
      tranche_id text not null,
      account_id text not null,
      amount_fen bigint not null check (amount_fen > 0),
      remaining_fen bigint not null,
      fund_source text not null,
      fiscal_year integer not null,
      purpose text not null,
      document_number text not null,
      movement_kind text not null,
      movement_id text not null,
      is_root boolean not null,
      created_seq bigint not null,
      created_on date not null,
      primary key (partition, tranche_id),
      check (remaining_fen >= 0 and remaining_fen <= amount_fen)
    )`,
    sql`create index tranches_account on tranches (partition, account_id)`,
    // Lineage edges: parent tranche -> child tranche (a credit's parents), payment or allocation
    // (a debit's pieces). Facts from the events, never recomputed.
    sql`create table tranche_flows (
      partition text not null,
      seq bigint not null,
      piece_no integer not null,
      parent_partition text not null,
      parent_tranche_id text not null,
      child_kind text not null,
      child_id text not null,
      amount_fen bigint not null check (amount_fen > 0),
      flowed_on date not null,
      primary key (partition, seq, piece_no)
    )`,
    sql`create index tranche_flows_child on tranche_flows (partition, child_kind, child_id)`,
    sql`create index tranche_flows_parent on tranche_flows (parent_partition, parent_tranche_id)`,
    sql`create table entries (
      partition text not null,
      seq bigint not null,
      entry_no integer not null,
      account_id text not null,
      tranche_id text,
      side text not null check (side in ('debit', 'credit')),
      amount_fen bigint not null check (amount_fen > 0),
      movement_kind text not null,
      movement_id text not null,
      booked_on date not null,
      primary key (partition, seq, entry_no)
    )`,
    sql`create index entries_account on entries (partition, account_id, seq)`,
    sql`create index entries_tranche on entries (partition, tranche_id) where tranche_id is not null`,
    sql`create table receipts (
      partition text not null,
      receipt_id text not null,
      origin_kind text not null,
      origin_partition text,
      origin_allocation_id text,
      payer text,
      account_id text not null,
      document_number text not null,
      fund_source text not null,
      purpose text not null,
      fiscal_year integer not null,
      amount_fen bigint not null,
      received_on date not null,
      seq bigint not null,
      reversed_seq bigint,
      primary key (partition, receipt_id)
    )`,
    sql`create index receipts_origin on receipts (origin_partition, origin_allocation_id)`,
    // Written by two consumers: the issuing partition's (issued_*) and the receiving one's
    // (received_fen, by addition), so columns of each side are nullable until that side arrives.
    sql`create table allocations (
      from_partition text not null,
      allocation_id text not null,
      to_partition text not null,
      from_account_id text,
      document_number text,
      fund_source text,
      purpose text,
      fiscal_year integer,
      title text,
      issued_fen bigint,
      issued_on date,
      issued_seq bigint,
      received_fen bigint not null default 0,
      primary key (from_partition, allocation_id)
    )`,
    sql`create index allocations_to on allocations (to_partition)`,
    sql`create table integrations (
      partition text not null,
      integration_id text not null,
      plan_id text not null,
      line_id text not null,
      account_id text not null,
      document_number text not null,
      purpose text not null,
      amount_fen bigint not null,
      integrated_on date not null,
      seq bigint not null,
      reversed_seq bigint,
      primary key (partition, integration_id)
    )`,
    sql`create table plans (
      partition text not null,
      plan_id text not null,
      document_number text not null,
      title text not null,
      fiscal_year integer not null,
      total_fen bigint not null,
      approved_seq bigint not null,
      adjusted_seq bigint,
      adjustment_count integer not null,
      primary key (partition, plan_id)
    )`,
    sql`create table plan_lines (
      partition text not null,
      plan_id text not null,
      line_id text not null,
      category text not null,
      title text not null,
      amount_fen bigint not null,
      primary key (partition, plan_id, line_id)
    )`,
    sql`create table projects (
      partition text not null,
      project_id text not null,
      plan_id text not null,
      line_id text not null,
      name text not null,
      village_code text not null,
      category text not null,
      budget_fen bigint not null,
      account_id text not null,
      implementing_unit_account_id text not null,
      reimbursement boolean not null,
      earmarked_fen bigint not null,
      disbursed_fen bigint not null,
      acceptance_count integer not null,
      approved_seq bigint not null,
      approved_on date not null,
      adjusted_seq bigint,
      primary key (partition, project_id)
    )`,
    sql`create index projects_village on projects (partition, village_code)`,
    sql`create table acceptances (
      partition text not null,
      acceptance_id text not null,
      project_id text not null,
      document_number text not null,
      accepted_on date not null,
      inspected_by text not null,
      seq bigint not null,
      primary key (partition, acceptance_id)
    )`,
    sql`create table earmarks (
      partition text not null,
      earmark_id text not null,
      project_id text not null,
      from_account_id text not null,
      to_account_id text not null,
      amount_fen bigint not null,
      earmarked_on date not null,
      seq bigint not null,
      reversed_seq bigint,
      primary key (partition, earmark_id)
    )`,
    sql`create index earmarks_project on earmarks (partition, project_id)`,
    sql`create table disbursements (
      partition text not null,
      disbursement_id text not null,
      project_id text not null,
      from_account_id text not null,
      to_account_id text not null,
      amount_fen bigint not null,
      acceptance_id text,
      disbursed_on date not null,
      seq bigint not null,
      reversed_seq bigint,
      primary key (partition, disbursement_id)
    )`,
    sql`create index disbursements_project on disbursements (partition, project_id)`,
    sql`create table rosters (
      partition text not null,
      roster_id text not null,
      programme_code text not null,
      period text not null,
      account_id text not null,
      notice_id text,
      row_count integer not null,
      total_fen bigint not null,
      registry_seq bigint not null,
      submitted_on date not null,
      seq bigint not null,
      primary key (partition, roster_id)
    )`,
    sql`create table payments (
      partition text not null,
      payment_id text not null,
      roster_id text,
      row_no integer,
      household_id text not null,
      programme_code text not null,
      period text not null,
      quantity integer not null,
      amount_fen bigint not null,
      account_id text not null,
      notice_id text,
      acceptance_ref text,
      registry_seq bigint not null,
      status text not null check (status in ('instructed', 'settled', 'returned', 'reversed')),
      instructed_on date not null,
      instructed_seq bigint not null,
      settled_on date,
      bank_reference text,
      returned_on date,
      return_reason text,
      reversed_seq bigint,
      status_seq bigint not null,
      primary key (partition, payment_id)
    )`,
    sql`create index payments_household on payments (partition, household_id, instructed_seq)`,
    sql`create index payments_roster on payments (partition, roster_id)`,
    sql`create index payments_instructed_on on payments (partition, instructed_on)`,
    sql`create table reversals (
      partition text not null,
      reversal_id text not null,
      movement_kind text not null,
      movement_id text not null,
      reason text not null,
      amount_fen bigint not null,
      reversed_on date not null,
      seq bigint not null,
      primary key (partition, reversal_id)
    )`,
    sql`create index reversals_movement on reversals (partition, movement_kind, movement_id)`,
    sql`create table fiscal_years (
      partition text not null,
      fiscal_year integer not null,
      carried_over_fen bigint not null,
      chunk_count integer not null,
      tranche_count integer not null,
      closed boolean not null,
      closed_seq bigint,
      primary key (partition, fiscal_year)
    )`,
    sql`create table notices (
      partition text not null,
      notice_id text not null,
      kind text not null,
      title text not null,
      stage text not null,
      programme_code text,
      period text,
      subject_id text,
      starts_on date not null,
      ends_on date not null,
      status text not null check (status in ('open', 'closed')),
      objection_count integer not null,
      open_objection_count integer not null check (open_objection_count >= 0),
      published_seq bigint not null,
      closed_seq bigint,
      close_note text,
      primary key (partition, notice_id)
    )`,
    sql`create table objections (
      partition text not null,
      objection_id text not null,
      notice_id text not null,
      household_id text,
      summary text not null,
      channel text not null,
      filed_on date not null,
      outcome text check (outcome in ('upheld', 'dismissed')),
      resolution_note text,
      filed_seq bigint not null,
      resolved_seq bigint,
      primary key (partition, objection_id)
    )`,
    sql`create index objections_notice on objections (partition, notice_id)`,
    // Daily sums per measure and dimension; a ten-day report (旬报) and a year are one range scan.
    // '' stands for "not applicable" in key columns (a primary key cannot hold nulls).
    sql`create table spending_progress (
      partition text not null,
      day date not null,
      measure text not null,
      fund_source text not null,
      document_number text not null,
      fiscal_year integer not null,
      village_code text not null,
      programme_code text not null,
      amount_fen bigint not null,
      movements integer not null,
      primary key (partition, day, measure, fund_source, document_number, fiscal_year, village_code, programme_code)
    )`,
  ];
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'spending_progress',
    'objections',
    'notices',
    'fiscal_years',
    'reversals',
    'payments',
    'rosters',
    'disbursements',
    'earmarks',
    'acceptances',
    'projects',
    'plan_lines',
    'plans',
    'integrations',
    'allocations',
    'receipts',
    'entries',
    'tranche_flows',
    'tranches',
    'balances',
    'accounts',
    'event_refs',
    'events',
  ]) {
    await sql`drop table if exists ${sql.id(table)}`.execute(db);
  }
}
