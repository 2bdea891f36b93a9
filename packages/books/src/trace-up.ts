import type { Database } from '@fundtrace/db';
import { type Kysely, type RawBuilder, type Selectable, sql } from 'kysely';

/**
 * Longest lineage followed: central → province → city → county is four partitions, and within a
 * county integration, earmark, disbursement and yearly carry-overs add a hop each. 64 hops is far
 * beyond any honest chain and stops a corrupted cycle from running forever.
 */
export const lineageDepthMax = 64;

/** Most payments one trace follows: a household over twenty years of monthly 低保 stays below it. */
export const tracePaymentsMax = 1_000;

/** One tranche on the way up, as the books hold it. */
export interface TrancheInfo {
  readonly partition: string;
  readonly trancheId: string;
  readonly accountId: string;
  readonly amountFen: bigint;
  readonly remainingFen: bigint;
  readonly fundSource: string;
  readonly fiscalYear: number;
  readonly purpose: string;
  readonly documentNumber: string;
  /** The movement that created the tranche: receipt, integration, earmark, disbursement, carry_over. */
  readonly movementKind: string;
  readonly movementId: string;
  readonly createdOn: string;
  readonly createdSeq: bigint;
  readonly isRoot: boolean;
}

/** One edge of the lineage: money of `parent` flowed into `child` (a tranche or the payment). */
export interface TraceHop {
  /** 1 for the edge into the payment, growing towards the roots. */
  readonly depth: number;
  readonly parent: TrancheInfo;
  readonly childKind: 'tranche' | 'payment';
  readonly childPartition: string;
  readonly childId: string;
  /** The edge's amount as the event recorded it. */
  readonly edgeFen: bigint;
  /**
   * How much of the traced payment this edge carries. Exact along single-parent chains (the
   * writers create one child per parent piece); where a tranche has several parents its share
   * is split pro rata to their amounts and rounded down to the fen.
   */
  readonly tracedFen: bigint;
  /** Set where the edge crosses partitions: the allocation (资金下达) it travelled under. */
  readonly allocation: { readonly fromPartition: string; readonly allocationId: string } | null;
}

/** Where the money entered the system: a root tranche and its receipt. */
export interface TraceRoot {
  readonly tranche: TrancheInfo;
  readonly payer: string | null;
  readonly receivedOn: string | null;
  readonly tracedFen: bigint;
}

export interface PaymentTrace {
  readonly partition: string;
  readonly paymentId: string;
  readonly householdId: string;
  readonly programmeCode: string;
  readonly period: string;
  readonly amountFen: bigint;
  readonly status: string;
  readonly instructedOn: string;
  readonly settledOn: string | null;
  readonly returnedOn: string | null;
  readonly hops: readonly TraceHop[];
  readonly roots: readonly TraceRoot[];
}

interface HopRow {
  payment_id: string;
  depth: number;
  child_kind: 'tranche' | 'payment';
  child_partition: string;
  child_id: string;
  edge_fen: bigint;
  traced_fen: string;
  partition: string;
  tranche_id: string;
  account_id: string;
  amount_fen: bigint;
  remaining_fen: bigint;
  fund_source: string;
  fiscal_year: number;
  purpose: string;
  document_number: string;
  movement_kind: string;
  movement_id: string;
  created_on: string;
  created_seq: bigint;
  is_root: boolean;
  payer: string | null;
  received_on: string | null;
  child_origin_partition: string | null;
  child_origin_allocation_id: string | null;
}

function trancheOf(row: HopRow): TrancheInfo {
  return {
    partition: row.partition,
    trancheId: row.tranche_id,
    accountId: row.account_id,
    amountFen: row.amount_fen,
    remainingFen: row.remaining_fen,
    fundSource: row.fund_source,
    fiscalYear: row.fiscal_year,
    purpose: row.purpose,
    documentNumber: row.document_number,
    movementKind: row.movement_kind,
    movementId: row.movement_id,
    createdOn: row.created_on,
    createdSeq: row.created_seq,
    isRoot: row.is_root,
  };
}

/** Rounds a non-negative numeric (as text) down to whole fen. */
function floorFen(text: string): bigint {
  return BigInt(text.split('.')[0] ?? '0');
}

/**
 * Traces payments of one partition up to the root allocations they came from: every hop with its
 * tranche (document number 文号, fund source, purpose, amount, date) and the allocation it
 * travelled under where it crossed partitions. One recursive query over `tranche_flows`.
 */
export async function tracePaymentsUp(
  db: Kysely<Database>,
  partition: string,
  paymentIds: readonly string[],
): Promise<PaymentTrace[]> {
  if (paymentIds.length === 0) return [];
  if (paymentIds.length > tracePaymentsMax) {
    throw new RangeError(`a trace follows at most ${tracePaymentsMax} payments, got ${paymentIds.length}`);
  }
  const payments = await db
    .selectFrom('payments')
    .selectAll()
    .where('partition', '=', partition)
    .where('payment_id', 'in', [...paymentIds])
    .orderBy('instructed_seq')
    .execute();
  return traceRows(db, partition, payments);
}

/** What a trace shows of the payment itself. */
type PaymentHead = Pick<
  Selectable<Database['payments']>,
  | 'partition'
  | 'payment_id'
  | 'household_id'
  | 'programme_code'
  | 'period'
  | 'amount_fen'
  | 'status'
  | 'instructed_on'
  | 'settled_on'
  | 'returned_on'
>;

/** Traces payment rows (in the order given) up to their roots: one call of trace_payments_up. */
async function traceRows(
  db: Kysely<Database>,
  partition: string,
  payments: readonly PaymentHead[],
): Promise<PaymentTrace[]> {
  if (payments.length === 0) return [];
  // One call of the migration's trace_payments_up (0007): its plan is cached per connection.
  const { rows } = await sql<HopRow>`
    select * from trace_payments_up(${partition}, ${payments.map((p) => p.payment_id)}::text[], ${lineageDepthMax})`.execute(
    db,
  );
  return assemble(payments, rows);
}

/** Payments and their hop rows (ordered by payment, depth, tranche) as traces, in payment order. */
function assemble(payments: readonly PaymentHead[], rows: readonly HopRow[]): PaymentTrace[] {
  const hopsByPayment = new Map<string, HopRow[]>();
  for (const row of rows) {
    const list = hopsByPayment.get(row.payment_id) ?? [];
    list.push(row);
    hopsByPayment.set(row.payment_id, list);
  }
  return payments.map((payment) => {
    const hopRows = hopsByPayment.get(payment.payment_id) ?? [];
    const roots = new Map<string, TraceRoot>();
    for (const row of hopRows) {
      if (!row.is_root) continue;
      const key = `${row.partition}/${row.tranche_id}`;
      const previous = roots.get(key);
      roots.set(key, {
        tranche: trancheOf(row),
        payer: row.payer,
        receivedOn: row.received_on,
        tracedFen: (previous?.tracedFen ?? 0n) + floorFen(row.traced_fen),
      });
    }
    return {
      partition: payment.partition,
      paymentId: payment.payment_id,
      householdId: payment.household_id,
      programmeCode: payment.programme_code,
      period: payment.period,
      amountFen: payment.amount_fen,
      status: payment.status,
      instructedOn: payment.instructed_on,
      settledOn: payment.settled_on,
      returnedOn: payment.returned_on,
      hops: hopRows.map((row) => ({
        depth: row.depth,
        parent: trancheOf(row),
        childKind: row.child_kind,
        childPartition: row.child_partition,
        childId: row.child_id,
        edgeFen: row.edge_fen,
        tracedFen: floorFen(row.traced_fen),
        allocation:
          row.child_origin_partition !== null && row.child_origin_allocation_id !== null
            ? { fromPartition: row.child_origin_partition, allocationId: row.child_origin_allocation_id }
            : null,
      })),
      roots: [...roots.values()].sort((a, b) =>
        a.tranche.partition === b.tranche.partition
          ? a.tranche.trancheId.localeCompare(b.tranche.trancheId)
          : a.tranche.partition.localeCompare(b.tranche.partition),
      ),
    };
  });
}

/** Traces one payment up to its root allocations; null when the books do not hold it. */
export async function tracePaymentUp(
  db: Kysely<Database>,
  partition: string,
  paymentId: string,
): Promise<PaymentTrace | null> {
  const [trace] = await tracePaymentsUp(db, partition, [paymentId]);
  return trace ?? null;
}

/** A hop row of the household trace, with the payment's own columns prefixed `pay_`. */
type HouseholdRow = HopRow & { [K in keyof PaymentHead as `pay_${K}`]: PaymentHead[K] };

/**
 * The household trace as one statement (what `traceHouseholdUp` runs; benchmarks EXPLAIN it):
 * the household's payments (by index) and trace_payments_up over their ids, whose plan is cached
 * per connection. Payment columns come prefixed (the hops have their own).
 */
export function householdTraceQuery(partition: string, householdId: string): RawBuilder<HouseholdRow> {
  return sql<HouseholdRow>`
    with pay as (
      select * from payments where partition = ${partition} and household_id = ${householdId}
      order by instructed_seq limit ${tracePaymentsMax + 1}
    )
    select pay.partition as pay_partition, pay.payment_id as pay_payment_id, pay.household_id as pay_household_id,
           pay.programme_code as pay_programme_code, pay.period as pay_period, pay.amount_fen as pay_amount_fen,
           pay.status as pay_status, pay.instructed_on as pay_instructed_on, pay.settled_on as pay_settled_on,
           pay.returned_on as pay_returned_on, h.*
    from pay
    left join trace_payments_up(${partition}, (select array_agg(payment_id) from pay), ${lineageDepthMax}) h
      on h.payment_id = pay.payment_id
    order by pay.instructed_seq, h.payment_id, h.depth, h.partition, h.tranche_id, h.child_id`;
}

/** Traces every payment to a household (returned and reversed ones included), in instruction order. */
export async function traceHouseholdUp(
  db: Kysely<Database>,
  partition: string,
  householdId: string,
): Promise<PaymentTrace[]> {
  const { rows } = await householdTraceQuery(partition, householdId).execute(db);
  const payments = new Map<string, PaymentHead>();
  for (const row of rows) {
    if (payments.has(row.pay_payment_id)) continue;
    payments.set(row.pay_payment_id, {
      partition: row.pay_partition,
      payment_id: row.pay_payment_id,
      household_id: row.pay_household_id,
      programme_code: row.pay_programme_code,
      period: row.pay_period,
      amount_fen: row.pay_amount_fen,
      status: row.pay_status,
      instructed_on: row.pay_instructed_on,
      settled_on: row.pay_settled_on,
      returned_on: row.pay_returned_on,
    });
  }
  if (payments.size > tracePaymentsMax) {
    throw new RangeError(
      `household ${householdId} has more than ${tracePaymentsMax} payments; trace them by period`,
    );
  }
  return assemble(
    [...payments.values()],
    rows.filter((row) => (row.payment_id as string | null) !== null),
  );
}
