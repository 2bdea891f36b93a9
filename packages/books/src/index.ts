/**
 * @fundtrace/books: the read-side repository over the projector's tables, for audit-api, the
 * notice board and the CLI. Every function takes a kysely instance bound to the live read-model
 * schema (see @fundtrace/db getActiveSchema) and only reads.
 */
export {
  type ProgressDimension,
  type ProgressQuery,
  type ProgressRow,
  progressDimensions,
  progressPeriodDaysMax,
  progressRowsMax,
  spendingProgress,
} from './progress';
export {
  type AllocationTrace,
  type HouseholdReached,
  traceAllocationDown,
  traceDownRowsMax,
  type UnitReached,
} from './trace-down';
export {
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
export { entityTrail, type TrailEvent, type TrailQuery, trailPageMax } from './trail';
