import { describe, expect, it } from 'vitest';
import type { RegionModel } from '../src/pages/model';
import { renderRegion } from '../src/pages/views';

// A city's page as the board renders it: the allocation tables each sit in their own scrolling
// box. Each table opened two boxes and closed one, so the issued table and everything after it
// (projects, notices, the checkpoint footer) ended up inside the received table's box.
const model: RegionModel = {
  kind: 'region',
  place: { code: '411300', name: '南阳市', level: 'city' },
  chain: [
    { code: '000000', name: '中央', level: 'central' },
    { code: '410000', name: '河南省', level: 'province' },
    { code: '411300', name: '南阳市', level: 'city' },
  ],
  partition: '411300',
  checkpoint: null,
  children: [{ code: '411325', name: '内乡县', level: 'county' }],
  allocations: {
    received: [
      {
        receiptId: 'RC-2024-411300',
        documentNumber: '财农〔2024〕32号',
        fundSource: 'central',
        fiscalYear: 2024,
        fromPartition: '410000',
        payer: null,
        amountFen: 800_000_000n,
        receivedOn: '2024-03-01',
        seq: 2n,
        reversed: false,
      },
    ],
    issued: [
      {
        allocationId: 'AL-2024-411325',
        toPartition: '411325',
        documentNumber: '财农〔2024〕33号',
        fundSource: 'central',
        fiscalYear: 2024,
        title: '2024年中央财政专项扶贫资金',
        issuedFen: 300_000_000n,
        receivedFen: 300_000_000n,
        inTransitFen: 0n,
        issuedOn: '2024-03-01',
        seq: 3n,
      },
    ],
    receivedTotalFen: 800_000_000n,
    issuedTotalFen: 300_000_000n,
    issuedReceivedTotalFen: 300_000_000n,
    inTransitTotalFen: 0n,
    partitionNames: { '410000': '河南省', '411325': '内乡县' },
  },
  projects: null,
  payments: null,
  progress: [],
  notices: [],
  villageNames: {},
  categoryNames: {},
};

describe('region page', () => {
  it('closes every box it opens, so the allocation tables do not nest', () => {
    const page = renderRegion(model, 'books v1');
    expect(page).toContain('财农〔2024〕33号');
    expect(page.match(/<div\b/g)?.length ?? 0).toBe(page.match(/<\/div>/g)?.length ?? 0);
    expect(page).not.toMatch(/<div class="scroll"><div class="scroll">/);
  });

  it('names the region money came from (来自) and went to (下达至), not its code', () => {
    const page = renderRegion(model, 'books v1');
    expect(page).toContain('<a href="/r/410000">河南省</a>');
    expect(page).toContain('<a href="/r/411325">内乡县</a>');
  });
});
