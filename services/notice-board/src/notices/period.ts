import { beijingOffsetMs } from '@fundtrace/events';
/**
 * A notice's period as a reader sees it (公示期): pure, with today passed in (Beijing date), so the
 * page and its tests agree on what "days left" means.
 */

/** Subsidy lists are posted at least 7 days unless a programme sets its own minimum (DOMAIN.md). */
export const noticeMinDaysDefault = 7;

export type NoticePhase = 'upcoming' | 'open' | 'ended' | 'closed';

export const phaseLabels: Readonly<Record<NoticePhase, string>> = {
  upcoming: '未开始',
  open: '公示中',
  ended: '公示期满',
  closed: '已结束',
};

export interface NoticePeriod {
  readonly phase: NoticePhase;
  /** Days of the period, both ends included. */
  readonly days: number;
  /** Days still to run, today included; 0 once the period is over. */
  readonly daysLeft: number;
  /** The programme's minimum, and whether the period is shorter (shown as a warning, never hidden). */
  readonly minDays: number;
  readonly tooShort: boolean;
}

const datePattern = /^\d{4}-\d{2}-\d{2}$/;
const dayMs = 86_400_000;

function dayNumber(date: string): number {
  if (!datePattern.test(date)) throw new RangeError(`expected YYYY-MM-DD, got ${date}`);
  const ms = Date.parse(`${date}T00:00:00Z`);
  // Date.parse rolls 02-30 over to 03-01; only a date that survives the round trip is real.
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== date)
    throw new RangeError(`not a calendar date: ${date}`);
  return ms / dayMs;
}

export function noticePeriod(input: {
  readonly startsOn: string;
  readonly endsOn: string;
  readonly closed: boolean;
  readonly today: string;
  readonly minDays: number;
}): NoticePeriod {
  const start = dayNumber(input.startsOn);
  const end = dayNumber(input.endsOn);
  const today = dayNumber(input.today);
  // The writer refuses a period that ends before it starts; a projection holding one is corrupt.
  if (end < start) throw new Error(`notice period ends ${input.endsOn} before it starts ${input.startsOn}`);
  const days = end - start + 1;
  const phase: NoticePhase = input.closed
    ? 'closed'
    : today < start
      ? 'upcoming'
      : today <= end
        ? 'open'
        : 'ended';
  const daysLeft = phase === 'open' ? end - today + 1 : phase === 'upcoming' ? days : 0;
  return { phase, days, daysLeft, minDays: input.minDays, tooShort: days < input.minDays };
}

/**
 * A moment for readers, in Beijing time like every date on the board: "2026-11-23 05:15:06（北京时间）",
 * not the UTC ISO form, which showed the day before the dates beside it.
 */
export function beijingTime(epochMs: number): string {
  const iso = new Date(epochMs + beijingOffsetMs).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}（北京时间）`;
}
