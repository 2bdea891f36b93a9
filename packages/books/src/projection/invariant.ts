/**
 * The invariants the projector asserts while it applies events. A broken one is not a rejection
 * (the writer already decided): it means the log and the books disagree, so the projector stops
 * with an error naming the event and the invariant, and never skips the event.
 */
export const invariantCodes = [
  /** Σ debit entries ≠ Σ credit entries for one event. */
  'entries_unbalanced',
  /** An account (other than a nominal source) would go below zero. */
  'balance_negative',
  /** Σ flows out of a tranche would exceed its amount (its remainder would go below zero). */
  'tranche_overdrawn',
  /** Money restored to a tranche would exceed its amount. */
  'tranche_overfilled',
  /** A debit, restore or cancel names a tranche the books do not hold, or one in another account. */
  'tranche_unknown',
  /** A credit creates a tranche id that already exists. */
  'tranche_duplicate',
  /** A credit's parents do not sum to its amount, a non-root credit has none, or a root has some. */
  'lineage_broken',
  /** A payment consumes a tranche whose lineage does not reach a root allocation. */
  'payment_unrooted',
  /** An entity is created twice (account, project, payment, notice …). */
  'entity_duplicate',
  /** An event refers to an entity the books do not hold. */
  'entity_unknown',
  /** A state transition the entity's life cycle does not allow (settling a returned payment …). */
  'transition_invalid',
  /** Stated totals disagree with their parts (a plan's lines, a year's carry-over, a reversal). */
  'total_mismatch',
  /** A return or reversal does not give money back to exactly the tranches it came from. */
  'restore_mismatch',
] as const;
export type InvariantCode = (typeof invariantCodes)[number];

/** Where the broken invariant was found: enough to open the event in the log. */
export interface EventPosition {
  readonly stream: string;
  readonly seq: number;
  readonly type: string;
}

export class ProjectionInvariantError extends Error {
  override readonly name = 'ProjectionInvariantError';
  constructor(
    readonly position: EventPosition,
    readonly invariant: InvariantCode,
    readonly detail: string,
  ) {
    super(
      `invariant ${invariant} broken by ${position.type} at ${position.stream} #${position.seq}: ${detail}`,
    );
  }
}
