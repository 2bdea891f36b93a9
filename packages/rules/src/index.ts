/**
 * @fundtrace/rules: the warning rules (预警规则). Each rule is a pure, versioned function
 * `{ id, version, description, run(input) → findings }` over facts read from the projections;
 * finding ids are derived from rule, version, partition and what was found, so re-running a rule
 * version over the same history gives the same findings. audit-api runs them on a schedule and on
 * demand; the CLI can re-run them over history.
 */
export { loadRuleInput, ruleInputEventsMax } from './load';
export { loadReference, parseReference } from './programmes';
export { type IdleFundsParams, idleFunds } from './rules/idle';
export { noticeWithoutList, objectionUpheldPaid } from './rules/notices';
export {
  aboveStandard,
  duplicatePayment,
  falseClaim,
  falseClaimV1,
  procedureViolation,
  procedureViolationV1,
  purposeMismatch,
} from './rules/payments';
export { crossCountyIdentity, sharedAccount } from './rules/registry';
export { type SplitPaymentParams, splitPayment } from './rules/split';
export { type WithheldFundsParams, withheldFunds } from './rules/withheld';
export { findingsPerRuleMax, findRule, latestRules, type RaisedFinding, ruleSet, runRules } from './run';
export { daysBetween, findingIdFor } from './support';
export type * from './types';
