/**
 * The Chinese names of the ledger's codes that a reader meets: the notice board's pages and the
 * ledger's refusals (decision 0131) say the same words for the same state. An unknown code is
 * shown as it is (`codeLabel`). 资金来源 names are `fundSourceLabels` (common.ts).
 */

/** A payment's status, as the notice board shows it. */
export const paymentStatusLabels: Readonly<Record<string, string>> = {
  instructed: '发放中',
  settled: '已到账',
  returned: '银行退回',
  reversed: '已冲正',
};

/** The outcome of an objection (异议). */
export const objectionOutcomeLabels: Readonly<Record<string, string>> = {
  upheld: '异议成立',
  dismissed: '异议不成立',
};

/** Notice stages of the programmes' chains (reference data), e.g. 三榜公示 for housing. */
export const noticeStageLabels: Readonly<Record<string, string>> = {
  first: '第一榜',
  second: '第二榜',
  third: '第三榜',
  township: '乡镇审核公示',
  county: '县级审批公示',
  approval: '审批公示',
  first_review: '初审公示',
};

/** What a notice publishes (NoticePublished.kind). */
export const noticeKindLabels: Readonly<Record<string, string>> = {
  roster: '发放名单',
  programme: '补助对象',
  allocation: '资金分配',
  project: '项目',
};

/**
 * A purpose's (用途) name as readers see it: the programme reference data glosses some names in
 * English for staff ("综合扶贫 (any poverty-alleviation use)"); a trailing parenthesis without Chinese
 * is dropped, one in Chinese (住房安全 (危房改造)) stays. The notice board and the CLI both show it.
 */
export function purposeDisplayName(name: string): string {
  return name.replace(/\s*\([\x20-\x7e]*\)$/, '') || name;
}

/** A code's name in `labels`; a code it does not know, as it is. */
export function codeLabel(labels: Readonly<Record<string, string>>, code: string): string {
  return labels[code] ?? code;
}
