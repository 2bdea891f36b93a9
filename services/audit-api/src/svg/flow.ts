import { formatYuan } from '@fundtrace/money';

/**
 * Server-rendered flow diagrams (Sankey-like) of traces: levels left to right, heights and band
 * widths proportional to money, every node a link to its trail. Plain SVG, no script, every text
 * escaped, so it opens anywhere (a browser, a report, an archive) and cannot run anything.
 */

export interface FlowNode {
  readonly id: string;
  /** 0 = leftmost (where the money came from). */
  readonly column: number;
  readonly label: string;
  readonly detail?: string;
  /** Where the node links to (its trail). */
  readonly href: string;
  readonly kind: 'source' | 'tranche' | 'payment' | 'household' | 'unit' | 'unspent' | 'transit' | 'returned';
}

export interface FlowEdge {
  readonly from: string;
  readonly to: string;
  readonly valueFen: bigint;
}

export interface FlowDiagram {
  readonly title: string;
  readonly nodes: readonly FlowNode[];
  readonly edges: readonly FlowEdge[];
}

/** Most nodes drawn: beyond this a diagram is unreadable; callers group the rest ("others"). */
export const flowNodesMax = 400;
/** Drawing geometry, in SVG user units. */
const columnWidth = 260;
const nodeWidth = 14;
const plotHeight = 640;
const nodeGap = 10;
/** Smallest node drawn, so a one-fen payment is still a visible, clickable link. */
const nodeHeightMin = 3;
const margin = 40;

const fills: Readonly<Record<FlowNode['kind'], string>> = {
  source: '#1f4e79',
  tranche: '#2e75b6',
  payment: '#548235',
  household: '#70ad47',
  unit: '#bf9000',
  unspent: '#a5a5a5',
  transit: '#c55a11',
  returned: '#7f6000',
};

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&apos;',
  );
}

/** Pixels for an amount, at `scale` pixels per `per` fen; money stays bigint until the last division. */
function pixels(valueFen: bigint, scaleNumerator: number, perFen: bigint): number {
  if (perFen === 0n) return 0;
  // Display geometry only: 6 significant digits of the ratio are more than a screen can show.
  return (Number((valueFen * 1_000_000n) / perFen) / 1_000_000) * scaleNumerator;
}

export function renderFlowSvg(diagram: FlowDiagram): string {
  if (diagram.nodes.length > flowNodesMax) {
    throw new RangeError(`a diagram draws at most ${flowNodesMax} nodes, got ${diagram.nodes.length}`);
  }
  const ids = new Set(diagram.nodes.map((n) => n.id));
  for (const e of diagram.edges) {
    if (!ids.has(e.from) || !ids.has(e.to)) throw new Error(`edge ${e.from} → ${e.to} names an unknown node`);
    if (e.valueFen < 0n) throw new RangeError(`edge ${e.from} → ${e.to} carries a negative amount`);
  }
  const inFen = new Map<string, bigint>();
  const outFen = new Map<string, bigint>();
  for (const e of diagram.edges) {
    outFen.set(e.from, (outFen.get(e.from) ?? 0n) + e.valueFen);
    inFen.set(e.to, (inFen.get(e.to) ?? 0n) + e.valueFen);
  }
  const value = (id: string) => {
    const a = inFen.get(id) ?? 0n;
    const b = outFen.get(id) ?? 0n;
    return a > b ? a : b;
  };
  const columns = new Map<number, FlowNode[]>();
  for (const n of diagram.nodes) columns.set(n.column, [...(columns.get(n.column) ?? []), n]);
  const columnCount = Math.max(0, ...columns.keys()) + 1;
  let maxTotal = 0n;
  let maxCount = 1;
  for (const list of columns.values()) {
    const total = list.reduce((s, n) => s + value(n.id), 0n);
    if (total > maxTotal) maxTotal = total;
    maxCount = Math.max(maxCount, list.length);
  }
  const usable = Math.max(plotHeight - nodeGap * (maxCount - 1), plotHeight / 4);
  const position = new Map<string, { x: number; y: number; h: number }>();
  for (const [column, list] of columns) {
    let y = margin + 30;
    for (const n of list) {
      const h = Math.max(nodeHeightMin, pixels(value(n.id), usable, maxTotal));
      position.set(n.id, { x: margin + column * columnWidth, y, h });
      y += h + nodeGap;
    }
  }
  const height = Math.max(...[...position.values()].map((p) => p.y + p.h), margin + 30) + margin;
  const width = margin * 2 + (columnCount - 1) * columnWidth + nodeWidth + 200;

  const outOffset = new Map<string, number>();
  const inOffset = new Map<string, number>();
  const bands: string[] = [];
  for (const e of diagram.edges) {
    const from = position.get(e.from)!;
    const to = position.get(e.to)!;
    const w = Math.max(1, pixels(e.valueFen, usable, maxTotal));
    const y0 = from.y + (outOffset.get(e.from) ?? 0) + w / 2;
    const y1 = to.y + (inOffset.get(e.to) ?? 0) + w / 2;
    outOffset.set(e.from, (outOffset.get(e.from) ?? 0) + w);
    inOffset.set(e.to, (inOffset.get(e.to) ?? 0) + w);
    const x0 = from.x + nodeWidth;
    const x1 = to.x;
    const mid = (x0 + x1) / 2;
    bands.push(
      `<path d="M${f(x0)},${f(y0)} C${f(mid)},${f(y0)} ${f(mid)},${f(y1)} ${f(x1)},${f(y1)}" stroke-width="${f(w)}"><title>${escapeXml(`${e.from} → ${e.to}: ${formatYuan(e.valueFen)} 元`)}</title></path>`,
    );
  }
  const nodes = diagram.nodes.map((n) => {
    const p = position.get(n.id)!;
    const text = `${n.label} · ${formatYuan(value(n.id))} 元`;
    return [
      `<a href="${escapeXml(n.href)}" xlink:href="${escapeXml(n.href)}">`,
      `<rect x="${f(p.x)}" y="${f(p.y)}" width="${nodeWidth}" height="${f(p.h)}" fill="${fills[n.kind]}"><title>${escapeXml(n.detail ? `${text}\n${n.detail}` : text)}</title></rect>`,
      `<text x="${f(p.x + nodeWidth + 4)}" y="${f(p.y + Math.min(p.h, 24) / 2 + 4)}">${escapeXml(text)}</text>`,
      '</a>',
    ].join('');
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${f(width)}" height="${f(height)}" viewBox="0 0 ${f(width)} ${f(height)}" font-family="sans-serif" font-size="11">`,
    `<title>${escapeXml(diagram.title)}</title>`,
    `<text x="${margin}" y="${margin}" font-size="14" font-weight="bold">${escapeXml(diagram.title)}</text>`,
    `<g fill="none" stroke="#9dc3e6" stroke-opacity="0.6">${bands.join('')}</g>`,
    `<g>${nodes.join('')}</g>`,
    '</svg>',
  ].join('\n');
}

function f(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}
