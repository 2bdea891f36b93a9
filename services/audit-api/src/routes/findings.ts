import { entityTrail, findingWithEvidence, listFindings } from '@fundtrace/books';
import { audit, clientIdSchema } from '@fundtrace/events';
import { type App, currentUser, errorResponseSchema } from '@fundtrace/service-kit';
import { z } from 'zod';
import type { FindingCommand } from '../findings/decide';
import type { AuditWriter } from '../findings/writer';
import {
  auditRejections,
  fenSchema,
  idParam,
  inspectorOf,
  partitionParams,
  pgDate,
  pgIntegerMax,
  trailPath,
} from './shared';

/** Most findings one list page returns. */
export const findingsPageMax = 500;

const findingSchema = z.object({
  findingId: z.string(),
  ruleId: z.string(),
  ruleVersion: z.number().int(),
  severity: z.string(),
  summary: z.string(),
  status: z.string(),
  reviewOutcome: z.string().nullable(),
  resolution: z.string().nullable(),
  recoveredFen: fenSchema,
  raisedOn: z.string(),
  closedOn: z.string().nullable(),
  steps: z.number().int(),
  trail: z.string(),
});

const stepResult = z.object({
  findingId: z.string(),
  commandId: z.string(),
  duplicate: z.boolean(),
  seq: z.number().int(),
});

const commandBase = {
  commandId: clientIdSchema,
  correlationId: clientIdSchema.optional(),
  note: audit.inspectorNoteSchema,
};

const steps = {
  review: {
    summary: '复核: review a finding — confirmed, dismissed, or needs tracing',
    body: z.strictObject({ ...commandBase, outcome: z.enum(audit.reviewOutcomes) }),
    command: (
      findingId: string,
      b: { note: string; outcome: (typeof audit.reviewOutcomes)[number] },
    ): FindingCommand => ({
      type: 'ReviewFinding',
      data: { findingId, outcome: b.outcome, note: b.note },
    }),
  },
  trace: {
    summary: '溯源: record the trace to the source, citing further entities and events',
    body: z.strictObject({
      ...commandBase,
      subjects: z.array(audit.entityRefSchema).max(audit.findingSubjectsMax).default([]),
      evidence: z.array(audit.eventRefSchema).max(audit.findingEvidenceMax).default([]),
    }),
    command: (
      findingId: string,
      b: { note: string; subjects: never[]; evidence: never[] },
    ): FindingCommand => ({
      type: 'TraceFinding',
      data: { findingId, subjects: b.subjects, evidence: b.evidence, note: b.note },
    }),
  },
  rectify: {
    summary: '整改: record the rectification and the money recovered (追回)',
    body: z.strictObject({
      ...commandBase,
      recoveredFen: fenSchema,
      documentNumber: z.string().min(1).max(audit.documentNumberCharsMax).optional(),
    }),
    command: (
      findingId: string,
      b: { note: string; recoveredFen: bigint; documentNumber?: string | undefined },
    ): FindingCommand => ({
      type: 'RectifyFinding',
      data: {
        findingId,
        recoveredFen: b.recoveredFen,
        note: b.note,
        ...(b.documentNumber === undefined ? {} : { documentNumber: b.documentNumber }),
      },
    }),
  },
  close: {
    summary: '销号: close a finding — rectified, dismissed, or referred (移送)',
    body: z.strictObject({ ...commandBase, resolution: z.enum(audit.closeResolutions) }),
    command: (
      findingId: string,
      b: { note: string; resolution: (typeof audit.closeResolutions)[number] },
    ): FindingCommand => ({
      type: 'CloseFinding',
      data: { findingId, resolution: b.resolution, note: b.note },
    }),
  },
  reopen: {
    summary: 'Reopen a closed finding (e.g. the rectification did not hold)',
    body: z.strictObject({ ...commandBase }),
    command: (findingId: string, b: { note: string }): FindingCommand => ({
      type: 'ReopenFinding',
      data: { findingId, note: b.note },
    }),
  },
} as const;

export function findingRoutes(app: App, writers: ReadonlyMap<string, AuditWriter>): void {
  app.get(
    '/v1/partitions/:partition/findings',
    {
      onRequest: inspectorOf,
      schema: {
        summary: 'Findings (预警) with filters: status, rule, severity, subject, raised between',
        tags: ['findings'],
        security: [{ bearerAuth: [] }],
        params: partitionParams,
        querystring: z.object({
          status: z.enum(['open', 'reviewed', 'traced', 'rectified', 'closed']).optional(),
          ruleId: audit.ruleIdSchema.optional(),
          // rule_version is a PostgreSQL integer: a larger number was a 500 (out of range).
          ruleVersion: z.coerce.number().int().min(1).max(pgIntegerMax).optional(),
          severity: z.enum(audit.findingSeverities).optional(),
          subjectEntity: z.string().max(32).optional(),
          subjectId: idParam.optional(),
          raisedFrom: pgDate.optional(),
          raisedTo: pgDate.optional(),
          limit: z.coerce.number().int().min(1).max(findingsPageMax).default(100),
          after: idParam.optional().meta({ description: 'continue after this finding id' }),
        }),
        response: { 200: z.object({ findings: z.array(findingSchema), next: z.string().nullable() }) },
      },
    },
    async (request) => {
      const { partition } = request.params;
      const q = request.query;
      const rows = await listFindings(app.db, partition, q);
      return {
        findings: rows.map((r) => ({
          findingId: r.finding_id,
          ruleId: r.rule_id,
          ruleVersion: r.rule_version,
          severity: r.severity,
          summary: r.summary,
          status: r.status,
          reviewOutcome: r.review_outcome,
          resolution: r.resolution,
          recoveredFen: r.recovered_fen,
          raisedOn: r.raised_on,
          closedOn: r.closed_on,
          steps: r.step_count,
          trail: trailPath(partition, 'finding', r.finding_id),
        })),
        next: rows.length === q.limit ? rows[rows.length - 1]!.finding_id : null,
      };
    },
  );

  app.get(
    '/v1/partitions/:partition/findings/:findingId',
    {
      onRequest: inspectorOf,
      schema: {
        summary: 'One finding with its subjects, evidence (events with leaf hashes) and every step taken',
        tags: ['findings'],
        security: [{ bearerAuth: [] }],
        params: partitionParams.extend({ findingId: idParam }),
        response: {
          200: findingSchema.extend({
            subjects: z.array(
              z.object({ context: z.string(), partition: z.string(), entity: z.string(), id: z.string() }),
            ),
            evidence: z.array(
              z.object({ stream: z.string(), seq: z.number().int(), type: z.string(), proof: z.string() }),
            ),
            history: z.array(
              z.object({
                seq: z.number().int(),
                type: z.string(),
                recordedAt: z.string(),
                actor: z.string(),
                data: z.unknown(),
              }),
            ),
          }),
          404: errorResponseSchema,
        },
      },
    },
    async (request) => {
      const { partition, findingId } = request.params;
      const found = await findingWithEvidence(app.db, partition, findingId);
      if (found === undefined)
        throw auditRejections.reject('finding_not_found', `No finding ${findingId} in ${partition}`, {
          findingId,
        });
      const { finding: r, subjects, evidence } = found;
      const history = (await entityTrail(app.db, { partition, kind: 'finding', id: findingId })).filter(
        (e) => e.stream === `AUDIT_${partition}`,
      );
      return {
        findingId: r.finding_id,
        ruleId: r.rule_id,
        ruleVersion: r.rule_version,
        severity: r.severity,
        summary: r.summary,
        status: r.status,
        reviewOutcome: r.review_outcome,
        resolution: r.resolution,
        recoveredFen: r.recovered_fen,
        raisedOn: r.raised_on,
        closedOn: r.closed_on,
        steps: r.step_count,
        trail: trailPath(partition, 'finding', r.finding_id),
        subjects: subjects.map((s) => ({
          context: s.subject_context,
          partition: s.subject_partition,
          entity: s.subject_entity,
          id: s.subject_id,
        })),
        evidence: evidence.map((e) => ({
          stream: e.evidence_stream,
          seq: Number(e.evidence_seq),
          type: e.evidence_type,
          proof: `/v1/streams/${e.evidence_stream}/bundles/inclusion?seq=${e.evidence_seq}`,
        })),
        history: history.map((e) => ({
          seq: Number(e.seq),
          type: e.type,
          recordedAt: e.recordedAt.toISOString(),
          actor: `${e.actor.userId} (${e.actor.org})`,
          data: e.data,
        })),
      };
    },
  );

  for (const [step, spec] of Object.entries(steps)) {
    app.post(
      `/v1/partitions/:partition/findings/:findingId/${step}`,
      {
        onRequest: inspectorOf,
        schema: {
          summary: spec.summary,
          tags: ['findings'],
          security: [{ bearerAuth: [] }],
          params: partitionParams.extend({ findingId: idParam }),
          body: spec.body,
          response: {
            200: stepResult,
            201: stepResult,
            404: errorResponseSchema,
            409: errorResponseSchema,
          },
        },
      },
      async (request, reply) => {
        const { partition, findingId } = request.params;
        const writer = writers.get(partition);
        if (writer === undefined) {
          throw auditRejections.reject(
            'partition_not_served',
            `This audit-api does not write AUDIT_${partition}`,
            { partition },
          );
        }
        const body = request.body as unknown as { commandId: string; correlationId?: string };
        const user = currentUser(request);
        const outcome = await writer.step({
          commandId: body.commandId,
          correlationId: body.correlationId,
          actor: { userId: user.sub, role: 'inspector', org: user.org },
          command: (spec.command as (id: string, b: never) => FindingCommand)(
            findingId,
            body as never,
          ) as Exclude<FindingCommand, { type: 'RaiseFinding' }>,
        });
        if (!outcome.ok) throw auditRejections.reject(outcome.code, outcome.message, outcome.details);
        return reply
          .status(outcome.duplicate ? 200 : 201)
          .send({ findingId, commandId: body.commandId, duplicate: outcome.duplicate, seq: outcome.seq });
      },
    );
  }
}
