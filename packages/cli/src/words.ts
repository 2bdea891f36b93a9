import { readFileSync } from 'node:fs';
import { type audit, ledger } from '@fundtrace/events';
import type { YuanRejectionCode } from '@fundtrace/money';

/**
 * The CLI's words for the officer and the inspector who read it (decision 0135): one Chinese word
 * per concept, the glossary's (../shared/DOMAIN.md), and the same word the notice board and the
 * ledger's refusals use where they share a concept (payment statuses come from @fundtrace/events).
 * Ids, codes, 文号, dates and amounts stay as they are; `--json` output is not worded at all.
 */

/** A payment's status as the notice board shows it: 发放中, 已到账, 银行退回, 已冲正. */
export function paymentStatusName(status: string): string {
  return ledger.codeLabel(ledger.paymentStatusLabels, status);
}

type FindingStatus = 'open' | 'reviewed' | 'traced' | 'rectified' | 'closed';

/**
 * Where a warning (预警) stands on its way 预警 → 复核 → 溯源 → 整改 → 销号: the step it waits for,
 * or the last one done, in the words of the steps themselves.
 */
export const findingStatusLabels: Readonly<Record<FindingStatus, string>> = {
  open: '待复核',
  reviewed: '已复核',
  traced: '已溯源',
  rectified: '已整改',
  closed: '已销号',
};

export const severityLabels: Readonly<Record<(typeof audit.findingSeverities)[number], string>> = {
  high: '高',
  medium: '中',
  low: '低',
};

/** The finding steps the CLI records, by their path in audit-api, as the inspector names them. */
export const findingStepLabels: Readonly<Record<string, string>> = {
  review: '复核',
  trace: '溯源',
  rectify: '整改',
  close: '销号',
  reopen: '重新打开',
};

export const reviewOutcomeLabels: Readonly<Record<(typeof audit.reviewOutcomes)[number], string>> = {
  confirmed: '属实',
  dismissed: '不属实',
  needs_trace: '需溯源',
};

export const closeResolutionLabels: Readonly<Record<(typeof audit.closeResolutions)[number], string>> = {
  rectified: '已整改',
  dismissed: '不属实',
  referred: '移送',
};

export function findingStatusName(status: string): string {
  return ledger.codeLabel(findingStatusLabels, status);
}

export function severityName(severity: string): string {
  return ledger.codeLabel(severityLabels, severity);
}

/**
 * The programme reference data the ledger publishes, read as audit-api and the notice board read
 * it: the names of purposes (用途). A data file, not a service's code.
 */
const referenceFile = new URL('../../../services/ledger-api/reference/programmes.v1.json', import.meta.url);

let purposeNames: ReadonlyMap<string, string> | undefined;

/**
 * A purpose's Chinese name: the reference data's, without the English gloss it carries for staff
 * (`综合扶贫 (any poverty-alleviation use)` → 综合扶贫, as the notice board shows it); a
 * parenthesis in Chinese (住房安全 (危房改造)) stays. A code it does not know is shown as it is.
 */
export function purposeName(code: string): string {
  if (purposeNames === undefined) {
    let names: [string, string][] = [];
    try {
      const parsed = JSON.parse(readFileSync(referenceFile, 'utf8')) as {
        purposes?: { code: string; name: string }[];
      };
      names = (parsed.purposes ?? []).map((p) => [p.code, ledger.purposeDisplayName(p.name)]);
    } catch {
      // Without the reference file (a CLI copied alone) codes are shown as they are.
    }
    purposeNames = new Map(names);
  }
  return purposeNames.get(code) ?? code;
}

/**
 * Why a cell is not an amount of 元, for the officer, keyed by @fundtrace/money's stable codes (its
 * own messages stay English for its other callers). `shown` is the cell as typed.
 */
export function yuanProblem(code: YuanRejectionCode, shown: string): string {
  const cell = shown.trim();
  switch (code) {
    case 'empty':
      return '金额未填写';
    case 'too_long':
      return `金额文字过长（${cell.length} 个字符），请只填数字`;
    case 'not_a_number':
      return `“${cell}”不是以元为单位的金额`;
    case 'scientific_notation':
      return `“${cell}”是科学计数法，请填写完整数字`;
    case 'misplaced_separator':
      return `“${cell}”的千分位逗号位置不对`;
    case 'leading_zeros':
      return `“${cell}”以 0 开头，不像金额（是否填成了编号？）`;
    case 'too_many_decimals':
      return `“${cell}”超过两位小数（金额最小到分）`;
    case 'wan_not_allowed':
      return `“${cell}”以万为单位，此处请以元填写`;
    case 'plus_sign_not_allowed':
      return `“${cell}”带有“+”号，请去掉`;
    case 'negative_not_allowed':
      return `“${cell}”是负数，此处不接受负数金额`;
    case 'zero_not_allowed':
      return `“${cell}”为零，金额不能为零`;
    case 'too_large':
      return `“${cell}”超过系统可接受的最大金额`;
  }
}
