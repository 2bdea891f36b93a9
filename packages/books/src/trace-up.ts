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
  const point = text.indexOf('.');
  return BigInt(point < 0 ? text : text.slice(0, point) || '0');
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
  if (payments.length === 0) return [];
  // One call of the migration's trace_payments_up (0010): its plan is cached per connection.
  const { rows } = await sql<HopRow>`
    select * from trace_payments_up(${partition}, ${payments.map((p) => p.payment_id)}::text[], ${lineageDepthMax})`.execute(
    db,
  );
  return assemble(payments, hopsOfRows(rows));
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

/** One hop with its payment and its parent tranche's receipt (a root's payer and date). */
interface HopOf {
  readonly paymentId: string;
  readonly hop: TraceHop;
  readonly payer: string | null;
  readonly receivedOn: string | null;
}

function allocationOf(
  originPartition: string | null,
  originAllocationId: string | null,
): TraceHop['allocation'] {
  return originPartition !== null && originAllocationId !== null
    ? { fromPartition: originPartition, allocationId: originAllocationId }
    : null;
}

/** The hop rows of trace_payments_up as hops, each with its own tranche. */
function hopsOfRows(rows: readonly HopRow[]): HopOf[] {
  return rows.map((row) => ({
    paymentId: row.payment_id,
    hop: {
      depth: row.depth,
      parent: trancheOf(row),
      childKind: row.child_kind,
      childPartition: row.child_partition,
      childId: row.child_id,
      edgeFen: row.edge_fen,
      tracedFen: floorFen(row.traced_fen),
      allocation: allocationOf(row.child_origin_partition, row.child_origin_allocation_id),
    },
    payer: row.payer,
    receivedOn: row.received_on,
  }));
}

/** Where a root tranche's money came from: its receipt's payer and date. */
interface Receipt {
  readonly payer: string | null;
  readonly receivedOn: string | null;
}

/** Orders roots by partition, then tranche. */
function byTranche(a: TraceRoot, b: TraceRoot): number {
  return a.tranche.partition === b.tranche.partition
    ? a.tranche.trancheId.localeCompare(b.tranche.trancheId)
    : a.tranche.partition.localeCompare(b.tranche.partition);
}

/**
 * A payment's roots from its hops: each root tranche once, with the fen its hops carry summed.
 * A payment has one or two roots, so a list searched in place (no map, no key strings).
 */
function rootsOf(
  hops: readonly TraceHop[],
  receiptOf: (hop: TraceHop, index: number) => Receipt,
): TraceRoot[] {
  const roots: TraceRoot[] = [];
  for (let i = 0; i < hops.length; i++) {
    const hop = hops[i]!;
    if (!hop.parent.isRoot) continue;
    let k = 0;
    while (
      k < roots.length &&
      !(
        roots[k]!.tranche.partition === hop.parent.partition &&
        roots[k]!.tranche.trancheId === hop.parent.trancheId
      )
    )
      k++;
    const { payer, receivedOn } = receiptOf(hop, i);
    roots[k] = {
      tranche: hop.parent,
      payer,
      receivedOn,
      tracedFen: (roots[k]?.tracedFen ?? 0n) + hop.tracedFen,
    };
  }
  if (roots.length > 1) roots.sort(byTranche);
  return roots;
}

/** Payments and their hops (ordered by payment, depth, tranche) as traces, in payment order. */
function assemble(payments: readonly PaymentHead[], hops: readonly HopOf[]): PaymentTrace[] {
  const hopsByPayment = new Map<string, HopOf[]>();
  for (const hop of hops) {
    const list = hopsByPayment.get(hop.paymentId);
    if (list === undefined) hopsByPayment.set(hop.paymentId, [hop]);
    else list.push(hop);
  }
  return payments.map((payment) => {
    const paymentHops = hopsByPayment.get(payment.payment_id) ?? [];
    const ownHops = paymentHops.map((h) => h.hop);
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
      hops: ownHops,
      roots: rootsOf(ownHops, (_, i) => paymentHops[i]!),
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

/** The household trace as one JSON text: [payments, tranches, edges, hops] (migration 0013). */
interface HouseholdTraceRow {
  trace: string;
}

/**
 * The household trace as one statement (what `traceHouseholdUp` runs; benchmarks EXPLAIN it): one
 * call of trace_household_edges (migration 0013), which reads the household's payments by index,
 * traces them with trace_payments_up and answers one JSON text holding the payments, each tranche
 * once, each distinct edge once and the hops as four values each. The statement has nothing to
 * plan; the function's own statement keeps its cached generic plan (decisions 0057, 0100).
 */
export function householdTraceQuery(partition: string, householdId: string): RawBuilder<HouseholdTraceRow> {
  return sql<HouseholdTraceRow>`
    select trace_household_edges(${partition}, ${householdId}, ${tracePaymentsMax}::integer, ${lineageDepthMax}::integer) as trace`;
}

type Json = string | number | boolean | null;

/** One tranche of the answer, with its receipt (a root's payer and date). */
interface TrancheOf extends Receipt {
  readonly info: TrancheInfo;
}

/** One distinct edge of the answer: from `parent` into `child` (null: the hop's own payment). */
interface EdgeOf {
  readonly child: TrancheInfo | null;
  readonly parent: TrancheOf;
  readonly edgeFen: bigint;
  readonly allocation: TraceHop['allocation'];
}

/** Values per hop in the answer's flat hop list: payment, depth, edge, traced fen. */
const hopValues = 4;

/**
 * The JSON of `householdTraceQuery` ([payments, tranches, edges, hops], see migration 0013) as
 * traces, built in one pass. Each tranche, edge and allocation is built once and shared by the
 * hops that pass through it, each distinct amount is made a bigint once per answer, and hops go
 * straight into their payment's list (the answer lists them in payment order): the client's
 * garbage per trace is what sets how often a GC pause lands inside one (decision 0100).
 */
function tracesOfAnswer(text: string, partition: string, householdId: string): PaymentTrace[] {
  const [payRows, trancheRows, edgeRows, hops] = JSON.parse(text) as [Json[][], Json[][], Json[][], Json[]];
  if (payRows.length > tracePaymentsMax) {
    throw new RangeError(
      `household ${householdId} has more than ${tracePaymentsMax} payments (tracePaymentsMax), more than one trace answers; ` +
        `that many payments to one household is itself worth checking: list them with the household's trail ` +
        `(/v1/partitions/${partition}/trail/household/${householdId}) and trace the allocations they came from`,
    );
  }
  if (hops.length % hopValues !== 0)
    throw new Error(`trace: the answer's hop list holds ${hops.length} values, not ${hopValues} a hop`);
  const amounts = new Map<string, bigint>();
  const fen = (value: Json): bigint => {
    const text = value as string;
    let amount = amounts.get(text);
    if (amount === undefined) {
      amount = floorFen(text);
      amounts.set(text, amount);
    }
    return amount;
  };
  const at = <T>(list: readonly T[], index: Json, what: string): T => {
    const item = list[index as number];
    if (item === undefined)
      throw new Error(`trace: the answer names ${what} ${String(index)}, it has ${list.length}`);
    return item;
  };
  const tranches = trancheRows.map(
    (t): TrancheOf => ({
      info: {
        partition: t[0] as string,
        trancheId: t[1] as string,
        accountId: t[2] as string,
        amountFen: fen(t[3]!),
        remainingFen: fen(t[4]!),
        fundSource: t[5] as string,
        fiscalYear: t[6] as number,
        purpose: t[7] as string,
        documentNumber: t[8] as string,
        movementKind: t[9] as string,
        movementId: t[10] as string,
        createdOn: t[11] as string,
        createdSeq: BigInt(t[12] as string),
        isRoot: t[13] as boolean,
      },
      payer: t[14] as string | null,
      receivedOn: t[15] as string | null,
    }),
  );
  const receipts = new Map<TrancheInfo, Receipt>();
  for (const tranche of tranches) receipts.set(tranche.info, tranche);
  const edges = edgeRows.map(
    (e): EdgeOf => ({
      child: e[0] === null ? null : at(tranches, e[0]!, 'tranche').info,
      parent: at(tranches, e[1]!, 'tranche'),
      edgeFen: fen(e[2]!),
      allocation: allocationOf(e[3] as string | null, e[4] as string | null),
    }),
  );
  const hopsOf: TraceHop[][] = payRows.map(() => []);
  for (let k = 0; k < hops.length; k += hopValues) {
    const list = at(hopsOf, hops[k]!, 'payment');
    const edge = at(edges, hops[k + 2]!, 'edge');
    const child = edge.child;
    list.push({
      depth: hops[k + 1] as number,
      parent: edge.parent.info,
      childKind: child === null ? 'payment' : 'tranche',
      childPartition: child === null ? partition : child.partition,
      childId: child === null ? (payRows[hops[k] as number]![0] as string) : child.trancheId,
      edgeFen: edge.edgeFen,
      tracedFen: fen(hops[k + 3]!),
      allocation: edge.allocation,
    });
  }
  const receiptOf = (hop: TraceHop): Receipt => receipts.get(hop.parent)!;
  return payRows.map((p, i): PaymentTrace => {
    const paymentHops = hopsOf[i]!;
    return {
      partition,
      paymentId: p[0] as string,
      householdId,
      programmeCode: p[1] as string,
      period: p[2] as string,
      amountFen: fen(p[3]!),
      status: p[4] as string,
      instructedOn: p[5] as string,
      settledOn: p[6] as string | null,
      returnedOn: p[7] as string | null,
      hops: paymentHops,
      roots: rootsOf(paymentHops, receiptOf),
    };
  });
}

/** Traces every payment to a household (returned and reversed ones included), in instruction order. */
export async function traceHouseholdUp(
  db: Kysely<Database>,
  partition: string,
  householdId: string,
): Promise<PaymentTrace[]> {
  const { rows } = await householdTraceQuery(partition, householdId).execute(db);
  return tracesOfAnswer(rows[0]!.trace, partition, householdId);
}
