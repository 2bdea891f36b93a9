import { describe, expect, it } from 'vitest';
import {
  type AuditState,
  decide,
  evolve,
  type FindingCommand,
  initialAuditState,
} from '../src/findings/decide';

const raised = {
  findingId: 'dup-1',
  ruleId: 'duplicate_payment',
  ruleVersion: 1,
  severity: 'high' as const,
  subjects: [{ context: 'registry' as const, partition: '411325', entity: 'household', id: 'H1' }],
  evidence: [{ stream: 'LEDGER_411325', seq: 7, type: 'PaymentInstructed' }],
  amounts: [{ label: 'excess', amountFen: 19_000n }],
  summary: 'paid twice',
};

/** Given the steps, applied in order (each must be accepted), the state after them. */
function given(...commands: FindingCommand[]): AuditState {
  const state = initialAuditState('411325');
  for (const command of [{ type: 'RaiseFinding', finding: raised } as const, ...commands]) {
    const decision = decide(state, command);
    if (!decision.ok) throw new Error(`given step refused: ${decision.code}`);
    evolve(state, decision.event);
  }
  return state;
}

const review = (outcome: 'confirmed' | 'dismissed' | 'needs_trace'): FindingCommand => ({
  type: 'ReviewFinding',
  data: { findingId: 'dup-1', outcome, note: '复核' },
});
const traceStep: FindingCommand = {
  type: 'TraceFinding',
  data: { findingId: 'dup-1', subjects: [], evidence: [], note: '溯源' },
};
const rectify: FindingCommand = {
  type: 'RectifyFinding',
  data: { findingId: 'dup-1', recoveredFen: 19_000n, note: '追回' },
};
const close = (resolution: 'rectified' | 'dismissed' | 'referred'): FindingCommand => ({
  type: 'CloseFinding',
  data: { findingId: 'dup-1', resolution, note: '销号' },
});
const reopen: FindingCommand = { type: 'ReopenFinding', data: { findingId: 'dup-1', note: '整改未到位' } };

const code = (state: AuditState, command: FindingCommand) => {
  const d = decide(state, command);
  return d.ok ? d.event.type : d.code;
};

describe('finding workflow: decide', () => {
  it('walks 预警 → 复核 → 溯源 → 整改 → 销号', () => {
    const state = given(review('confirmed'), traceStep, rectify, close('rectified'));
    expect(state.findings.get('dup-1')?.status).toBe('closed');
  });

  it('refuses a finding raised twice and steps on unknown findings', () => {
    expect(code(given(), { type: 'RaiseFinding', finding: raised })).toBe('finding_already_raised');
    expect(
      code(given(), { type: 'ReviewFinding', data: { findingId: 'nope', outcome: 'confirmed', note: 'x' } }),
    ).toBe('finding_not_found');
  });

  it('refuses steps out of order', () => {
    expect(code(given(), traceStep)).toBe('step_not_allowed');
    expect(code(given(), rectify)).toBe('step_not_allowed');
    expect(code(given(), close('referred'))).toBe('step_not_allowed');
    expect(code(given(review('dismissed')), traceStep)).toBe('step_not_allowed');
    expect(code(given(review('needs_trace')), rectify)).toBe('step_not_allowed');
    expect(code(given(review('confirmed'), traceStep), review('confirmed'))).toBe('step_not_allowed');
    expect(code(given(review('confirmed')), close('rectified'))).toBe('step_not_allowed');
    expect(code(given(review('confirmed')), close('dismissed'))).toBe('step_not_allowed');
    expect(code(given(), reopen)).toBe('step_not_allowed');
  });

  it('allows the short paths the workflow names', () => {
    expect(code(given(review('dismissed')), close('dismissed'))).toBe('FindingClosed');
    expect(code(given(review('confirmed')), rectify)).toBe('FindingRectified');
    expect(code(given(review('confirmed')), close('referred'))).toBe('FindingClosed');
    expect(code(given(review('needs_trace'), traceStep), traceStep)).toBe('FindingTraced');
    expect(code(given(review('confirmed')), review('dismissed'))).toBe('FindingReviewed');
  });

  it('reopens a closed finding, which then needs a fresh review', () => {
    const state = given(review('dismissed'), close('dismissed'), reopen);
    expect(state.findings.get('dup-1')).toMatchObject({ status: 'open', reviewOutcome: null });
    expect(code(state, close('dismissed'))).toBe('step_not_allowed');
    expect(code(state, review('confirmed'))).toBe('FindingReviewed');
  });

  it('throws on a log the state cannot take (a broken invariant, not a refusal)', () => {
    const state = initialAuditState('411325');
    expect(() =>
      evolve(state, { type: 'FindingClosed', data: { findingId: 'x', resolution: 'dismissed', note: 'n' } }),
    ).toThrow(/never raised/);
  });
});
