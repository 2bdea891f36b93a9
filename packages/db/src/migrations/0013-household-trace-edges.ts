import { type Kysely, sql } from 'kysely';

// Frozen: never edit after it has run anywhere; add a new migration instead. Imports only
// 'kysely' and never names a schema: the runner sets search_path to the target schema.
//
// Issue 5 (household trace at 1,000,000 payments, decision 0100).
// - `tranche_flows_tranche_up`: the flows into tranches, the few rows the trace's recursive step
//   probes once per tranche above a household (24 of 1,004,056 flows in the county-shaped books
//   of 1M payments). Through `tranche_flows_child_up` every such probe descended a 176 MB index
//   (four to five buffers a probe); this index is one page, so a probe is that page and the row.
//   Partial on the literal the step names (`child_kind = 'tranche'`), so the planner can prove it
//   applies in the function's generic plan; it holds every column the step reads.
// - `trace_household_edges` answers what 0010's `trace_household_up` answers, smaller: a hop is
//   four values in one flat list (payment, depth, edge, traced fen) and each distinct edge (child
//   tranche, parent tranche, the edge's amount, the allocation it travelled under) is listed
//   once, where 0010 repeated the edge's columns in each of the ~112 hops of a household through
//   their ~4 distinct lineages. The client's garbage a trace is mostly this answer parsed (the
//   GC pauses that fall inside timed traces set the trace's p99). Same rows, order and fen: the
//   hops are 0010's, read from the same `trace_payments_up`. 0010's function stays, so code that
//   reads its answer keeps working while the two are deployed side by side.

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index tranche_flows_tranche_up on tranche_flows (partition, child_id)
    include (parent_partition, parent_tranche_id, amount_fen, seq, piece_no)
    where child_kind = 'tranche'`.execute(db);

  // [payments, tranches, edges, hops]: payments and tranches as 0010 lists them (same columns,
  // same order); edges as [child tranche | null (the hop's payment), parent tranche, edge fen,
  // origin partition, origin allocation], numbered in their order here; hops flat, four values
  // each: payment, depth, edge, traced fen, in 0010's hop order. Amounts travel as strings of
  // digits.
  await sql`create or replace function trace_household_edges(p_partition text, p_household_id text,
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
      ),
      hop as materialized (
        select p.i as p, h.depth, h.traced_fen, c.i as c, t.i as t, h.edge_fen, h.child_origin_partition as op,
               h.child_origin_allocation_id as oa, h.partition, h.tranche_id, h.child_id,
               (dense_rank() over (order by c.i nulls first, t.i, h.edge_fen, h.child_origin_partition nulls first,
                                            h.child_origin_allocation_id nulls first) - 1)::integer as e
        from h
        join pay p on p.payment_id = h.payment_id
        join tr t on t.partition = h.partition and t.tranche_id = h.tranche_id
        left join tr c on h.child_kind = 'tranche' and c.partition = h.child_partition and c.tranche_id = h.child_id
      )
      select '[' || (select coalesce(json_agg(json_build_array(p.payment_id, p.programme_code, p.period,
            p.amount_fen::text, p.status, p.instructed_on, p.settled_on, p.returned_on) order by p.i), '[]')
         from pay p)::text
        || ',' || (select coalesce(json_agg(json_build_array(t.partition, t.tranche_id, t.account_id,
            t.amount_fen::text, t.remaining_fen::text, t.fund_source, t.fiscal_year, t.purpose, t.document_number,
            t.movement_kind, t.movement_id, t.created_on, t.created_seq::text, t.is_root, t.payer, t.received_on)
            order by t.i), '[]')
         from tr t)::text
        || ',' || (select coalesce(json_agg(json_build_array(x.c, x.t, x.edge_fen::text, x.op, x.oa) order by x.e), '[]')
         from (select distinct on (e) e, c, t, edge_fen, op, oa from hop order by e) x)::text
        -- traced_fen is trunc(numeric)::text: digits only, so it is quoted as it is.
        || ',[' || coalesce((select string_agg(hop.p || ',' || hop.depth || ',' || hop.e || ',"' || hop.traced_fen || '"',
            ',' order by hop.p, hop.depth, hop.partition, hop.tranche_id, hop.child_id)
         from hop), '') || ']]'
      into answer;
      return answer;
    end
    $fn$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop function if exists trace_household_edges(text, text, integer, integer)`.execute(db);
  await sql`drop index if exists tranche_flows_tranche_up`.execute(db);
}
