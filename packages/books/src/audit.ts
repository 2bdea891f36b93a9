import type { BooksRow, Database } from '@fundtrace/db';
import { type Kysely, sql } from 'kysely';

/**
 * audit-api's reads of the books beside the traces: where the events a trace cites sit in their
 * streams, whether a household is known, and the findings (预警) with their subjects and evidence.
 * Plain indexed selects on the read models.
 */

/** Stream sequences of payments: the instruction and the latest status change (settled, returned, reversed). */
export async function paymentSeqs(
  db: Kysely<Database>,
  partition: string,
  paymentIds: readonly string[],
): Promise<Map<string, { instructed: bigint; status: bigint }>> {
  if (paymentIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('payments')
    .select(['payment_id', 'instructed_seq', 'status_seq'])
    .where('partition', '=', partition)
    .where('payment_id', 'in', [...paymentIds])
    .execute();
  return new Map(rows.map((r) => [r.payment_id, { instructed: r.instructed_seq, status: r.status_seq }]));
}

/** The AllocationIssued sequence of allocations in their issuing partitions' streams. */
export async function allocationIssuedSeqs(
  db: Kysely<Database>,
  refs: readonly { readonly fromPartition: string; readonly allocationId: string }[],
): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>();
  for (const ref of refs) {
    const key = `${ref.fromPartition}/${ref.allocationId}`;
    if (out.has(key)) continue;
    const row = await db
      .selectFrom('allocations')
      .select('issued_seq')
      .where('from_partition', '=', ref.fromPartition)
      .where('allocation_id', '=', ref.allocationId)
      .executeTakeFirst();
    if (row?.issued_seq != null) out.set(key, row.issued_seq);
  }
  return out;
}

/** The register holds the household, or a payment names it (虚报冒领 must still be traceable). */
export async function householdExists(
  db: Kysely<Database>,
  partition: string,
  householdId: string,
): Promise<boolean> {
  const row = await db
    .selectFrom('households')
    .select('household_id')
    .where('partition', '=', partition)
    .where('household_id', '=', householdId)
    .executeTakeFirst();
  if (row !== undefined) return true;
  const paid = await db
    .selectFrom('payments')
    .select('payment_id')
    .where('partition', '=', partition)
    .where('household_id', '=', householdId)
    .limit(1)
    .executeTakeFirst();
  return paid !== undefined;
}

export interface FindingsFilter {
  readonly status?: BooksRow<'findings'>['status'] | undefined;
  readonly ruleId?: string | undefined;
  readonly ruleVersion?: number | undefined;
  readonly severity?: string | undefined;
  /** A subject the finding names: its id, and optionally its entity kind. */
  readonly subjectId?: string | undefined;
  readonly subjectEntity?: string | undefined;
  /** Raised on or after / on or before these dates (YYYY-MM-DD). */
  readonly raisedFrom?: string | undefined;
  readonly raisedTo?: string | undefined;
  /** Keyset paging: findings after this id, at most `limit`. */
  readonly after?: string | undefined;
  readonly limit: number;
}

/** Findings of a partition matching the filter, by finding id. */
export async function listFindings(
  db: Kysely<Database>,
  partition: string,
  q: FindingsFilter,
): Promise<BooksRow<'findings'>[]> {
  let query = db.selectFrom('findings as f').selectAll('f').where('f.partition', '=', partition);
  if (q.status) query = query.where('f.status', '=', q.status);
  if (q.ruleId) query = query.where('f.rule_id', '=', q.ruleId);
  if (q.ruleVersion) query = query.where('f.rule_version', '=', q.ruleVersion);
  if (q.severity) query = query.where('f.severity', '=', q.severity);
  if (q.raisedFrom) query = query.where('f.raised_on', '>=', q.raisedFrom);
  if (q.raisedTo) query = query.where('f.raised_on', '<=', q.raisedTo);
  if (q.after) query = query.where('f.finding_id', '>', q.after);
  const { subjectId, subjectEntity } = q;
  if (subjectId) {
    query = query.where(({ exists, selectFrom }) =>
      exists(
        selectFrom('finding_subjects as s')
          .select(sql`1`.as('one'))
          .whereRef('s.partition', '=', 'f.partition')
          .whereRef('s.finding_id', '=', 'f.finding_id')
          .where('s.subject_id', '=', subjectId)
          .$if(subjectEntity !== undefined, (w) => w.where('s.subject_entity', '=', subjectEntity!)),
      ),
    );
  }
  return query.orderBy('f.finding_id').limit(q.limit).execute();
}

/** One finding with the subjects it names and the events it cites; undefined when there is none. */
export async function findingWithEvidence(
  db: Kysely<Database>,
  partition: string,
  findingId: string,
): Promise<
  | {
      finding: BooksRow<'findings'>;
      subjects: BooksRow<'finding_subjects'>[];
      evidence: BooksRow<'finding_evidence'>[];
    }
  | undefined
> {
  const finding = await db
    .selectFrom('findings')
    .selectAll()
    .where('partition', '=', partition)
    .where('finding_id', '=', findingId)
    .executeTakeFirst();
  if (finding === undefined) return undefined;
  const subjects = await db
    .selectFrom('finding_subjects')
    .selectAll()
    .where('partition', '=', partition)
    .where('finding_id', '=', findingId)
    .orderBy('seq')
    .execute();
  const evidence = await db
    .selectFrom('finding_evidence')
    .selectAll()
    .where('partition', '=', partition)
    .where('finding_id', '=', findingId)
    .orderBy('evidence_stream')
    .orderBy('evidence_seq')
    .execute();
  return { finding, subjects, evidence };
}
