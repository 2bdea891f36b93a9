import { idleFunds } from './rules/idle';
import { noticeWithoutList, objectionUpheldPaid } from './rules/notices';
import {
  aboveStandard,
  duplicatePayment,
  falseClaim,
  falseClaimV1,
  procedureViolation,
  procedureViolationV1,
  purposeMismatch,
} from './rules/payments';
import { crossCountyIdentity, sharedAccount } from './rules/registry';
import { splitPayment } from './rules/split';
import { withheldFunds } from './rules/withheld';
import { findingIdFor, normalised } from './support';
import type { FindingDraft, Rule, RuleInput } from './types';

/** Every rule version fundtrace knows. A new version is added beside the old one, never in its place. */
export const ruleSet: readonly Rule<never>[] = [
  idleFunds,
  withheldFunds,
  purposeMismatch,
  procedureViolationV1,
  procedureViolation,
  noticeWithoutList,
  objectionUpheldPaid,
  falseClaimV1,
  falseClaim,
  duplicatePayment,
  sharedAccount,
  crossCountyIdentity,
  aboveStandard,
  splitPayment,
] as unknown as readonly Rule<never>[];

/** The rule set in use: the latest version of each rule id. */
export function latestRules(rules: readonly Rule<never>[] = ruleSet): Rule<never>[] {
  const latest = new Map<string, Rule<never>>();
  for (const rule of rules) {
    const known = latest.get(rule.id);
    if (known === undefined || known.version < rule.version) latest.set(rule.id, rule);
  }
  return [...latest.values()];
}

export function findRule(id: string, version?: number): Rule<never> | undefined {
  const matching = ruleSet.filter((r) => r.id === id);
  if (version === undefined) return latestRules(matching)[0];
  return matching.find((r) => r.version === version);
}

/** A finding ready to be raised: the payload of FindingRaised v1 (money in bigint fen). */
export interface RaisedFinding extends Omit<FindingDraft, 'key'> {
  readonly findingId: string;
  readonly ruleId: string;
  readonly ruleVersion: number;
}

/**
 * Most findings one rule may raise in one run. A rule that finds more than this over one county is
 * misconfigured (a threshold of 0) rather than describing the books; the run stops loudly.
 */
export const findingsPerRuleMax = 10_000;

/**
 * Runs rules over one partition's input and returns their findings with deterministic ids, in a
 * stable order (rule, then finding id). `params` overrides a rule's defaults by rule id.
 */
export function runRules(
  input: RuleInput,
  rules: readonly Rule<never>[] = latestRules(),
  params: Readonly<Record<string, unknown>> = {},
): RaisedFinding[] {
  const out: RaisedFinding[] = [];
  for (const rule of rules) {
    const merged = { ...(rule.defaults as object), ...((params[rule.id] as object | undefined) ?? {}) };
    const drafts = (rule as unknown as Rule<unknown>).run(input, merged);
    if (drafts.length > findingsPerRuleMax) {
      throw new RangeError(
        `rule ${rule.id} v${rule.version} raised ${drafts.length} findings in ${input.partition}, more than ${findingsPerRuleMax}`,
      );
    }
    const seen = new Set<string>();
    const raised = drafts.map((draft) => {
      const findingId = findingIdFor(rule.id, rule.version, input.partition, draft.key);
      if (seen.has(findingId)) {
        throw new Error(`rule ${rule.id} v${rule.version} gave two findings the key ${draft.key}`);
      }
      seen.add(findingId);
      const { key: _key, ...rest } = normalised(draft);
      return { ...rest, findingId, ruleId: rule.id, ruleVersion: rule.version };
    });
    raised.sort((a, b) => (a.findingId < b.findingId ? -1 : a.findingId > b.findingId ? 1 : 0));
    out.push(...raised);
  }
  return out;
}
