import { formatYuan } from '@fundtrace/money';
import { type Html, html } from './escape';

/**
 * Spending progress as a horizontal bar chart in inline SVG: one bar per township or village, the
 * spent share of its budget drawn and the figures written beside it, so the picture never replaces
 * the number (and a screen reader gets the figures from the table the chart accompanies).
 */

export interface ProgressBar {
  readonly label: string;
  readonly href?: string;
  /** The whole the bar is measured against (budget plus household payments planned or made). */
  readonly totalFen: bigint;
  /** What has been spent of it (disbursed plus paid). */
  readonly spentFen: bigint;
}

/** Bars per chart: more than this is a table's job, not a picture's. */
export const chartBarsMax = 200;

/**
 * Each area takes two rows: its name and figures, then the bar across the whole width. A phone
 * screen (360–420 px) shows the chart at about its natural size, so the text stays legible.
 */
const rowHeight = 46;
const chartWidth = 400;
const barHeight = 14;

export function perMille(part: bigint, whole: bigint): number {
  if (whole <= 0n) return 0;
  const clamped = part < 0n ? 0n : part > whole ? whole : part;
  return Number((clamped * 1000n) / whole);
}

export function formatPercent(part: bigint, whole: bigint): string {
  const pm = perMille(part, whole);
  return `${Math.floor(pm / 10)}.${pm % 10}%`;
}

export function progressChart(title: string, bars: readonly ProgressBar[]): Html {
  const shown = bars.slice(0, chartBarsMax);
  const height = shown.length * rowHeight + 4;
  return html`<figure>
<svg role="img" aria-label="${title}" viewBox="0 0 ${chartWidth} ${height}" width="100%" style="max-width:${chartWidth * 1.5}px" xmlns="http://www.w3.org/2000/svg">
<title>${title}</title>
${shown.map((bar, i) => {
  const y = 4 + i * rowHeight;
  const filled = Math.round((perMille(bar.spentFen, bar.totalFen) * chartWidth) / 1000);
  return html`<g>
<text x="0" y="${y + 15}" font-size="14">${bar.label}  ${formatPercent(bar.spentFen, bar.totalFen)}  ${formatYuan(bar.spentFen)} / ${formatYuan(bar.totalFen)} 元</text>
<rect x="0" y="${y + 22}" width="${chartWidth}" height="${barHeight}" fill="#eee" stroke="#999"/>
<rect x="0" y="${y + 22}" width="${filled}" height="${barHeight}" fill="#b22"/>
</g>`;
})}
</svg>
<figcaption>${title}${bars.length > chartBarsMax ? html`（仅显示前 ${chartBarsMax} 项，完整数字见下表）` : ''}</figcaption>
</figure>`;
}
