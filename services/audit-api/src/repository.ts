import type { Database } from '@fundtrace/db';
import type { Kysely } from 'kysely';

/**
 * The few lookups audit-api needs beside @fundtrace/books' trace queries: where the events a trace
 * cites sit in their streams. Plain indexed selects on the read models.
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
  // A payment to a household the register does not hold (虚报冒领) must still be traceable.
  const paid = await db
    .selectFrom('payments')
    .select('payment_id')
    .where('partition', '=', partition)
    .where('household_id', '=', householdId)
    .limit(1)
    .executeTakeFirst();
  return paid !== undefined;
}

/** The type of events by stream and sequence, from the trail. */
export async function eventTypesAt(
  db: Kysely<Database>,
  refs: readonly { readonly stream: string; readonly seq: number }[],
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const byStream = new Map<string, number[]>();
  for (const r of refs) byStream.set(r.stream, [...(byStream.get(r.stream) ?? []), r.seq]);
  for (const [stream, seqs] of byStream) {
    const rows = await db
      .selectFrom('events')
      .select(['seq', 'type'])
      .where('stream', '=', stream)
      .where(
        'seq',
        'in',
        seqs.map((s) => BigInt(s)),
      )
      .execute();
    for (const row of rows) out.set(`${stream}#${Number(row.seq)}`, row.type);
  }
  return out;
}
