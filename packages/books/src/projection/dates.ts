/**
 * Business dates. Budgets, the 旬报 and the notice periods all count calendar days in China
 * Standard Time, which has had no daylight saving since 1991, so a fixed +08:00 offset is exact.
 */
const chinaOffsetMs = 8 * 60 * 60 * 1000;

/** The China calendar date (YYYY-MM-DD) of an RFC 3339 instant. */
export function businessDate(rfc3339: string): string {
  const ms = Date.parse(rfc3339);
  if (Number.isNaN(ms)) throw new RangeError(`not a date-time: ${rfc3339}`);
  return new Date(ms + chinaOffsetMs).toISOString().slice(0, 10);
}

/** 统计用区划代码: the first 9 of a village's 12 digits are its township (乡镇). */
export function townshipOf(villageCode: string): string {
  return villageCode.slice(0, 9);
}
