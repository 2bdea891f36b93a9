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

/** The household trace as one JSON text: [payments, hops, distinct tranches], each a list of arrays. */
interface HouseholdTraceRow {
  trace: string;
}

/**
 * The household trace as one statement (what `traceHouseholdUp` runs; benchmarks EXPLAIN it):
 * the household's payments (by index) and trace_payments_up over their ids, whose plan is cached
 * per connection. It answers one JSON text holding the payments, the hops without their tranche's
 * columns and each tranche once: a household's hops repeat a few tranches, and parsing 112 rows of
 * 35 columns value by value cost the client more than the database spent on the trace.
 */
export function householdTraceQuery(partition: string, householdId: string): RawBuilder<HouseholdTraceRow> {
  return sql<HouseholdTraceRow>`
    with pay as materialized (
      select partition, payment_id, household_id, programme_code, period, amount_fen, status, instructed_on,
             settled_on, returned_on, instructed_seq
      from payments where partition = ${partition} and household_id = ${householdId}
      order by instructed_seq limit ${tracePaymentsMax + 1}
    ),
    h as materialized (
      select * from trace_payments_up(${partition}, (select array_agg(payment_id) from pay), ${lineageDepthMax})
    )
    select json_build_array(
      (select coalesce(json_agg(json_build_array(p.partition, p.payment_id, p.household_id, p.programme_code, p.period,
          p.amount_fen::text, p.status, p.instructed_on, p.settled_on, p.returned_on) order by p.instructed_seq), '[]')
       from pay p),
      (select coalesce(json_agg(json_build_array(h.payment_id, h.depth, h.child_kind, h.child_partition, h.child_id,
          h.edge_fen::text, h.traced_fen, h.partition, h.tranche_id, h.child_origin_partition,
          h.child_origin_allocation_id) order by h.payment_id, h.depth, h.partition, h.tranche_id, h.child_id), '[]')
       from h),
      (select coalesce(json_agg(json_build_array(t.partition, t.tranche_id, t.account_id, t.amount_fen::text,
          t.remaining_fen::text, t.fund_source, t.fiscal_year, t.purpose, t.document_number, t.movement_kind,
          t.movement_id, t.created_on, t.created_seq::text, t.is_root, t.payer, t.received_on)), '[]')
       from (select distinct on (partition, tranche_id) * from h order by partition, tranche_id) t)
    )::text as trace`;
}

type Json = string | number | boolean | null;

/** The JSON of `householdTraceQuery` as payment heads and hop rows, as the row query gave them. */
function fromJson(text: string): { payments: PaymentHead[]; hops: HopRow[] } {
  const [payRows, hopRows, trancheRows] = JSON.parse(text) as [Json[][], Json[][], Json[][]];
  const bigintOf = (value: Json) => BigInt(value as string);
  const tranches = new Map<string, Json[]>();
  for (const t of trancheRows) tranches.set(`${t[0]}\u0000${t[1]}`, t);
  const payments = payRows.map(
    (p): PaymentHead => ({
      partition: p[0] as string,
      payment_id: p[1] as string,
      household_id: p[2] as string,
      programme_code: p[3] as string,
      period: p[4] as string,
      amount_fen: bigintOf(p[5]!),
      status: p[6] as PaymentHead['status'],
      instructed_on: p[7] as string,
      settled_on: p[8] as string | null,
      returned_on: p[9] as string | null,
    }),
  );
  const hops = hopRows.map((h): HopRow => {
    const t = tranches.get(`${h[7]}\u0000${h[8]}`);
    if (t === undefined) throw new Error(`trace: tranche ${h[7]}/${h[8]} of a hop is not in the answer`);
    return {
      payment_id: h[0] as string,
      depth: h[1] as number,
      child_kind: h[2] as 'tranche' | 'payment',
      child_partition: h[3] as string,
      child_id: h[4] as string,
      edge_fen: bigintOf(h[5]!),
      traced_fen: h[6] as string,
      partition: t[0] as string,
      tranche_id: t[1] as string,
      account_id: t[2] as string,
      amount_fen: bigintOf(t[3]!),
      remaining_fen: bigintOf(t[4]!),
      fund_source: t[5] as string,
      fiscal_year: t[6] as number,
      purpose: t[7] as string,
      document_number: t[8] as string,
      movement_kind: t[9] as string,
      movement_id: t[10] as string,
      created_on: t[11] as string,
      created_seq: bigintOf(t[12]!),
      is_root: t[13] as boolean,
      payer: t[14] as string | null,
      received_on: t[15] as string | null,
      child_origin_partition: h[9] as string | null,
      child_origin_allocation_id: h[10] as string | null,
    };
  });
  return { payments, hops };
}

/** Traces every payment to a household (returned and reversed ones included), in instruction order. */
export async function traceHouseholdUp(
  db: Kysely<Database>,
  partition: string,
  householdId: string,
): Promise<PaymentTrace[]> {
  const { rows } = await householdTraceQuery(partition, householdId).execute(db);
  const { payments, hops } = fromJson(rows[0]!.trace);
  if (payments.length > tracePaymentsMax) {
    throw new RangeError(
      `household ${householdId} has more than ${tracePaymentsMax} payments; trace them by period`,
    );
  }
  return assemble(payments, hops);
}
