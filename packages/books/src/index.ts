/**
 * @fundtrace/books: the read-side repository over the projector's tables, for audit-api, the
 * notice board and the CLI. Every function takes a kysely instance bound to the live read-model
 * schema (see @fundtrace/db getActiveSchema) and only reads.
 */

export {
  allocationIssuedSeqs,
  type FindingsFilter,
  findingWithEvidence,
  householdExists,
  listFindings,
  paymentSeqs,
} from './audit';
export {
  type CheckResult,
  checkBooks,
  checkExamplesMax,
  type QuarantinedEvent,
  quarantinedEvents,
  quarantinedListMax,
} from './check';
export { booksTables, digestBooks, type TableDigest } from './digest';
export {
  householdOfListedLine,
  type ListedLine,
  type ListedObjection,
  listedTotals,
  publicListedLines,
} from './notice-lines';
export {
  type ProgressDimension,
  type ProgressQuery,
  type ProgressRow,
  progressDimensions,
  progressPeriodDaysMax,
  progressRowsMax,
  spendingProgress,
} from './progress';
export { analyzeChangedShare, analyzeStaleTables } from './projection/analyze';
export { type InvariantCode, invariantCodes, ProjectionInvariantError } from './projection/invariant';
export {
  paymentInstructedRows,
  paymentReturnedRow,
  paymentSettledRow,
  rosterRow,
} from './projection/ledger';
export { type BatchResult, projectBatch, type StoredEvent, withoutCiphertext } from './projection/project';
export { findQuarantine, type QuarantineFound, quarantineRecheckMs } from './projection/quarantine';
export { type RebuildOptions, type RebuildResult, rebuildBooks, switchSchema } from './projection/replay';
export {
  discoveryIntervalMs,
  durableFor,
  type Projector,
  type ProjectorOptions,
  projectorBatchSize,
  startProjector,
} from './projection/runner';
export { arrayParameter } from './projection/store';
export {
  type AllocationIssuedLine,
  type AllocationReceivedLine,
  householdOfNoticeLine,
  type NoticeLine,
  type NoticeSummary,
  noticeLinesMax,
  type ObjectionLine,
  type ProjectLine,
  partitionsWithBooks,
  projectionVersion,
  publicAllocations,
  publicNotice,
  publicNoticeLines,
  publicNotices,
  publicObjections,
  publicPaymentsByVillage,
  publicProjects,
  publicRowsMax,
  type VillagePayments,
  villagesWithBooks,
} from './public';
export {
  type RegistryHousehold,
  type RegistryMember,
  type RegistryPage,
  registryHousehold,
  registryHouseholdByIdHash,
  registryHouseholdsByNumber,
  registryPageMax,
  registryProjectedSeq,
  registryVillageHouseholds,
  waitForRegistrySeq,
} from './registry';
export {
  type AllocationTrace,
  type HouseholdReached,
  traceAllocationDown,
  traceDownRowsMax,
  type UnitReached,
} from './trace-down';
export {
  householdTraceQuery,
  lineageDepthMax,
  type PaymentTrace,
  type TraceHop,
  type TraceRoot,
  type TrancheInfo,
  traceHouseholdUp,
  tracePaymentsMax,
  tracePaymentsUp,
  tracePaymentUp,
} from './trace-up';
export {
  entityTrail,
  entityTrailQuery,
  type TrailEvent,
  type TrailQuery,
  type TrailRow,
  trailPageMax,
} from './trail';
