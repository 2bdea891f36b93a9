import { describe, expect, it } from 'vitest';
import { normaliseCited } from '../src/evidence';

// An evidence file cites each event once, in stream and sequence order, with every reason the trace
// relied on it for: a root tranche that paid two of a household's payments is cited once, with its
// reason once (it read "tranche … created; tranche … created").
describe('normaliseCited', () => {
  it('cites an event once per distinct reason, in stream then sequence order', () => {
    const created = 'tranche rc_BUDGET-2024_1 (财预〔2024〕1号) created';
    expect(
      normaliseCited([
        { stream: 'LEDGER_411325', seq: 9, why: 'payment RS-1-r2 instructed' },
        { stream: 'LEDGER_000000', seq: 2, why: created },
        { stream: 'LEDGER_000000', seq: 2, why: created },
        { stream: 'LEDGER_411325', seq: 4, why: 'tranche rc_RC-1 created' },
        { stream: 'LEDGER_411325', seq: 9, why: 'payment RS-1-r2 settled' },
        { stream: 'LEDGER_411325', seq: 9, why: 'payment RS-1-r2 instructed' },
      ]),
    ).toEqual([
      { stream: 'LEDGER_000000', seq: 2, why: created },
      { stream: 'LEDGER_411325', seq: 4, why: 'tranche rc_RC-1 created' },
      { stream: 'LEDGER_411325', seq: 9, why: 'payment RS-1-r2 instructed; payment RS-1-r2 settled' },
    ]);
  });
});
