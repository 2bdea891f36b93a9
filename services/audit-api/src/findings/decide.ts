import type { audit } from '@fundtrace/events';
import type { RaisedFinding } from '@fundtrace/rules';
import type { z } from 'zod';

/**
 * The finding workflow (预警 → 复核 → 溯源 → 整改 → 销号), pure: `decide(state, command)` returns the
 * event to append or a named rejection; `evolve(state, event)` folds an appended event. No clock and
 * no I/O: the writer brings both.
 *
 *   open ──review──▶ reviewed ──trace──▶ traced ──rectify──▶ rectified ──close(rectified)──▶ closed
 *                       │ confirmed ───────────────rectify──▶                     closed ──reopen──▶ open
 *                       └ dismissed ──close(dismissed)──▶ closed
 *   close(referred) (移送) from reviewed (confirmed), traced or rectified.
 */

export type FindingStatus = 'open' | 'reviewed' | 'traced' | 'rectified' | 'closed';
export type ReviewOutcome = (typeof audit.reviewOutcomes)[number];

export interface FindingState {
  readonly status: FindingStatus;
  readonly reviewOutcome: ReviewOutcome | null;
  readonly ruleId: string;
  readonly ruleVersion: number;
}

export interface AuditState {
  readonly partition: string;
  readonly findings: Map<string, FindingState>;
}

export function initialAuditState(partition: string): AuditState {
  return { partition, findings: new Map() };
}

type Data<T extends z.ZodType> = z.output<T>;
export type AuditEventInput =
  | { readonly type: 'FindingRaised'; readonly data: Data<typeof audit.findingRaised.data> }
  | { readonly type: 'FindingReviewed'; readonly data: Data<typeof audit.findingReviewed.data> }
  | { readonly type: 'FindingTraced'; readonly data: Data<typeof audit.findingTraced.data> }
  | { readonly type: 'FindingRectified'; readonly data: Data<typeof audit.findingRectified.data> }
  | { readonly type: 'FindingClosed'; readonly data: Data<typeof audit.findingClosed.data> }
  | { readonly type: 'FindingReopened'; readonly data: Data<typeof audit.findingReopened.data> };

export type FindingCommand =
  | { readonly type: 'RaiseFinding'; readonly finding: RaisedFinding }
  | { readonly type: 'ReviewFinding'; readonly data: Data<typeof audit.findingReviewed.data> }
  | { readonly type: 'TraceFinding'; readonly data: Data<typeof audit.findingTraced.data> }
  | { readonly type: 'RectifyFinding'; readonly data: Data<typeof audit.findingRectified.data> }
  | { readonly type: 'CloseFinding'; readonly data: Data<typeof audit.findingClosed.data> }
  | { readonly type: 'ReopenFinding'; readonly data: Data<typeof audit.findingReopened.data> };

export const findingRejectionCodes = [
  'finding_not_found',
  'finding_already_raised',
  'step_not_allowed',
  'idempotency_key_reused',
] as const;
export type FindingRejectionCode = (typeof findingRejectionCodes)[number];

export type Decision =
  | { readonly ok: true; readonly event: AuditEventInput }
  | {
      readonly ok: false;
      readonly code: FindingRejectionCode;
      readonly message: string;
      readonly details: Record<string, unknown>;
    };

function refuse(code: FindingRejectionCode, message: string, details: Record<string, unknown>): Decision {
  return { ok: false, code, message, details };
}

function stepNotAllowed(findingId: string, step: string, state: FindingState, why: string): Decision {
  return refuse(
    'step_not_allowed',
    `Finding ${findingId} is ${state.status}${state.reviewOutcome ? ` (${state.reviewOutcome})` : ''}: ${why}`,
    {
      findingId,
      step,
      status: state.status,
      reviewOutcome: state.reviewOutcome,
    },
  );
}

export function decide(state: AuditState, command: FindingCommand): Decision {
  if (command.type === 'RaiseFinding') {
    const f = command.finding;
    if (state.findings.has(f.findingId)) {
      return refuse('finding_already_raised', `Finding ${f.findingId} was already raised`, {
        findingId: f.findingId,
      });
    }
    return {
      ok: true,
      event: {
        type: 'FindingRaised',
        data: {
          findingId: f.findingId,
          ruleId: f.ruleId,
          ruleVersion: f.ruleVersion,
          severity: f.severity,
          subjects: [...f.subjects],
          evidence: [...f.evidence],
          amounts: f.amounts.map((a) => ({ label: a.label, amountFen: a.amountFen })),
          summary: f.summary,
        },
      },
    };
  }
  const { findingId } = command.data;
  const current = state.findings.get(findingId);
  if (current === undefined) {
    return refuse('finding_not_found', `No finding ${findingId} in ${state.partition}`, { findingId });
  }
  switch (command.type) {
    case 'ReviewFinding':
      if (current.status !== 'open' && current.status !== 'reviewed')
        return stepNotAllowed(
          findingId,
          'review',
          current,
          'only an open or reviewed finding is reviewed (again)',
        );
      return { ok: true, event: { type: 'FindingReviewed', data: command.data } };
    case 'TraceFinding':
      if (
        !(
          current.status === 'traced' ||
          (current.status === 'reviewed' && current.reviewOutcome !== 'dismissed')
        )
      )
        return stepNotAllowed(
          findingId,
          'trace',
          current,
          'tracing (溯源) follows a review that did not dismiss it',
        );
      return { ok: true, event: { type: 'FindingTraced', data: command.data } };
    case 'RectifyFinding':
      if (
        !(
          current.status === 'traced' ||
          current.status === 'rectified' ||
          (current.status === 'reviewed' && current.reviewOutcome === 'confirmed')
        )
      )
        return stepNotAllowed(
          findingId,
          'rectify',
          current,
          'rectification (整改) follows a confirmed review or a trace',
        );
      return { ok: true, event: { type: 'FindingRectified', data: command.data } };
    case 'CloseFinding': {
      const resolution = command.data.resolution;
      const allowed =
        resolution === 'rectified'
          ? current.status === 'rectified'
          : resolution === 'dismissed'
            ? current.status === 'reviewed' && current.reviewOutcome === 'dismissed'
            : current.status === 'traced' ||
              current.status === 'rectified' ||
              (current.status === 'reviewed' && current.reviewOutcome === 'confirmed');
      if (!allowed) {
        const why =
          resolution === 'rectified'
            ? 'closing as rectified needs a recorded rectification'
            : resolution === 'dismissed'
              ? 'closing as dismissed needs a review that dismissed it'
              : 'referring (移送) needs a confirmed review, a trace or a rectification';
        return stepNotAllowed(findingId, 'close', current, why);
      }
      return { ok: true, event: { type: 'FindingClosed', data: command.data } };
    }
    case 'ReopenFinding':
      if (current.status !== 'closed')
        return stepNotAllowed(findingId, 'reopen', current, 'only a closed finding is reopened');
      return { ok: true, event: { type: 'FindingReopened', data: command.data } };
  }
}

/** Folds an appended event. An event the state cannot take is a broken log: it throws. */
export function evolve(state: AuditState, event: AuditEventInput): void {
  const id = event.data.findingId;
  const current = state.findings.get(id);
  if (event.type === 'FindingRaised') {
    if (current !== undefined) throw new Error(`invariant: finding ${id} raised twice`);
    state.findings.set(id, {
      status: 'open',
      reviewOutcome: null,
      ruleId: event.data.ruleId,
      ruleVersion: event.data.ruleVersion,
    });
    return;
  }
  if (current === undefined)
    throw new Error(`invariant: ${event.type} of finding ${id} that was never raised`);
  switch (event.type) {
    case 'FindingReviewed':
      state.findings.set(id, { ...current, status: 'reviewed', reviewOutcome: event.data.outcome });
      return;
    case 'FindingTraced':
      state.findings.set(id, { ...current, status: 'traced' });
      return;
    case 'FindingRectified':
      state.findings.set(id, { ...current, status: 'rectified' });
      return;
    case 'FindingClosed':
      state.findings.set(id, { ...current, status: 'closed' });
      return;
    case 'FindingReopened':
      // A reopened finding needs a fresh review: the old outcome no longer holds.
      state.findings.set(id, { ...current, status: 'open', reviewOutcome: null });
      return;
  }
}
