import {
  type AllocationTrace,
  allocationIssuedSeqs,
  householdExists,
  type PaymentTrace,
  paymentSeqs,
  type TrancheInfo,
  traceAllocationDown,
  traceHouseholdUp,
} from '@fundtrace/books';
import { streamName } from '@fundtrace/events';
import { type App, errorResponseSchema } from '@fundtrace/service-kit';
import { z } from 'zod';
import { type CitedEvent, type EvidenceDeps, proveCited, traceEvidenceFormat } from '../evidence';
import { renderFlowSvg } from '../svg/flow';
import { allocationDiagram, householdDiagram } from '../svg/traces';
import { auditRejections, fenSchema, idParam, inspectorOf, partitionParams, trailPath } from './shared';

const trancheSchema = z.object({
  partition: z.string(),
  trancheId: z.string(),
  accountId: z.string(),
  amountFen: fenSchema,
  remainingFen: fenSchema,
  fundSource: z.string(),
  fiscalYear: z.number().int(),
  purpose: z.string(),
  documentNumber: z
    .string()
    .meta({ description: '文号 of the allocation or movement that created the tranche' }),
  movementKind: z.string(),
  movementId: z.string(),
  createdOn: z.string(),
  createdSeq: z.number().int(),
  isRoot: z.boolean(),
});

const paymentTraceSchema = z.object({
  partition: z.string(),
  paymentId: z.string(),
  householdId: z.string(),
  programmeCode: z.string(),
  period: z.string(),
  amountFen: fenSchema,
  status: z.string(),
  instructedOn: z.string(),
  settledOn: z.string().nullable(),
  returnedOn: z.string().nullable(),
  hops: z.array(
    z.object({
      depth: z.number().int(),
      parent: trancheSchema,
      childKind: z.enum(['tranche', 'payment']),
      childPartition: z.string(),
      childId: z.string(),
      edgeFen: fenSchema,
      tracedFen: fenSchema.meta({ description: 'how much of this payment the hop carried' }),
      allocation: z.object({ fromPartition: z.string(), allocationId: z.string() }).nullable(),
    }),
  ),
  roots: z.array(
    z.object({
      tranche: trancheSchema,
      payer: z.string().nullable(),
      receivedOn: z.string().nullable(),
      tracedFen: fenSchema,
    }),
  ),
});

const householdTraceSchema = z.object({
  partition: z.string(),
  householdId: z.string(),
  paidFen: fenSchema.meta({
    description: 'instructed and settled payments (returned and reversed excluded)',
  }),
  payments: z.array(paymentTraceSchema),
  trail: z.string(),
});

const allocationTraceSchema = z.object({
  fromPartition: z.string(),
  allocationId: z.string(),
  toPartition: z.string(),
  documentNumber: z.string().nullable(),
  issuedFen: fenSchema.nullable(),
  receivedFen: fenSchema,
  inTransitFen: fenSchema,
  unspentFen: fenSchema,
  onwardInTransitFen: fenSchema,
  paidFen: fenSchema,
  disbursedFen: fenSchema,
  returnedFen: fenSchema,
  reversedFen: fenSchema,
  households: z.array(
    z.object({
      partition: z.string(),
      householdId: z.string(),
      paidFen: fenSchema,
      returnedFen: fenSchema,
      reversedFen: fenSchema,
      payments: z.number().int(),
    }),
  ),
  units: z.array(
    z.object({
      partition: z.string(),
      accountId: z.string(),
      projectId: z.string(),
      disbursedFen: fenSchema,
    }),
  ),
  trail: z.string(),
});

const evidenceSchema = z.object({
  format: z.literal(traceEvidenceFormat),
  partition: z.string(),
  householdId: z.string(),
  trace: householdTraceSchema,
  events: z.array(
    z.object({
      stream: z.string(),
      seq: z.number().int(),
      why: z.string(),
      bundle: z.object({
        format: z.string(),
        kind: z.literal('inclusion'),
        checkpoint: z.string(),
        leafIndex: z.number().int(),
        event: z.string().optional(),
        leafHash: z.string().optional(),
        proof: z.array(z.string()),
      }),
    }),
  ),
  pending: z.array(z.object({ stream: z.string(), seq: z.number().int(), why: z.string() })),
});

const tranche = (t: TrancheInfo) => ({ ...t, createdSeq: Number(t.createdSeq) });

function householdBody(partition: string, householdId: string, traces: readonly PaymentTrace[]) {
  return {
    partition,
    householdId,
    paidFen: traces
      .filter((t) => t.status === 'instructed' || t.status === 'settled')
      .reduce((sum, t) => sum + t.amountFen, 0n),
    payments: traces.map((t) => ({
      ...t,
      hops: t.hops.map((h) => ({ ...h, parent: tranche(h.parent) })),
      roots: t.roots.map((r) => ({ ...r, tranche: tranche(r.tranche) })),
    })),
    trail: trailPath(partition, 'household', householdId),
  };
}

function allocationBody(trace: AllocationTrace) {
  return {
    ...trace,
    returnedFen: trace.households.reduce((s, h) => s + h.returnedFen, 0n),
    reversedFen: trace.households.reduce((s, h) => s + h.reversedFen, 0n),
    trail: trailPath(trace.fromPartition, 'allocation', trace.allocationId),
  };
}

/** Every event the household's trace relies on: payments, their status, every tranche, every allocation. */
export async function citedByHouseholdTrace(
  app: App,
  partition: string,
  traces: readonly PaymentTrace[],
): Promise<CitedEvent[]> {
  const cited: CitedEvent[] = [];
  const ledger = (p: string) => streamName('ledger', p);
  const seqs = await paymentSeqs(
    app.db,
    partition,
    traces.map((t) => t.paymentId),
  );
  const allocations = await allocationIssuedSeqs(
    app.db,
    traces.flatMap((t) => t.hops.flatMap((h) => (h.allocation ? [h.allocation] : []))),
  );
  for (const t of traces) {
    const s = seqs.get(t.paymentId);
    if (s === undefined) throw new Error(`payment ${t.paymentId} traced but not in the books`);
    cited.push({
      stream: ledger(partition),
      seq: Number(s.instructed),
      why: `payment ${t.paymentId} instructed`,
    });
    if (s.status !== s.instructed)
      cited.push({
        stream: ledger(partition),
        seq: Number(s.status),
        why: `payment ${t.paymentId} ${t.status}`,
      });
    for (const h of t.hops) {
      cited.push({
        stream: ledger(h.parent.partition),
        seq: Number(h.parent.createdSeq),
        why: `tranche ${h.parent.trancheId} (${h.parent.documentNumber}) created`,
      });
      if (h.allocation) {
        const issued = allocations.get(`${h.allocation.fromPartition}/${h.allocation.allocationId}`);
        if (issued !== undefined)
          cited.push({
            stream: ledger(h.allocation.fromPartition),
            seq: Number(issued),
            why: `allocation ${h.allocation.allocationId} issued`,
          });
      }
    }
  }
  return cited;
}

const householdParams = partitionParams.extend({ householdId: idParam });
const allocationParams = partitionParams.extend({ allocationId: idParam });

export function traceRoutes(app: App, evidence: EvidenceDeps): void {
  async function householdTraces(partition: string, householdId: string) {
    if (!(await householdExists(app.db, partition, householdId))) {
      throw auditRejections.reject('household_not_found', `No household ${householdId} in ${partition}`, {
        partition,
        householdId,
      });
    }
    try {
      return await traceHouseholdUp(app.db, partition, householdId);
    } catch (error) {
      if (error instanceof RangeError)
        throw auditRejections.reject('trace_too_large', error.message, { householdId });
      throw error;
    }
  }

  app.get(
    '/v1/partitions/:partition/households/:householdId/trace',
    {
      onRequest: inspectorOf,
      schema: {
        summary:
          "A household's payments, each traced up to its root allocations (文号, fund source, purpose, amount at every hop)",
        tags: ['traces'],
        security: [{ bearerAuth: [] }],
        params: householdParams,
        response: { 200: householdTraceSchema, 404: errorResponseSchema, 422: errorResponseSchema },
      },
    },
    async (request) => {
      const { partition, householdId } = request.params;
      return householdBody(partition, householdId, await householdTraces(partition, householdId));
    },
  );

  app.get(
    '/v1/partitions/:partition/households/:householdId/trace/evidence',
    {
      onRequest: inspectorOf,
      schema: {
        summary:
          'Downloadable evidence bundle: the trace plus, for every event it cites, an inclusion proof against the latest signed checkpoint (check with `fundtrace verify` or `fundtrace trace verify`)',
        tags: ['traces'],
        security: [{ bearerAuth: [] }],
        params: householdParams,
        response: { 200: evidenceSchema, 404: errorResponseSchema, 422: errorResponseSchema },
      },
    },
    async (request, reply) => {
      const { partition, householdId } = request.params;
      const traces = await householdTraces(partition, householdId);
      let proven: Awaited<ReturnType<typeof proveCited>>;
      try {
        proven = await proveCited(evidence, await citedByHouseholdTrace(app, partition, traces));
      } catch (error) {
        if (error instanceof RangeError)
          throw auditRejections.reject('trace_too_large', error.message, { householdId });
        throw error;
      }
      reply.header(
        'content-disposition',
        `attachment; filename="trace-${partition}-${householdId}.evidence.json"`,
      );
      return {
        format: traceEvidenceFormat,
        partition,
        householdId,
        trace: householdBody(partition, householdId, traces),
        events: proven.proven.map((p) => ({ ...p, bundle: { ...p.bundle, proof: [...p.bundle.proof] } })),
        pending: proven.pending,
      };
    },
  );

  app.get(
    '/v1/partitions/:partition/households/:householdId/trace.svg',
    {
      onRequest: inspectorOf,
      schema: {
        summary: "The household's trace as an SVG flow diagram (every node links to its trail)",
        tags: ['traces'],
        security: [{ bearerAuth: [] }],
        params: householdParams,
      },
    },
    async (request, reply) => {
      const { partition, householdId } = request.params;
      const traces = await householdTraces(partition, householdId);
      return reply
        .type('image/svg+xml; charset=utf-8')
        .send(renderFlowSvg(householdDiagram(partition, householdId, traces)));
    },
  );

  async function allocationTrace(partition: string, allocationId: string) {
    const trace = await traceAllocationDown(app.db, partition, allocationId);
    if (trace === null) {
      throw auditRejections.reject(
        'allocation_not_found',
        `No allocation ${allocationId} issued by ${partition}`,
        {
          partition,
          allocationId,
        },
      );
    }
    return trace;
  }

  app.get(
    '/v1/partitions/:partition/allocations/:allocationId/trace',
    {
      onRequest: inspectorOf,
      schema: {
        summary:
          'An allocation (资金下达) issued by this partition, traced forward: households and units paid, unspent, in transit, returned, reversed',
        tags: ['traces'],
        security: [{ bearerAuth: [] }],
        params: allocationParams,
        response: { 200: allocationTraceSchema, 404: errorResponseSchema },
      },
    },
    async (request) =>
      allocationBody(await allocationTrace(request.params.partition, request.params.allocationId)),
  );

  app.get(
    '/v1/partitions/:partition/allocations/:allocationId/trace.svg',
    {
      onRequest: inspectorOf,
      schema: {
        summary: 'The allocation forward trace as an SVG flow diagram',
        tags: ['traces'],
        security: [{ bearerAuth: [] }],
        params: allocationParams,
      },
    },
    async (request, reply) => {
      const trace = await allocationTrace(request.params.partition, request.params.allocationId);
      return reply.type('image/svg+xml; charset=utf-8').send(renderFlowSvg(allocationDiagram(trace)));
    },
  );
}
