import { describe, expect, it } from 'vitest';
import { createEvent, decodeEvent, encodeEvent, eventBytesMax, ledger } from '../src';
import { envelopeInput } from './fixtures';

/** A line with every field at its widest: the longest ids, a full household of members, the largest amount. */
function widestLine(line: number): ledger.NoticeLine {
  return {
    line,
    householdId: 'H'.repeat(ledger.ledgerIdLengthMax),
    memberNos: Array.from({ length: 30 }, (_, i) => 970 + i),
    quantity: 100_000,
    amountFen: 100_000_000n,
  };
}

describe('NoticeLinesPublished', () => {
  it('fits a full part of the widest lines under the event size limit (bounded event size)', () => {
    const lines = Array.from({ length: ledger.noticeLinesPerEventMax }, (_, i) => widestLine(i + 1));
    const event = createEvent(
      ledger.NoticeLinesPublished,
      envelopeInput({ noticeId: 'N'.repeat(64), part: 100, partCount: 100, lines }),
    );
    const bytes = encodeEvent(event);
    expect(bytes.length).toBeLessThan(eventBytesMax);
    const decoded = decodeEvent(bytes);
    expect(decoded.type).toBe('NoticeLinesPublished');
    expect(decoded.data).toEqual(event.data);
  });

  it('refuses a part above the per-event limit, an empty part, a line 0 and a zero amount', () => {
    const schema = ledger.NoticeLinesPublished.data;
    const base = { noticeId: 'N1', part: 1, partCount: 1 };
    // The schema reads the wire form: money as strings of digits.
    const wire = (line: number) => ({ ...widestLine(line), amountFen: '100000000' });
    const over = Array.from({ length: ledger.noticeLinesPerEventMax + 1 }, (_, i) => wire(i + 1));
    expect(schema.safeParse({ ...base, lines: over }).success).toBe(false);
    expect(schema.safeParse({ ...base, lines: [] }).success).toBe(false);
    expect(schema.safeParse({ ...base, lines: [{ ...wire(1), line: 0 }] }).success).toBe(false);
    expect(schema.safeParse({ ...base, lines: [{ ...wire(1), amountFen: '0' }] }).success).toBe(false);
    expect(schema.safeParse({ ...base, lines: [wire(1)] }).success).toBe(true);
  });
});
