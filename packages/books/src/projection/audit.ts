import type { Database } from '@fundtrace/db';
import type { AnyEvent } from '@fundtrace/events';
import type { Kysely } from 'kysely';
import type { Batch } from './batch';
import type { Row } from './store';

type Audit = Extract<AnyEvent, { type: AuditType }>;
type AuditType =
  | 'FindingRaised'
  | 'FindingReviewed'
  | 'FindingTraced'
  | 'FindingRectified'
  | 'FindingClosed'
  | 'FindingReopened'
  | 'EventQuarantined';

const auditTypes: ReadonlySet<string> = new Set<AuditType>([
  'EventQuarantined',
  'FindingRaised',
  'FindingReviewed',
  'FindingTraced',
  'FindingRectified',
  'FindingClosed',
  'FindingReopened',
]);

export function isAuditEvent(event: AnyEvent): event is Audit {
  return auditTypes.has(event.type);
}

export async function prefetchAudit(
  reader: Kysely<Database>,
  batch: Batch,
  events: readonly Audit[],
): Promise<void> {
  const findingIds = new Set<string>();
  for (const event of events) if (event.type !== 'EventQuarantined') findingIds.add(event.data.findingId);
  await batch.load(reader, 'findings', findingIds);
}

interface Cited {
  subjects: readonly { context: string; partition: string; entity: string; id: string }[];
  evidence: readonly { stream: string; seq: number; type: string }[];
}

function cite(batch: Batch, findingId: string, cited: Cited): void {
  for (const subject of cited.subjects) {
    batch.append('finding_subjects', {
      partition: batch.partition,
      finding_id: findingId,
      subject_context: subject.context,
      subject_partition: subject.partition,
      subject_entity: subject.entity,
      subject_id: subject.id,
      seq: batch.at.seqBig,
    });
  }
  for (const evidence of cited.evidence) {
    batch.append('finding_evidence', {
      partition: batch.partition,
      finding_id: findingId,
      evidence_stream: evidence.stream,
      evidence_seq: BigInt(evidence.seq),
      evidence_type: evidence.type,
      seq: batch.at.seqBig,
    });
  }
}

export function applyAudit(batch: Batch, event: Audit): void {
  // An operator's quarantine is in the trail (events, event_refs) like every event; the poisoned
  // stream's runner records the message it names in quarantined_events when it reaches it.
  if (event.type === 'EventQuarantined') return;
  const seq = batch.at.seqBig;
  const d = event.data;
  const existing = batch.stores.findings.get(d.findingId);
  if (event.type === 'FindingRaised') {
    if (existing !== undefined) batch.fail('entity_duplicate', `finding ${d.findingId} was already raised`);
    batch.stores.findings.put({
      partition: batch.partition,
      finding_id: event.data.findingId,
      rule_id: event.data.ruleId,
      rule_version: event.data.ruleVersion,
      severity: event.data.severity,
      summary: event.data.summary,
      status: 'open',
      review_outcome: null,
      resolution: null,
      recovered_fen: 0n,
      raised_on: batch.at.occurredOn,
      raised_seq: seq,
      closed_on: null,
      last_step_seq: seq,
      step_count: 0,
    });
    cite(batch, d.findingId, event.data);
    return;
  }
  if (existing === undefined) batch.fail('entity_unknown', `finding ${d.findingId} was never raised`);
  const step: Row<'findings'> = { ...existing, last_step_seq: seq, step_count: existing.step_count + 1 };
  switch (event.type) {
    case 'FindingReviewed':
      if (existing.status === 'closed') batch.fail('transition_invalid', `finding ${d.findingId} is closed`);
      batch.stores.findings.put({ ...step, status: 'reviewed', review_outcome: event.data.outcome });
      return;
    case 'FindingTraced':
      if (existing.status === 'closed') batch.fail('transition_invalid', `finding ${d.findingId} is closed`);
      batch.stores.findings.put({ ...step, status: 'traced' });
      cite(batch, d.findingId, event.data);
      return;
    case 'FindingRectified':
      if (existing.status === 'closed') batch.fail('transition_invalid', `finding ${d.findingId} is closed`);
      batch.stores.findings.put({
        ...step,
        status: 'rectified',
        recovered_fen: existing.recovered_fen + event.data.recoveredFen,
      });
      return;
    case 'FindingClosed':
      if (existing.status === 'closed')
        batch.fail('transition_invalid', `finding ${d.findingId} is already closed`);
      batch.stores.findings.put({
        ...step,
        status: 'closed',
        resolution: event.data.resolution,
        closed_on: batch.at.occurredOn,
      });
      return;
    case 'FindingReopened':
      if (existing.status !== 'closed')
        batch.fail(
          'transition_invalid',
          `finding ${d.findingId} is ${existing.status}, only a closed finding reopens`,
        );
      batch.stores.findings.put({ ...step, status: 'open', resolution: null, closed_on: null });
      return;
    default: {
      const never: never = event;
      throw new Error(`unhandled audit event ${(never as { type: string }).type}`);
    }
  }
}
