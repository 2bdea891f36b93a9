import type { ColumnType, Insertable, Selectable } from 'kysely';

/**
 * The ledger read models written by the projector (migration 0002-ledger-books). Conventions:
 * int8 is `bigint`; `date` arrives as 'YYYY-MM-DD' strings (see ./types); timestamptz as `Date`;
 * jsonb as parsed JSON. Key columns use '' for "not applicable" where a primary key needs a value.
 */

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type DateText = ColumnType<string, string, string>;

export interface EventsTable {
  /** Logical stream name without the deployment namespace, e.g. `LEDGER_411325`. */
  stream: string;
  seq: bigint;
  partition: string;
  context: string;
  /** Logical subject without the namespace, e.g. `ledger.411325.payment.p-1`. */
  subject: string;
  event_id: string;
  type: string;
  version: number;
  entity: string;
  entity_id: string;
  occurred_at: Timestamp;
  /** Business date in China Standard Time (UTC+8), the day the 旬报 counts it on. */
  occurred_on: DateText;
  recorded_at: Timestamp;
  actor_user_id: string;
  actor_role: string;
  actor_org: string;
  command_id: string;
  correlation_id: string;
  causation_id: string | null;
  /** Wire-form payload with every encrypted field (`…Enc`) removed. */
  data: ColumnType<unknown, string, string>;
  leaf_hash: Buffer;
}

export interface EventRefsTable {
  partition: string;
  ref_kind: string;
  ref_id: string;
  /** The event's `recorded_at` (migration 0012): the trail's order is part of the key. */
  recorded_at: Timestamp;
  stream: string;
  seq: bigint;
}

export interface AccountsTable {
  partition: string;
  account_id: string;
  kind: string;
  name: string;
  opened_seq: bigint;
}

export interface BalancesTable {
  partition: string;
  account_id: string;
  debit_fen: bigint;
  credit_fen: bigint;
  balance_fen: bigint;
}

export interface TranchesTable {
  partition: string;
  tranche_id: string;
  account_id: string;
  amount_fen: bigint;
  remaining_fen: bigint;
  fund_source: string;
  fiscal_year: number;
  purpose: string;
  document_number: string;
  movement_kind: string;
  movement_id: string;
  /** Money that entered the system here (external receipt): a root allocation. */
  is_root: boolean;
  created_seq: bigint;
  created_on: DateText;
}

export interface TrancheFlowsTable {
  partition: string;
  seq: bigint;
  piece_no: number;
  parent_partition: string;
  parent_tranche_id: string;
  child_kind: 'tranche' | 'payment' | 'allocation';
  child_id: string;
  amount_fen: bigint;
  flowed_on: DateText;
}

export interface EntriesTable {
  partition: string;
  seq: bigint;
  entry_no: number;
  account_id: string;
  tranche_id: string | null;
  side: 'debit' | 'credit';
  amount_fen: bigint;
  movement_kind: string;
  movement_id: string;
  booked_on: DateText;
}

export interface ReceiptsTable {
  partition: string;
  receipt_id: string;
  origin_kind: 'partition' | 'external';
  origin_partition: string | null;
  origin_allocation_id: string | null;
  payer: string | null;
  account_id: string;
  document_number: string;
  fund_source: string;
  purpose: string;
  fiscal_year: number;
  amount_fen: bigint;
  received_on: DateText;
  seq: bigint;
  reversed_seq: bigint | null;
}

export interface AllocationsTable {
  from_partition: string;
  allocation_id: string;
  to_partition: string;
  from_account_id: string | null;
  document_number: string | null;
  fund_source: string | null;
  purpose: string | null;
  fiscal_year: number | null;
  title: string | null;
  issued_fen: bigint | null;
  issued_on: DateText | null;
  issued_seq: bigint | null;
  received_fen: ColumnType<bigint, bigint | undefined, bigint>;
}

export interface IntegrationsTable {
  partition: string;
  integration_id: string;
  plan_id: string;
  line_id: string;
  account_id: string;
  document_number: string;
  purpose: string;
  amount_fen: bigint;
  integrated_on: DateText;
  seq: bigint;
  reversed_seq: bigint | null;
}

export interface PlansTable {
  partition: string;
  plan_id: string;
  document_number: string;
  title: string;
  fiscal_year: number;
  total_fen: bigint;
  approved_seq: bigint;
  adjusted_seq: bigint | null;
  adjustment_count: number;
}

export interface PlanLinesTable {
  partition: string;
  plan_id: string;
  line_id: string;
  category: string;
  title: string;
  amount_fen: bigint;
}

export interface ProjectsTable {
  partition: string;
  project_id: string;
  plan_id: string;
  line_id: string;
  name: string;
  village_code: string;
  category: string;
  budget_fen: bigint;
  account_id: string;
  implementing_unit_account_id: string;
  reimbursement: boolean;
  earmarked_fen: bigint;
  disbursed_fen: bigint;
  acceptance_count: number;
  approved_seq: bigint;
  approved_on: DateText;
  adjusted_seq: bigint | null;
}

export interface AcceptancesTable {
  partition: string;
  acceptance_id: string;
  project_id: string;
  document_number: string;
  accepted_on: DateText;
  inspected_by: string;
  seq: bigint;
}

export interface EarmarksTable {
  partition: string;
  earmark_id: string;
  project_id: string;
  from_account_id: string;
  to_account_id: string;
  amount_fen: bigint;
  earmarked_on: DateText;
  seq: bigint;
  reversed_seq: bigint | null;
}

export interface DisbursementsTable {
  partition: string;
  disbursement_id: string;
  project_id: string;
  from_account_id: string;
  to_account_id: string;
  amount_fen: bigint;
  acceptance_id: string | null;
  disbursed_on: DateText;
  seq: bigint;
  reversed_seq: bigint | null;
}

export interface RostersTable {
  partition: string;
  roster_id: string;
  programme_code: string;
  period: string;
  account_id: string;
  notice_id: string | null;
  row_count: number;
  total_fen: bigint;
  registry_seq: bigint;
  submitted_on: DateText;
  seq: bigint;
}

export type PaymentStatus = 'instructed' | 'settled' | 'returned' | 'reversed';

export interface PaymentsTable {
  partition: string;
  payment_id: string;
  roster_id: string | null;
  row_no: number | null;
  household_id: string;
  programme_code: string;
  period: string;
  quantity: number;
  amount_fen: bigint;
  account_id: string;
  notice_id: string | null;
  acceptance_ref: string | null;
  registry_seq: bigint;
  status: PaymentStatus;
  instructed_on: DateText;
  instructed_seq: bigint;
  settled_on: DateText | null;
  bank_reference: string | null;
  returned_on: DateText | null;
  return_reason: string | null;
  reversed_seq: bigint | null;
  status_seq: bigint;
}

export interface ReversalsTable {
  partition: string;
  reversal_id: string;
  movement_kind: string;
  movement_id: string;
  reason: string;
  amount_fen: bigint;
  reversed_on: DateText;
  seq: bigint;
}

export interface FiscalYearsTable {
  partition: string;
  fiscal_year: number;
  carried_over_fen: bigint;
  chunk_count: number;
  tranche_count: number;
  closed: boolean;
  closed_seq: bigint | null;
}

export interface NoticesTable {
  partition: string;
  notice_id: string;
  kind: string;
  title: string;
  stage: string;
  programme_code: string | null;
  period: string | null;
  subject_id: string | null;
  starts_on: DateText;
  ends_on: DateText;
  status: 'open' | 'closed';
  objection_count: number;
  open_objection_count: number;
  published_seq: bigint;
  closed_seq: bigint | null;
  close_note: string | null;
}

/** Proposed beneficiaries of a notice (公示名单), migration 0006-notice-lines. */
export interface NoticeLinesTable {
  partition: string;
  notice_id: string;
  line_no: number;
  household_id: string;
  /** Members the line pays for, comma-separated; '' for the household as a whole. */
  member_nos: string;
  quantity: number;
  amount_fen: bigint;
  seq: bigint;
}

export interface ObjectionsTable {
  partition: string;
  objection_id: string;
  notice_id: string;
  household_id: string | null;
  summary: string;
  channel: string;
  filed_on: DateText;
  outcome: 'upheld' | 'dismissed' | null;
  resolution_note: string | null;
  filed_seq: bigint;
  resolved_seq: bigint | null;
}

export interface SpendingProgressTable {
  partition: string;
  day: DateText;
  measure: string;
  fund_source: string;
  document_number: string;
  fiscal_year: number;
  village_code: string;
  programme_code: string;
  amount_fen: bigint;
  movements: number;
}

export interface HouseholdsTable {
  partition: string;
  household_id: string;
  village_code: string;
  cause_of_poverty: string;
  registered_on: DateText;
  status: 'registered' | 'lifted' | 'removed';
  exited_on: DateText | null;
  exit_reason: string | null;
  phone_hash: string | null;
  phone_masked: string | null;
  masking_version: number;
  account_bank: string | null;
  account_medium: string | null;
  account_hash: string | null;
  account_masked: string | null;
  account_holder_member_no: number | null;
  account_bound_on: DateText | null;
  member_count: number;
  living_member_count: number;
  registered_seq: bigint;
  updated_seq: bigint;
}

export interface MembersTable {
  partition: string;
  household_id: string;
  member_no: number;
  relation: string;
  name_masked: string;
  id_number_hash: string;
  id_number_masked: string;
  birth_year: number;
  sex: string;
  disability_category: string | null;
  disability_grade: number | null;
  died_on: DateText | null;
  added_seq: bigint;
}

export type FindingStatus = 'open' | 'reviewed' | 'traced' | 'rectified' | 'closed';

export interface FindingsTable {
  partition: string;
  finding_id: string;
  rule_id: string;
  rule_version: number;
  severity: string;
  summary: string;
  status: FindingStatus;
  review_outcome: string | null;
  resolution: string | null;
  recovered_fen: bigint;
  raised_on: DateText;
  raised_seq: bigint;
  closed_on: DateText | null;
  last_step_seq: bigint;
  step_count: number;
}

export interface FindingSubjectsTable {
  partition: string;
  finding_id: string;
  subject_context: string;
  subject_partition: string;
  subject_entity: string;
  subject_id: string;
  seq: bigint;
}

export interface FindingEvidenceTable {
  partition: string;
  finding_id: string;
  evidence_stream: string;
  evidence_seq: bigint;
  evidence_type: string;
  seq: bigint;
}

/** A poison event an operator quarantined, as the projector stepped over it (migration 0007). */
export interface QuarantinedEventsTable {
  stream: string;
  seq: bigint;
  partition: string;
  subject: string;
  claimed_type: string | null;
  leaf_hash: Buffer;
  bytes: Buffer;
  decode_error: string;
  reason: string;
  quarantine_stream: string;
  quarantine_seq: bigint;
  quarantined_by: string;
  quarantined_at: Timestamp;
}

/** The books: every table of migrations 0002-ledger-books, 0003-registry-audit-books, 0006-notice-lines and 0007. */
export interface BooksTables {
  events: EventsTable;
  event_refs: EventRefsTable;
  accounts: AccountsTable;
  balances: BalancesTable;
  tranches: TranchesTable;
  tranche_flows: TrancheFlowsTable;
  entries: EntriesTable;
  receipts: ReceiptsTable;
  allocations: AllocationsTable;
  integrations: IntegrationsTable;
  plans: PlansTable;
  plan_lines: PlanLinesTable;
  projects: ProjectsTable;
  acceptances: AcceptancesTable;
  earmarks: EarmarksTable;
  disbursements: DisbursementsTable;
  rosters: RostersTable;
  payments: PaymentsTable;
  reversals: ReversalsTable;
  fiscal_years: FiscalYearsTable;
  notices: NoticesTable;
  notice_lines: NoticeLinesTable;
  objections: ObjectionsTable;
  spending_progress: SpendingProgressTable;
  households: HouseholdsTable;
  members: MembersTable;
  findings: FindingsTable;
  finding_subjects: FindingSubjectsTable;
  finding_evidence: FindingEvidenceTable;
  quarantined_events: QuarantinedEventsTable;
}

export type BooksRow<T extends keyof BooksTables> = Selectable<BooksTables[T]>;
export type NewBooksRow<T extends keyof BooksTables> = Insertable<BooksTables[T]>;
