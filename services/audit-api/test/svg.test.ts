import { describe, expect, it } from 'vitest';
import { escapeXml, flowNodesMax, renderFlowSvg } from '../src/svg/flow';

const node = (id: string, column: number, label = id) => ({
  id,
  column,
  label,
  href: `/trail/${id}?a=1&b=2`,
  kind: 'tranche' as const,
});

describe('SVG flow diagrams', () => {
  it('escapes every text and link, and contains no script', () => {
    const svg = renderFlowSvg({
      title: '<script>alert(1)</script> & 文号',
      nodes: [node('a', 0, '"><script>x</script>'), node('b', 1)],
      edges: [{ from: 'a', to: 'b', valueFen: 100n }],
    });
    expect(svg).not.toContain('<script');
    expect(svg).toContain('&lt;script&gt;');
    expect(svg).toContain('href="/trail/a?a=1&amp;b=2"');
    expect(escapeXml(`&<>"'`)).toBe('&amp;&lt;&gt;&quot;&apos;');
  });

  it('draws heights proportional to money, levels left to right, every node linked', () => {
    const svg = renderFlowSvg({
      title: 't',
      nodes: [node('root', 0), node('big', 1), node('small', 1)],
      edges: [
        { from: 'root', to: 'big', valueFen: 300_00n },
        { from: 'root', to: 'small', valueFen: 100_00n },
      ],
    });
    const rects = [...svg.matchAll(/<rect x="([\d.]+)" y="[\d.]+" width="\d+" height="([\d.]+)"/g)].map(
      (m) => ({
        x: Number(m[1]),
        h: Number(m[2]),
      }),
    );
    expect(rects).toHaveLength(3);
    const [root, big, small] = rects as [
      { x: number; h: number },
      { x: number; h: number },
      { x: number; h: number },
    ];
    expect(big.h / small.h).toBeCloseTo(3, 5);
    expect(root.h).toBeCloseTo(big.h + small.h, 5);
    expect(big.x).toBeGreaterThan(root.x);
    expect((svg.match(/<a href=/g) ?? []).length).toBe(3);
    expect(svg).toContain('300.00 元');
  });

  it('refuses edges to unknown nodes, negative amounts and too many nodes', () => {
    expect(() =>
      renderFlowSvg({ title: 't', nodes: [node('a', 0)], edges: [{ from: 'a', to: 'x', valueFen: 1n }] }),
    ).toThrow(/unknown node/);
    expect(() =>
      renderFlowSvg({
        title: 't',
        nodes: [node('a', 0), node('b', 1)],
        edges: [{ from: 'a', to: 'b', valueFen: -1n }],
      }),
    ).toThrow(RangeError);
    const many = Array.from({ length: flowNodesMax + 1 }, (_, i) => node(`n${i}`, 0));
    expect(() => renderFlowSvg({ title: 't', nodes: many, edges: [] })).toThrow(RangeError);
  });
});
