import { type Kysely, sql } from 'kysely';

// Frozen: never edit after it has run anywhere; add a new migration instead. Imports only
// 'kysely' and never names a schema: the runner sets search_path to the target schema.
//
// Issue 5 (household trace at 1,000,000 payments, decision 0057). 0009 read each tranche above a
// household's payments through four index probes: its parent flows twice (once to find the
// tranches, once more for the hops), its row, and two lookups of its receipt (one for a root's
// payer, one for a cross-partition origin) — about 400 of the ~600 buffers a trace touched. And
// the household statement around it (payments, the call, the JSON) was parsed and planned on every
// trace (0.2–0.6 ms of backend CPU).
// - `edge` follows the lineage by its flows: each tranche's parent flows are read once, by the
//   whole key of `tranche_flows_child_up`, and carry the hop's amount; a union over the flows'
//   keys (partition, seq, piece_no) keeps every flow and stops on cycles. One branch reads flows:
//   the recursion starts from rows naming the payments' tranches.
// - `tranche` reads each distinct tranche once by its key, with its receipt in one lateral branch
//   (payer and date where it is a root, origin where it came from another partition).
// - The hops are built from those sets with 0009's expression `traced * edge / amount`, in the
//   same order: the same rows and fen as 0007 and 0009. A hop's allocation (where it crossed into
//   a receipt of another partition) comes from the tranche the recursive step already joined,
//   not from a second pass over the tranches for every hop.
// - trace_household_up(partition, household, payments max, depth max) is the whole household
//   trace as one function returning the JSON text traceHouseholdUp parses: the client sends a
//   statement with nothing to plan, and the function's statement keeps its generic plan.

const traceColumns = sql`
      payment_id text, depth integer, child_kind text, child_partition text, child_id text, edge_fen bigint,
      traced_fen text, partition text, tranche_id text, account_id text, amount_fen bigint, remaining_fen bigint,
      fund_source text, fiscal_year integer, purpose text, document_number text, movement_kind text,
      movement_id text, created_on date, created_seq bigint, is_root boolean, payer text, received_on date,
      child_origin_partition text, child_origin_allocation_id text`;

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create or replace function trace_payments_up(p_partition text, p_payment_ids text[], p_depth_max integer)
    returns table (${traceColumns})
    language plpgsql stable set plan_cache_mode = force_generic_plan as $fn$
    #variable_conflict use_column
    begin
      return query
      with recursive
      -- The payments' own flows: one index probe per payment.
      piece as materialized (
        select f.partition, f.child_kind, f.child_id, f.parent_partition, f.parent_tranche_id, f.amount_fen
        from (select distinct id from unnest(p_payment_ids) as ids(id)) pid
        cross join lateral (select f.partition, f.child_kind, f.child_id, f.parent_partition, f.parent_tranche_id,
                                   f.amount_fen
          from tranche_flows f
          where f.partition = p_partition and f.child_kind = 'payment' and f.child_id = pid.id
          offset 0) f
      ),
      -- Every flow into a tranche above them, each tranche's read once by the index's whole key. The
      -- first rows only name the tranches the payments drew on (no flow: seq is null); every later
      -- row is a flow into a tranche named by the rows before it.
      edge (partition, seq, piece_no, child_id, parent_partition, parent_tranche_id, amount_fen) as (
        select distinct null::text, null::bigint, null::integer, null::text, parent_partition, parent_tranche_id,
               null::bigint
        from piece
        union
        select f.partition, f.seq, f.piece_no, f.child_id, f.parent_partition, f.parent_tranche_id, f.amount_fen
        from edge
        cross join lateral (select f.partition, f.seq, f.piece_no, f.child_id, f.parent_partition,
                                   f.parent_tranche_id, f.amount_fen
          from tranche_flows f
          where f.partition = edge.parent_partition and f.child_kind = 'tranche'
            and f.child_id = edge.parent_tranche_id
          offset 0) f
      ),
      -- Each tranche once, with its receipt: a root's payer and date, a transfer's origin.
      tranche as materialized (
        select t.*, r.payer, r.received_on, r.origin_partition, r.origin_allocation_id
        from (select distinct parent_partition, parent_tranche_id from edge) node (partition, tranche_id)
        cross join lateral (select t.* from tranches t
          where t.partition = node.partition and t.tranche_id = node.tranche_id
          offset 0) t
        left join lateral (select case when t.is_root then r.payer end as payer,
                                  case when t.is_root then r.received_on end as received_on,
                                  r.origin_partition, r.origin_allocation_id
          from receipts r
          where t.movement_kind = 'receipt' and r.partition = t.partition and r.receipt_id = t.movement_id
          offset 0) r on true
      ),
      -- Each payment's hops, from the sets above (no index probes): 0009's rows and arithmetic. A
      -- hop above the first goes into the tranche t the step joins (its child), so where it
      -- crosses partitions into a receipt, the allocation it travelled under is that receipt's
      -- origin (0009 looked the child up again for every hop).
      up (payment_id, depth, child_kind, child_partition, child_id, parent_partition, parent_tranche_id, edge_fen,
          traced, origin_partition, origin_allocation_id) as (
        select piece.child_id, 1, piece.child_kind, piece.partition, piece.child_id, piece.parent_partition,
               piece.parent_tranche_id, piece.amount_fen, piece.amount_fen::numeric, null::text, null::text
        from piece
        union all
        select up.payment_id, up.depth + 1, 'tranche'::text, f.partition, f.child_id, f.parent_partition,
               f.parent_tranche_id, f.amount_fen, up.traced * f.amount_fen / t.amount_fen,
               case when f.partition <> f.parent_partition and t.movement_kind = 'receipt' then t.origin_partition end,
               case when f.partition <> f.parent_partition and t.movement_kind = 'receipt'
                    then t.origin_allocation_id end
        from up
        join tranche t on t.partition = up.parent_partition and t.tranche_id = up.parent_tranche_id
        join edge f on f.seq is not null and f.partition = up.parent_partition and f.child_id = up.parent_tranche_id
        where up.depth < p_depth_max
      )
      select up.payment_id, up.depth, up.child_kind, up.child_partition, up.child_id, up.edge_fen,
             trunc(up.traced)::text,
             t.partition, t.tranche_id, t.account_id, t.amount_fen, t.remaining_fen, t.fund_source, t.fiscal_year,
             t.purpose, t.document_number, t.movement_kind, t.movement_id, t.created_on, t.created_seq, t.is_root,
             t.payer, t.received_on, up.origin_partition, up.origin_allocation_id
      from up
      join tranche t on t.partition = up.parent_partition and t.tranche_id = up.parent_tranche_id
      order by up.payment_id, up.depth, t.partition, t.tranche_id, up.child_id;
    end
    $fn$`.execute(db);

  // The household trace: its payments by (partition, household_id, instructed_seq), their trace,
  // and one JSON text [payments, tranches, hops] in which a hop names its payment and tranches by
  // their place in those lists: each tranche's columns and each payment id are sent once, not once
  // per hop (the client's parsing is most of its CPU a trace). The partition and household are the
  // parameters and are not repeated; a hop's child is its payment at depth 1, else a listed tranche.
  await sql`create or replace function trace_household_up(p_partition text, p_household_id text,
      p_payments_max integer, p_depth_max integer)
    returns text
    language plpgsql stable set plan_cache_mode = force_generic_plan as $fn$
    declare
      answer text;
    begin
      with pay as materialized (
        select payment_id, programme_code, period, amount_fen, status, instructed_on, settled_on, returned_on,
               (row_number() over (order by instructed_seq) - 1)::integer as i
        from payments where partition = p_partition and household_id = p_household_id
        order by instructed_seq limit p_payments_max + 1
      ),
      h as materialized (
        select * from trace_payments_up(p_partition, (select array_agg(payment_id) from pay), p_depth_max)
      ),
      tr as materialized (
        select (row_number() over (order by partition, tranche_id) - 1)::integer as i, d.*
        from (select distinct on (partition, tranche_id) partition, tranche_id, account_id, amount_fen, remaining_fen,
                     fund_source, fiscal_year, purpose, document_number, movement_kind, movement_id, created_on,
                     created_seq, is_root, payer, received_on
              from h order by partition, tranche_id) d
      )
      select json_build_array(
        (select coalesce(json_agg(json_build_array(p.payment_id, p.programme_code, p.period, p.amount_fen::text,
            p.status, p.instructed_on, p.settled_on, p.returned_on) order by p.i), '[]')
         from pay p),
        (select coalesce(json_agg(json_build_array(t.partition, t.tranche_id, t.account_id, t.amount_fen::text,
            t.remaining_fen::text, t.fund_source, t.fiscal_year, t.purpose, t.document_number, t.movement_kind,
            t.movement_id, t.created_on, t.created_seq::text, t.is_root, t.payer, t.received_on) order by t.i), '[]')
         from tr t),
        (select coalesce(json_agg(json_build_array(p.i, h.depth, c.i, h.edge_fen::text, h.traced_fen, t.i,
            h.child_origin_partition, h.child_origin_allocation_id)
            order by p.i, h.depth, h.partition, h.tranche_id, h.child_id), '[]')
         from h
         join pay p on p.payment_id = h.payment_id
         join tr t on t.partition = h.partition and t.tranche_id = h.tranche_id
         left join tr c on h.child_kind = 'tranche' and c.partition = h.child_partition and c.tranche_id = h.child_id)
      )::text into answer;
      return answer;
    end
    $fn$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop function if exists trace_household_up(text, text, integer, integer)`.execute(db);
  // 0009's trace_payments_up comes back by running 0009's up again (kysely's migrator runs the
  // downs in reverse, so 0009's own down restores 0007's after it).
  const { up: up0009 } = await import('./0009-trace-probes-without-statistics');
  await up0009(db);
}
