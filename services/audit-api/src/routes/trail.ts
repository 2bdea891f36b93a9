import { entityTrail, trailPageMax } from '@fundtrace/books';
import { type App, errorResponseSchema } from '@fundtrace/service-kit';
import { z } from 'zod';
import { idParam, inspectorOf, partitionParams } from './shared';

const trailEventSchema = z.object({
  stream: z.string(),
  seq: z.number().int(),
  subject: z.string(),
  eventId: z.string(),
  type: z.string(),
  version: z.number().int(),
  occurredAt: z.string(),
  recordedAt: z.string(),
  actor: z.object({ userId: z.string(), role: z.string(), org: z.string() }),
  commandId: z.string(),
  correlationId: z.string(),
  data: z
    .unknown()
    .meta({ description: 'wire-form payload (money as strings of digits), ciphertexts removed' }),
  leafHash: z.string().meta({ description: 'RFC 6962 leaf hash (hex): what an inclusion proof proves' }),
  proof: z.string().meta({ description: 'where to fetch the inclusion proof of this event' }),
});

export function trailRoutes(app: App): void {
  app.get(
    '/v1/partitions/:partition/trail/:kind/:id',
    {
      onRequest: inspectorOf,
      schema: {
        summary:
          'The trail of any entity (household, payment, allocation, project, account, notice, finding …): every event about it with stream, sequence, time, actor and leaf hash',
        description:
          'Events are in one chronological order across the streams that name the entity (a household is in REGISTRY and LEDGER): by `recordedAt` (when the log recorded the event, not the business date `occurredAt`, which a 补发 back-dates), then by `stream` and `seq` to break ties, so the order is total and stable between pages. `next` names the last event of a full page; pass it as `afterStream` and `afterSeq` to continue after that event in this order (a position the log does not hold gives an empty page).',
        tags: ['trails'],
        security: [{ bearerAuth: [] }],
        params: partitionParams.extend({ kind: z.string().regex(/^[a-z][a-z0-9_]{0,31}$/), id: idParam }),
        querystring: z.object({
          limit: z.coerce.number().int().min(1).max(trailPageMax).default(200),
          afterStream: z.string().max(64).optional(),
          afterSeq: z.coerce.number().int().min(0).optional(),
        }),
        response: {
          200: z.object({
            partition: z.string(),
            kind: z.string(),
            id: z.string(),
            events: z.array(trailEventSchema),
            next: z.object({ afterStream: z.string(), afterSeq: z.number().int() }).nullable(),
          }),
          400: errorResponseSchema,
        },
      },
    },
    async (request) => {
      const { partition, kind, id } = request.params;
      const { limit, afterStream, afterSeq } = request.query;
      const events = await entityTrail(app.db, {
        partition,
        kind,
        id,
        limit,
        ...(afterStream !== undefined && afterSeq !== undefined
          ? { after: { stream: afterStream, seq: BigInt(afterSeq) } }
          : {}),
      });
      const last = events[events.length - 1];
      return {
        partition,
        kind,
        id,
        events: events.map((e) => ({
          ...e,
          seq: Number(e.seq),
          occurredAt: e.occurredAt.toISOString(),
          recordedAt: e.recordedAt.toISOString(),
          proof: `/v1/streams/${e.stream}/proof/inclusion?seq=${e.seq}`,
        })),
        next:
          events.length === limit && last ? { afterStream: last.stream, afterSeq: Number(last.seq) } : null,
      };
    },
  );
}
