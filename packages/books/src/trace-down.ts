import type { Database } from '@fundtrace/db';
import { type Kysely, sql } from 'kysely';
import { lineageDepthMax } from './trace-up';

/** Most households or units listed by one downward trace; a county-wide trace is a report, paged elsewhere. */
export const traceDownRowsMax = 10_000;

export interface HouseholdReached {
  readonly partition: string;
  readonly householdId: string;
  /** Instructed or settled payments, the share that came from the traced money. */
  readonly paidFen: bigint;
  /** Returned by the bank (退回): back in the tranches it came from, so also counted as unspent. */
  readonly returnedFen: bigint;
  /** Reversed (冲正): likewise back in its tranches. */
  readonly reversedFen: bigint;
  readonly payments: number;
}

export interface UnitReached {
  readonly partition: string;
  readonly accountId: string;
  readonly projectId: string;
  readonly disbursedFen: bigint;
}

export interface AllocationTrace {
  readonly fromPartition: string;
  readonly allocationId: string;
  readonly toPartition: string;
  readonly documentNumber: string | null;
  readonly issuedFen: bigint | null;
  readonly receivedFen: bigint;
  /** Issued and not yet received (在途). */
  readonly inTransitFen: bigint;
  /** The traced money still in tranches (pools and project accounts) anywhere below. */
  readonly unspentFen: bigint;
  /** Of the money that went on to lower levels, what has not arrived there yet. */
  readonly onwardInTransitFen: bigint;
  readonly paidFen: bigint;
  readonly disbursedFen: bigint;
  readonly households: readonly HouseholdReached[];
  readonly units: readonly UnitReached[];
}

/** Numeric text from PostgreSQL rounded down to fen (amounts are non-negative). */
function fen(text: string | null): bigint {
  return text === null ? 0n : BigInt(text.split('.')[0] ?? '0');
}

/**
 * Follows an allocation (资金下达) down through every partition and movement to the households
 * paid, the implementing units paid, what is still unspent and what is in transit. The share of a
 * tranche that comes from the allocation is exact along single-parent chains and pro rata where
 * tranches were pooled (rounded down to the fen at the end, never along the way).
 */
export async function traceAllocationDown(
  db: Kysely<Database>,
  fromPartition: string,
  allocationId: string,
): Promise<AllocationTrace | null> {
  const allocation = await db
    .selectFrom('allocations')
    .selectAll()
    .where('from_partition', '=', fromPartition)
    .where('allocation_id', '=', allocationId)
    .executeTakeFirst();
  if (allocation === undefined) return null;

  // The tranches the allocation created where it was received, each wholly the allocation's money,
  // then everything that descends from them with the allocation's share of it.
  const down = sql`
    with recursive down (partition, tranche_id, share, depth) as (
      select t.partition, t.tranche_id, 1::numeric, 1
      from receipts r
      join tranches t on t.partition = r.partition and t.movement_kind = 'receipt' and t.movement_id = r.receipt_id
      where r.origin_partition = ${fromPartition} and r.origin_allocation_id = ${allocationId}
      union all
      select f.partition, f.child_id, d.share * f.amount_fen / c.amount_fen, d.depth + 1
      from down d
      join tranche_flows f on f.parent_partition = d.partition and f.parent_tranche_id = d.tranche_id and f.child_kind = 'tranche'
      join tranches c on c.partition = f.partition and c.tranche_id = f.child_id
      where d.depth < ${lineageDepthMax}
    ),
    shares as (select partition, tranche_id, sum(share) as share from down group by partition, tranche_id)`;

  const { rows: totals } = await sql<{
    unspent: string | null;
    disbursed: string | null;
    onward: string | null;
  }>`
    ${down}
    select
      (select sum(s.share * t.remaining_fen) from shares s
         join tranches t on t.partition = s.partition and t.tranche_id = s.tranche_id
         join accounts a on a.partition = t.partition and a.account_id = t.account_id
         where a.kind <> 'implementing_unit')::text as unspent,
      (select sum(s.share * t.amount_fen) from shares s
         join tranches t on t.partition = s.partition and t.tranche_id = s.tranche_id
         join disbursements d on d.partition = t.partition and d.disbursement_id = t.movement_id
         where t.movement_kind = 'disbursement' and d.reversed_seq is null)::text as disbursed,
      (select sum(s.share * f.amount_fen * (al.issued_fen - al.received_fen) / al.issued_fen) from shares s
         join tranche_flows f on f.parent_partition = s.partition and f.parent_tranche_id = s.tranche_id and f.child_kind = 'allocation'
         join allocations al on al.from_partition = f.partition and al.allocation_id = f.child_id
         where al.issued_fen > 0)::text as onward`.execute(db);

  const { rows: households } = await sql<{
    partition: string;
    household_id: string;
    paid: string | null;
    returned: string | null;
    reversed: string | null;
    payments: string;
  }>`
    ${down}
    select p.partition, p.household_id,
      sum(s.share * f.amount_fen) filter (where p.status in ('instructed', 'settled'))::text as paid,
      sum(s.share * f.amount_fen) filter (where p.status = 'returned')::text as returned,
      sum(s.share * f.amount_fen) filter (where p.status = 'reversed')::text as reversed,
      count(distinct p.payment_id)::text as payments
    from shares s
    join tranche_flows f on f.parent_partition = s.partition and f.parent_tranche_id = s.tranche_id and f.child_kind = 'payment'
    join payments p on p.partition = f.partition and p.payment_id = f.child_id
    group by p.partition, p.household_id
    order by p.partition, p.household_id
    limit ${traceDownRowsMax}`.execute(db);

  const { rows: units } = await sql<{
    partition: string;
    account_id: string;
    project_id: string;
    disbursed: string;
  }>`
    ${down}
    select t.partition, t.account_id, d.project_id, sum(s.share * t.amount_fen)::text as disbursed
    from shares s
    join tranches t on t.partition = s.partition and t.tranche_id = s.tranche_id and t.movement_kind = 'disbursement'
    join disbursements d on d.partition = t.partition and d.disbursement_id = t.movement_id and d.reversed_seq is null
    group by t.partition, t.account_id, d.project_id
    order by t.partition, t.account_id, d.project_id
    limit ${traceDownRowsMax}`.execute(db);

  const householdsReached = households.map((row) => ({
    partition: row.partition,
    householdId: row.household_id,
    paidFen: fen(row.paid),
    returnedFen: fen(row.returned),
    reversedFen: fen(row.reversed),
    payments: Number(row.payments),
  }));
  const total = totals[0]!;
  return {
    fromPartition,
    allocationId,
    toPartition: allocation.to_partition,
    documentNumber: allocation.document_number,
    issuedFen: allocation.issued_fen,
    receivedFen: allocation.received_fen,
    inTransitFen: (allocation.issued_fen ?? 0n) - allocation.received_fen,
    unspentFen: fen(total.unspent),
    onwardInTransitFen: fen(total.onward),
    paidFen: householdsReached.reduce((sum, h) => sum + h.paidFen, 0n),
    disbursedFen: fen(total.disbursed),
    households: householdsReached,
    units: units.map((row) => ({
      partition: row.partition,
      accountId: row.account_id,
      projectId: row.project_id,
      disbursedFen: fen(row.disbursed),
    })),
  };
}
