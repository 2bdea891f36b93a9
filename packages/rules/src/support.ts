import { createHash } from 'node:crypto';
import { formatYuan } from '@fundtrace/money';
import type { FindingDraft, RuleInput, SubjectRef } from './types';

const dayMs = 86_400_000;
const datePattern = /^\d{4}-\d{2}-\d{2}$/;

/** Whole days from `from` to `to` (both YYYY-MM-DD business dates); negative when `to` is earlier. */
export function daysBetween(from: string, to: string): number {
  if (!datePattern.test(from) || !datePattern.test(to)) {
    throw new RangeError(`dates must be YYYY-MM-DD, got ${from} and ${to}`);
  }
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / dayMs);
}

export function ledgerRef(partition: string, entity: string, id: string): SubjectRef {
  return { context: 'ledger', partition, entity, id };
}

export function householdRef(partition: string, id: string): SubjectRef {
  return { context: 'registry', partition, entity: 'household', id };
}

/** Hex characters of the digest kept in a finding id: 96 bits make a collision within one log absurd. */
const findingIdHashChars = 24;

/**
 * The finding id of a draft: `<ruleId>-v<version>-<hash>`, the hash over rule, version, partition
 * and the draft's key. Deterministic, so a re-run raises nothing new; versioned, so a new version
 * of a rule raises its own findings beside the old version's.
 */
export function findingIdFor(ruleId: string, version: number, partition: string, key: string): string {
  const hash = createHash('sha256')
    .update(`fundtrace/finding/v1\u0000${ruleId}\u0000${version}\u0000${partition}\u0000${key}`)
    .digest('hex')
    .slice(0, findingIdHashChars);
  // Rule ids are snake_case (≤ 64) so the id stays within a subject token's alphabet and length.
  return `${ruleId.slice(0, 64)}-v${version}-${hash}`;
}

/** Sorted and without repeats: evidence and subjects are sets, and their order must not depend on query plans. */
export function uniqueSorted<T>(items: readonly T[], keyOf: (item: T) => string): T[] {
  const byKey = new Map<string, T>();
  for (const item of items) byKey.set(keyOf(item), item);
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, item]) => item);
}

/** Normalises a draft: subjects and evidence sorted and unique, so equal data gives equal events. */
export function normalised(draft: FindingDraft): FindingDraft {
  return {
    ...draft,
    subjects: uniqueSorted(draft.subjects, (s) => `${s.context}.${s.partition}.${s.entity}.${s.id}`),
    evidence: uniqueSorted(draft.evidence, (e) => `${e.stream}#${String(e.seq).padStart(16, '0')}`),
  };
}

/**
 * 元 for summaries as everything else shows money, "3,500,000.00 元": the money package's
 * formatter (display only; amounts stay fen in `amounts`, and the summary is not part of the id).
 */
export function yuan(fen: bigint): string {
  return `${formatYuan(fen)} 元`;
}

/**
 * A programme (补助项目) as a summary names it: its name from the reference data (农村低保 一类 …),
 * because an inspector reads summaries, not codes. The code stays where it is structured data: in
 * the cited PaymentInstructed or NoticePublished event. A code the reference data does not know is
 * all there is to show, so it is shown as it is. Findings raised before keep their text (a re-run
 * skips a finding id the stream holds; the summary is not part of the id).
 */
export function programmeName(input: RuleInput, code: string): string {
  return input.programmes.get(code)?.name ?? code;
}

/**
 * A purpose (用途) of money as a summary names it: its name from the reference data (产业发展,
 * 社会保障兜底 (低保, 特困, 残疾人) …), never its code, for the same reason as programmes. The code
 * stays in the cited PaymentInstructed event; a code the reference data does not know is shown as it is.
 */
export function purposeName(input: RuleInput, code: string): string {
  return input.purposes.get(code)?.name ?? code;
}
