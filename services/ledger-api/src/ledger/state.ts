import type { ledger } from '@fundtrace/events';

type AccountKind = ledger.AccountKind;
type FundSource = ledger.FundSource;
type LedgerData<T extends ledger.LedgerEventType> = ledger.LedgerData<T>;
type LedgerEventType = ledger.LedgerEventType;
type ReversibleKind = ledger.ReversibleKind;
type TrancheDebit = ledger.TrancheDebit;

/**
 * The writer's in-memory picture of one partition's books, rebuilt from
 * LEDGER_<code>. It is mutable on purpose: a county holds about a million events
 * and a hundred thousand payments, and copying maps per event would make a cold
 * rebuild quadratic. Only `evolve` mutates it; `decide` only reads it.
 */

export interface TrancheState {
  readonly id: string;
  readonly accountId: string;
  readonly amountFen: bigint;
  remainingFen: bigint;
  readonly fundSource: FundSource;
  readonly fiscalYear: number;
  readonly purpose: string;
  readonly documentNumber: string;
  /** Position in its account's FIFO list. */
  readonly index: number;
}

export interface AccountState {
  readonly id: string;
  readonly kind: AccountKind;
  readonly name: string;
  balanceFen: bigint;
  /** In creation order: FIFO picks from the front. */
  readonly tranches: TrancheState[];
  /** Every tranche before this index has nothing left, so FIFO scans start here. */
  exhaustedBefore: number;
}

/** A booked movement that consumed and/or created tranches, kept for reversals. */
export interface MovementState {
  readonly kind: ReversibleKind | 'allocation' | 'carry_over';
  readonly id: string;
  readonly amountFen: bigint;
  readonly consumed: readonly TrancheDebit[];
  readonly created: readonly string[];
  readonly external: boolean;
  readonly projectId: string | null;
  readonly planLine: { planId: string; lineId: string } | null;
  reversed: boolean;
}

export interface PlanLineState {
  readonly category: string;
  amountFen: bigint;
  /** Σ budgets of the projects approved against this line. */
  committedFen: bigint;
  /** Σ funds integrated under this line (统筹整合). */
  integratedFen: bigint;
}

export interface PlanState {
  readonly id: string;
  readonly fiscalYear: number;
  totalFen: bigint;
  lines: Map<string, PlanLineState>;
}

export interface ProjectState {
  readonly id: string;
  readonly planId: string;
  readonly lineId: string;
  readonly category: string;
  readonly villageCode: string;
  readonly accountId: string;
  readonly reimbursement: boolean;
  budgetFen: bigint;
  implementingUnitAccountId: string;
  earmarkedFen: bigint;
  disbursedFen: bigint;
}

export type PaymentStatus = 'instructed' | 'settled' | 'returned' | 'reversed';

export interface PaymentState {
  readonly id: string;
  readonly householdId: string;
  readonly programmeCode: string;
  readonly period: string;
  readonly amountFen: bigint;
  readonly accountId: string;
  readonly rosterId: string | null;
  readonly consumed: readonly TrancheDebit[];
  status: PaymentStatus;
  /**
   * The bank's result as recorded, so a result given again is told apart from one that contradicts
   * it (decision 0134): the 银行流水号 of its settlement (null unless settled) and the date of its
   * settlement or return (null while instructed, or reversed). The 失败原因 of a return is not kept.
   * Two fields on every payment; the dates are 10-character strings V8's JSON.parse shares.
   */
  bankReference: string | null;
  resultOn: string | null;
}

export interface RosterState {
  readonly id: string;
  readonly programmeCode: string;
  readonly period: string;
  readonly rowCount: number;
  readonly totalFen: bigint;
  instructed: number;
  settled: number;
  returned: number;
  reversed: number;
  settledFen: bigint;
}

export interface NoticeState {
  readonly id: string;
  readonly kind: LedgerData<'NoticePublished'>['kind'];
  readonly programmeCode: string | null;
  readonly period: string | null;
  readonly stage: string;
  readonly subjectId: string | null;
  readonly startsOn: string;
  readonly endsOn: string;
  closed: boolean;
  /** Open objections against the whole notice. */
  openWide: number;
  /** Open objections per household. */
  readonly openByHousehold: Map<string, number>;
  /** Households whose objection was upheld: they are not paid under this notice. */
  readonly upheldHouseholds: Set<string>;
  /**
   * The proposed beneficiaries published with the notice (公示名单), by household. Empty for a
   * notice that lists nobody (an allocation or project notice, or one published before lines
   * existed); when not empty, a payment under the notice must match its line (未经公示).
   */
  readonly lines: Map<string, NoticeLineState>;
}

export interface NoticeLineState {
  readonly line: number;
  readonly quantity: number;
  readonly amountFen: bigint;
}

export interface ObjectionState {
  readonly id: string;
  readonly noticeId: string;
  readonly householdId: string | null;
  outcome: 'upheld' | 'dismissed' | null;
}

export interface AllocationState {
  readonly id: string;
  readonly toPartition: string;
  readonly amountFen: bigint;
  readonly fiscalYear: number;
}

/** Running totals; evolve keeps them so invariants are checked in O(1) per event. */
export interface LedgerTotals {
  /** Money that entered the system here from outside (root tranches), net of reversed receipts. */
  rootReceivedFen: bigint;
  /** Money received from other partitions (到账). */
  receivedFromPartitionsFen: bigint;
  /** Money issued to other partitions. */
  issuedFen: bigint;
  /** Reserved by instructed, not yet settled or returned payments. */
  reservedFen: bigint;
  /** Paid out to households (settled). */
  settledFen: bigint;
  /** Σ account balances. */
  balanceFen: bigint;
}

export interface LedgerState {
  readonly partition: string;
  /** Last LEDGER stream sequence applied (0 = empty stream). */
  seq: number;
  readonly accounts: Map<string, AccountState>;
  readonly tranches: Map<string, TrancheState>;
  /** Keyed `<kind>:<id>`. */
  readonly movements: Map<string, MovementState>;
  readonly allocations: Map<string, AllocationState>;
  /** `<issuing partition>:<allocation id>` of allocations received here. */
  readonly receivedOrigins: Set<string>;
  readonly plans: Map<string, PlanState>;
  readonly projects: Map<string, ProjectState>;
  /** Acceptance id → project id. */
  readonly acceptances: Map<string, string>;
  readonly payments: Map<string, PaymentState>;
  /** `<household>|<programme>|<period>` → id of the live (instructed or settled) payment. */
  readonly paymentKeys: Map<string, string>;
  readonly rosters: Map<string, RosterState>;
  readonly notices: Map<string, NoticeState>;
  readonly objections: Map<string, ObjectionState>;
  readonly reversals: Set<string>;
  readonly closedYears: Set<number>;
  /** TranchesCarriedOver chunks booked per fiscal year, so a resumed close continues the numbering. */
  readonly carryOverChunks: Map<number, number>;
  readonly totals: LedgerTotals;
  /** How many events of each type were applied: cheap observability for the rebuild. */
  readonly eventCounts: Map<LedgerEventType, number>;
}

export function initialState(partition: string): LedgerState {
  return {
    partition,
    seq: 0,
    accounts: new Map(),
    tranches: new Map(),
    movements: new Map(),
    allocations: new Map(),
    receivedOrigins: new Set(),
    plans: new Map(),
    projects: new Map(),
    acceptances: new Map(),
    payments: new Map(),
    paymentKeys: new Map(),
    rosters: new Map(),
    notices: new Map(),
    objections: new Map(),
    reversals: new Set(),
    closedYears: new Set(),
    carryOverChunks: new Map(),
    totals: {
      rootReceivedFen: 0n,
      receivedFromPartitionsFen: 0n,
      issuedFen: 0n,
      reservedFen: 0n,
      settledFen: 0n,
      balanceFen: 0n,
    },
    eventCounts: new Map(),
  };
}

export function movementKey(kind: MovementState['kind'], id: string): string {
  return `${kind}:${id}`;
}

export function paymentKey(householdId: string, programmeCode: string, period: string): string {
  return `${householdId}|${programmeCode}|${period}`;
}

export function originKey(partition: string, allocationId: string): string {
  return `${partition}:${allocationId}`;
}

/** Tranche ids are derived, never chosen by clients: `<prefix>_<movement id>_<n>`, unique per partition. */
export function trancheIdFor(
  prefix: 'rc' | 'ig' | 'em' | 'db' | 'co',
  movementId: string,
  n: number,
): string {
  return `${prefix}_${movementId}_${n}`;
}
