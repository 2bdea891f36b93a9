import { adminCodeSchema, entityIdSchema } from '@fundtrace/events';
import { defineRejections, requireRole } from '@fundtrace/service-kit';
import { z } from 'zod';

/** Every refusal audit-api answers with, and its HTTP status. */
export const auditRejections = defineRejections({
  household_not_found: 404,
  allocation_not_found: 404,
  finding_not_found: 404,
  checkpoint_not_found: 404,
  stream_not_found: 404,
  partition_not_served: 404,
  seq_out_of_range: 422,
  size_out_of_range: 422,
  invalid_range: 422,
  trace_too_large: 422,
  finding_already_raised: 409,
  step_not_allowed: 409,
  idempotency_key_reused: 409,
  unknown_rule: 422,
});

export const partitionParams = z.object({ partition: adminCodeSchema });

/** Inspectors (纪检监察, 审计) only, and only for partitions in their token's scope. */
export const inspectorOf = requireRole(['inspector'], {
  partition: (request) => (request.params as { partition?: string }).partition,
});

export const idParam = entityIdSchema;

/** Largest value of a PostgreSQL integer column. */
export const pgIntegerMax = 2_147_483_647;
/** An ISO date PostgreSQL can hold: ISO 8601 has a year 0000, PostgreSQL does not (it was a 500). */
export const pgDate = z.iso.date().refine((day) => !day.startsWith('0000'), 'year 0000 does not exist');

/** Money in answers: a string of digits (the fen codec turns bigint into it). */
export { fenSchema } from '@fundtrace/money';

/** The trail of an entity, for links in answers and diagrams. */
export function trailPath(partition: string, kind: string, id: string): string {
  return `/v1/partitions/${encodeURIComponent(partition)}/trail/${encodeURIComponent(kind)}/${encodeURIComponent(id)}`;
}
