import type { audit } from '@fundtrace/events';
import type { z } from 'zod';

/**
 * The input every rule reads: facts of one partition's books taken from the projections (and the
 * trail of events they cite), plus the business date the run judges deadlines against. Plain
 * data, money in bigint fen: a rule is a pure function of it, so re-running a rule version over
 * the same history gives the same findings.
 */
export interface RuleInput {
  readonly partition: string;
  readonly level: 'central' | 'province' | 'city' | 'county';
  /** Business date (YYYY-MM-DD, Beijing) deadlines are measured to; comes in, never read from a clock. */
  readonly asOf: string;
  readonly programmes: ReadonlyMap<string, ProgrammeRef>;
  /** Purposes (用途) of money by code, for their names in summaries. */
  readonly purposes: ReadonlyMap<string, PurposeRef>;
  readonly tranches: readonly TrancheFact[];
  readonly payments: readonly PaymentFact[];
  readonly households: readonly HouseholdFact[];
  /** Members of households in other partitions whose ID hash also appears in this partition. */
  readonly membersElsewhere: readonly MemberElsewhere[];
  readonly notices: readonly NoticeFact[];
  readonly projects: readonly ProjectFact[];
  readonly acceptances: readonly AcceptanceFact[];
  readonly disbursements: readonly DisbursementFact[];
}

/** An event cited as evidence: stream without namespace, sequence, type. */
export type EvidenceRef = z.output<typeof audit.eventRefSchema>;
export type SubjectRef = z.output<typeof audit.entityRefSchema>;

/** What the rules need of a programme (补助项目) from the reference data. */
export interface ProgrammeRef {
  readonly code: string;
  /** Its name for staff (农村低保 一类 …), as the reference data gives it. */
  readonly name: string;
  readonly unit: string;
  readonly minFen: bigint | null;
  readonly maxFen: bigint | null;
  readonly needsAcceptance: boolean;
  readonly needsNotice: boolean;
  /** Tranche purposes (用途) that may pay it (专款专用). */
  readonly purposes: readonly string[];
}

/** A purpose (用途) of money from the reference data: what a summary calls it. */
export interface PurposeRef {
  readonly code: string;
  /** Its name for staff (社会保障兜底 (低保, 特困, 残疾人) …), as the reference data gives it. */
  readonly name: string;
}

/** The reference data the rules judge by (the ledger's programmes.v<N>.json). */
export interface RuleReference {
  readonly programmes: ReadonlyMap<string, ProgrammeRef>;
  readonly purposes: ReadonlyMap<string, PurposeRef>;
}

export interface TrancheFact {
  readonly trancheId: string;
  readonly accountId: string;
  readonly accountKind: string;
  readonly amountFen: bigint;
  readonly remainingFen: bigint;
  readonly purpose: string;
  readonly documentNumber: string;
  readonly createdOn: string;
  readonly movementKind: string;
  readonly created: EvidenceRef;
}

export interface PaymentPiece {
  readonly trancheId: string;
  readonly purpose: string;
  readonly amountFen: bigint;
}

export interface PaymentFact {
  readonly paymentId: string;
  readonly householdId: string;
  readonly programmeCode: string;
  readonly period: string;
  readonly quantity: number;
  readonly amountFen: bigint;
  readonly status: 'instructed' | 'settled' | 'returned' | 'reversed';
  readonly instructedOn: string;
  readonly noticeId: string | null;
  readonly acceptanceRef: string | null;
  readonly instructed: EvidenceRef;
  readonly pieces: readonly PaymentPiece[];
}

export interface MemberFact {
  readonly memberNo: number;
  readonly idNumberHash: string;
  readonly diedOn: string | null;
  /** The event that added the member (registration or MemberAdded). */
  readonly added: EvidenceRef;
  readonly died: EvidenceRef | null;
}

export interface HouseholdFact {
  readonly householdId: string;
  readonly villageCode: string;
  readonly registeredOn: string;
  readonly registered: EvidenceRef;
  readonly status: 'registered' | 'lifted' | 'removed';
  readonly exitedOn: string | null;
  readonly exited: EvidenceRef | null;
  readonly accountHash: string | null;
  /** The event that bound the current account (AccountBound or AccountChanged). */
  readonly accountBound: EvidenceRef | null;
  readonly members: readonly MemberFact[];
}

export interface MemberElsewhere {
  readonly partition: string;
  readonly householdId: string;
  readonly idNumberHash: string;
  readonly added: EvidenceRef;
}

export interface NoticeFact {
  readonly noticeId: string;
  readonly kind: string;
  /** The programme a programme or roster notice is about; null for allocation and project notices. */
  readonly programmeCode: string | null;
  /** Lines of its list of proposed households (公示名单, NoticeLinesPublished); 0 when published without one. */
  readonly lineCount: number;
  readonly status: 'open' | 'closed';
  readonly startsOn: string;
  readonly endsOn: string;
  readonly openObjectionCount: number;
  readonly published: EvidenceRef;
  /** Every objection (异议) filed on the notice, open or resolved, in the order filed. */
  readonly objections: readonly ObjectionFact[];
}

/** An objection as the books hold it; `filed` and `resolved` are events of the same ledger stream as payments. */
export interface ObjectionFact {
  readonly objectionId: string;
  /** The household line objected to; null for an objection to the notice as a whole. */
  readonly householdId: string | null;
  readonly filed: EvidenceRef;
  readonly resolved: EvidenceRef | null;
  /** 异议成立 (upheld: the household is not to be paid under the notice) or dismissed; null while open. */
  readonly outcome: 'upheld' | 'dismissed' | null;
  /**
   * The household's line on the notice's published list (公示名单) and the NoticeLinesPublished that
   * published it; null for an objection to the whole notice or on a notice published without a list.
   */
  readonly line: { readonly lineNo: number; readonly published: EvidenceRef } | null;
}

export interface ProjectFact {
  readonly projectId: string;
  readonly reimbursement: boolean;
  readonly implementingUnitAccountId: string;
  readonly approved: EvidenceRef;
}

export interface AcceptanceFact {
  readonly acceptanceId: string;
  readonly projectId: string;
  readonly documentNumber: string;
  readonly acceptedOn: string;
  readonly recorded: EvidenceRef;
}

export interface DisbursementFact {
  readonly disbursementId: string;
  readonly projectId: string;
  readonly toAccountId: string;
  readonly amountFen: bigint;
  readonly acceptanceId: string | null;
  readonly disbursedOn: string;
  readonly reversed: boolean;
  readonly disbursed: EvidenceRef;
}

/**
 * What a rule returns: a suspected violation with its evidence. `key` identifies the situation
 * within the rule (a tranche, a payment, a household and period …); the finding id is derived
 * from rule, version, partition and key, so the same data always yields the same id.
 */
export interface FindingDraft {
  readonly key: string;
  readonly severity: 'low' | 'medium' | 'high';
  readonly subjects: readonly SubjectRef[];
  readonly evidence: readonly EvidenceRef[];
  readonly amounts: readonly { readonly label: string; readonly amountFen: bigint }[];
  readonly summary: string;
}

/** A versioned rule: a new version is a new function beside the old, never an edit of it. */
export interface Rule<TParams = unknown> {
  readonly id: string;
  readonly version: number;
  /** 中文 term and what the rule looks for, for lists and the API. */
  readonly description: string;
  readonly defaults: TParams;
  run(input: RuleInput, params: TParams): readonly FindingDraft[];
}
