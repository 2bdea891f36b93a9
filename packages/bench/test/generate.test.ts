import { householdHeader, validateIdNumber } from '@fundtrace/pii';
import { describe, expect, it } from 'vitest';
import { type CommandLine, type GenerateSummary, generateCommands } from '../../cli/src/commands/generate';

// What `fundtrace generate` promises: the same seed gives the same data, the data is valid where
// the writers check it (ID numbers, amounts as digit strings, ids as NATS tokens), money flows
// down the levels before it is spent, and the province scale has at least 20 counties.

function collect(options: Parameters<typeof generateCommands>[0]) {
  const summary: GenerateSummary = {
    scale: '',
    seed: '',
    counties: 0,
    years: 0,
    households: 0,
    commands: 0,
    expectedEvents: 0,
    payments: 0,
  };
  const lines = [...generateCommands(options, summary)];
  return { lines, summary };
}

describe('fundtrace generate', () => {
  const county = collect({ scale: 'county', seed: 't1', households: 200 });

  it('is reproducible: the same seed gives byte-identical commands, another seed does not', () => {
    const again = collect({ scale: 'county', seed: 't1', households: 200 });
    expect(JSON.stringify(again.lines)).toBe(JSON.stringify(county.lines));
    const other = collect({ scale: 'county', seed: 't2', households: 200 });
    expect(JSON.stringify(other.lines)).not.toBe(JSON.stringify(county.lines));
  });

  it('registers households with valid ID numbers before the ledger pays them', () => {
    const first = county.lines[0]!;
    expect(first).toMatchObject({ service: 'registry', path: 'imports', partition: '411325' });
    const body = first.body as { header: string[]; rows: { cells: string[] }[] };
    expect(body.header).toEqual(householdHeader);
    const idColumn = body.header.findIndex((h) => /身份证|ID/i.test(h));
    expect(idColumn).toBeGreaterThanOrEqual(0);
    for (const row of body.rows) expect(validateIdNumber(row.cells[idColumn]!).ok).toBe(true);
    const firstRoster = county.lines.findIndex((l) => l.path === 'rosters');
    expect(firstRoster).toBeGreaterThan(0);
    expect(county.lines.slice(0, firstRoster).some((l) => l.path === 'imports')).toBe(true);
  });

  it('moves money central → province → city → county before any county spending', () => {
    const paths = county.lines.map((l) => `${l.partition}:${l.path}`);
    const issued = ['000000:allocations', '410000:allocations', '411300:allocations'].map((p) =>
      paths.indexOf(p),
    );
    expect(issued.every((i) => i >= 0)).toBe(true);
    expect([...issued].sort((a, b) => a - b)).toEqual(issued);
    // Each fiscal year's money reaches the county before that year's first earmark.
    const receipts = paths.flatMap((p, i) => (p === '411325:receipts' ? [i] : []));
    const plans = paths.flatMap((p, i) => (p === '411325:plans' ? [i] : []));
    expect(receipts).toHaveLength(plans.length);
    receipts.forEach((r, year) => {
      expect(r).toBeLessThan(plans[year]!);
      expect(paths.indexOf('411325:earmarks', plans[year])).toBeGreaterThan(r);
    });
  });

  it('covers the mix: monthly and yearly rosters, settlements, returns with re-payments, reversals', () => {
    const byPath = new Map<string, CommandLine[]>();
    for (const l of county.lines) byPath.set(l.path, [...(byPath.get(l.path) ?? []), l]);
    const programmes = new Set(byPath.get('rosters')!.map((l) => l.body.programmeCode));
    for (const p of [
      'dibao_class1',
      'dibao_class2',
      'dibao_class3',
      'disability_allowance',
      'pv_income',
      'yulu_grant',
    ])
      expect(programmes.has(p)).toBe(true);
    const rostered = byPath.get('rosters')!.reduce((n, l) => n + (l.body.rows as unknown[]).length, 0);
    const answered =
      (byPath.get('payment-settlements')?.length ?? 0) + (byPath.get('payment-returns')?.length ?? 0);
    const repaid = byPath.get('payments')?.length ?? 0;
    // Every payment gets the bank's answer; re-payments are answered too.
    expect(answered).toBe(rostered + repaid);
    expect(county.summary.payments).toBe(rostered + repaid);
    for (const l of county.lines) {
      const amount = l.body.amountFen;
      if (amount !== undefined) expect(amount).toMatch(/^[1-9][0-9]*$/);
    }
  });

  it('spans fiscal years: each year has its budget, plan and rosters, and no command id repeats', () => {
    const two = collect({ scale: 'county', seed: 't1', households: 200, years: 2 });
    const one = collect({ scale: 'county', seed: 't1', households: 200, years: 1 });
    expect(two.summary.years).toBe(2);
    const ids = two.lines.map((l) => String(l.body.commandId));
    expect(new Set(ids).size).toBe(ids.length);
    const plans = two.lines.filter((l) => l.path === 'plans').map((l) => l.body.fiscalYear);
    expect(plans).toEqual([2023, 2024]);
    const periods = new Set(two.lines.filter((l) => l.path === 'rosters').map((l) => l.body.period));
    expect(periods.has('2023-01') && periods.has('2024-12')).toBe(true);
    // Households are registered once; the books of each year roughly double the events.
    expect(two.lines.filter((l) => l.path === 'imports')).toHaveLength(1);
    expect(two.summary.expectedEvents).toBeGreaterThan(
      1.8 * one.summary.expectedEvents - one.summary.households * 2,
    );
    expect(() => collect({ scale: 'county', seed: 'x', households: 10, years: 0 })).toThrow(/--years/);
  });

  it('province scale has at least 20 counties under real cities', () => {
    const { summary, lines } = collect({ scale: 'province', seed: 'p', households: 10 });
    expect(summary.counties).toBeGreaterThanOrEqual(20);
    const counties = new Set(lines.filter((l) => l.path === 'imports').map((l) => l.partition));
    expect(counties.size).toBe(summary.counties);
  });

  it('refuses household counts outside its limits', () => {
    expect(() => collect({ scale: 'county', seed: 'x', households: 9 })).toThrow(/--households/);
    expect(() => collect({ scale: 'county', seed: 'x', households: 1.5 })).toThrow(/--households/);
    expect(() => collect({ scale: 'county', seed: 'x', households: 1_000_001 })).toThrow(/--households/);
  });
});
