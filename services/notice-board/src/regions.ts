import { parentOf } from '@fundtrace/events';

/**
 * The five levels a reader walks: province → city → county → township → village. Provinces,
 * cities and counties have books (partitions); townships and villages live in their county's
 * books and are found through village codes (统计用区划代码, 9 and 12 digits). Levels and the
 * gazetteer (NOTICE_GAZETTEER_FILE) live in @fundtrace/events, shared with audit-api's 旬报.
 */

/** The county whose books hold a county, township or village code. */
export function countyOf(code: string): string {
  return code.slice(0, 6);
}

/** The region directly above: village → township → county → city → province → central. */
export function regionParent(code: string): string | undefined {
  if (code.length === 12) return code.slice(0, 9);
  if (code.length === 9) return code.slice(0, 6);
  return parentOf(code);
}

/** The chain from the top down to `code`, for the breadcrumb. */
export function regionChain(code: string): string[] {
  const chain: string[] = [];
  for (let c: string | undefined = code; c !== undefined; c = regionParent(c)) chain.unshift(c);
  return chain;
}
