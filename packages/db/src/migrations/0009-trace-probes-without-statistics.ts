import { type Kysely, sql } from 'kysely';

// Frozen: never edit after it has run anywhere; add a new migration instead. Imports only
// 'kysely' and never names a schema: the runner sets search_path to the target schema.
//
// Issue 5 (household trace, decision 0059): trace_payments_up of 0007 gave the right rows, but
// how it read them was the planner's choice, and without statistics (a fresh or never-analyzed
// schema: the county run of `pnpm bench` before decision 0055) it chose badly. Its first step,
// `child_id = any(p_payment_ids)`, became a bitmap scan of every payment's flow of the partition
// filtered afterwards (100,363 rows read for 28 at 100,000 payments: 207 ms a trace, growing
// with the books), and its "lateral" tranche lookups were flattened into hash joins over a
// sequential scan of all tranches. Here every step is a lateral subquery behind `offset 0`, which
// PostgreSQL never flattens: it runs once per row of the lineage with the full key of an index
// (a payment's flows by (partition, 'payment', id); a tranche by its primary key; its parents by
// (partition, 'tranche', id); receipts by primary key), so the cost follows the lineage and not
// the size of the books, whatever the statistics say. Same columns, rows and order as 0007.
// - A household's payments share most of their lineage: the distinct tranches above them are
//   read once each (with their parent flows and receipts) and every payment's hops are built
//   from those sets, instead of probing the same upper tranches once per payment.
// - The plan depends on no parameter's value, so the function always runs its cached generic
//   plan (plan_cache_mode): re-planning this statement on each call cost ~0.6 ms of CPU.

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create or replace function trace_payments_up(p_partition text, p_payment_ids text[], p_depth_max integer)
    returns table (
      payment_id text, depth integer, child_kind text, child_partition text, child_id text, edge_fen bigint,
      traced_fen text, partition text, tranche_id text, account_id text, amount_fen bigint, remaining_fen bigint,
      fund_source text, fiscal_year integer, purpose text, document_number text, movement_kind text,
      movement_id text, created_on date, created_seq bigint, is_root boolean, payer text, received_on date,
      child_origin_partition text, child_origin_allocation_id text)
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
      -- Every tranche above them, each once (union drops repeats): a household's payments share
      -- most of their lineage, which is read once instead of once per payment.
      node (partition, tranche_id) as (
        select distinct parent_partition, parent_tranche_id from piece
        union
        select f.parent_partition, f.parent_tranche_id
        from node
        cross join lateral (select f.parent_partition, f.parent_tranche_id from tranche_flows f
          where f.partition = node.partition and f.child_kind = 'tranche' and f.child_id = node.tranche_id
          offset 0) f
      ),
      -- Each tranche's row, its parent flows, where it was received from and, for a root, its receipt.
      tranche as materialized (
        select t.*, r.payer, r.received_on, o.origin_partition, o.origin_allocation_id
        from node
        cross join lateral (select t.* from tranches t
          where t.partition = node.partition and t.tranche_id = node.tranche_id
          offset 0) t
        left join lateral (select r.payer, r.received_on from receipts r
          where t.is_root and r.partition = t.partition and r.receipt_id = t.movement_id
          offset 0) r on true
        left join lateral (select o.origin_partition, o.origin_allocation_id from receipts o
          where t.movement_kind = 'receipt' and o.partition = t.partition and o.receipt_id = t.movement_id
          offset 0) o on true
      ),
      parent as materialized (
        select f.partition, f.child_id, f.parent_partition, f.parent_tranche_id, f.amount_fen
        from node
        cross join lateral (select f.partition, f.child_id, f.parent_partition, f.parent_tranche_id, f.amount_fen
          from tranche_flows f
          where f.partition = node.partition and f.child_kind = 'tranche' and f.child_id = node.tranche_id
          offset 0) f
      ),
      -- Each payment's hops, from the sets above (no index probes): the same rows and the same
      -- arithmetic as 0007, in the same order.
      up (payment_id, depth, child_kind, child_partition, child_id, parent_partition, parent_tranche_id, edge_fen,
          traced) as (
        select piece.child_id, 1, piece.child_kind, piece.partition, piece.child_id, piece.parent_partition,
               piece.parent_tranche_id, piece.amount_fen, piece.amount_fen::numeric
        from piece
        union all
        select up.payment_id, up.depth + 1, 'tranche'::text, f.partition, f.child_id, f.parent_partition,
               f.parent_tranche_id, f.amount_fen, up.traced * f.amount_fen / t.amount_fen
        from up
        join tranche t on t.partition = up.parent_partition and t.tranche_id = up.parent_tranche_id
        join parent f on f.partition = up.parent_partition and f.child_id = up.parent_tranche_id
        where up.depth < p_depth_max
      )
      select up.payment_id, up.depth, up.child_kind, up.child_partition, up.child_id, up.edge_fen,
             trunc(up.traced)::text,
             t.partition, t.tranche_id, t.account_id, t.amount_fen, t.remaining_fen, t.fund_source, t.fiscal_year,
             t.purpose, t.document_number, t.movement_kind, t.movement_id, t.created_on, t.created_seq, t.is_root,
             t.payer, t.received_on, c.origin_partition, c.origin_allocation_id
      from up
      join tranche t on t.partition = up.parent_partition and t.tranche_id = up.parent_tranche_id
      left join tranche c on up.child_kind = 'tranche' and up.child_partition <> up.parent_partition
        and c.partition = up.child_partition and c.tranche_id = up.child_id and c.movement_kind = 'receipt'
      order by up.payment_id, up.depth, t.partition, t.tranche_id, up.child_id;
    end
    $fn$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  // 0007's body, as it was.
  await sql`create or replace function trace_payments_up(p_partition text, p_payment_ids text[], p_depth_max integer)
    returns table (
      payment_id text, depth integer, child_kind text, child_partition text, child_id text, edge_fen bigint,
      traced_fen text, partition text, tranche_id text, account_id text, amount_fen bigint, remaining_fen bigint,
      fund_source text, fiscal_year integer, purpose text, document_number text, movement_kind text,
      movement_id text, created_on date, created_seq bigint, is_root boolean, payer text, received_on date,
      child_origin_partition text, child_origin_allocation_id text)
    language plpgsql stable as $fn$
    #variable_conflict use_column
    begin
      return query
      with recursive up (payment_id, depth, child_kind, child_partition, child_id, parent_partition,
                         parent_tranche_id, edge_fen, traced) as (
        select f.child_id, 1, f.child_kind, f.partition, f.child_id, f.parent_partition, f.parent_tranche_id,
               f.amount_fen, f.amount_fen::numeric
        from tranche_flows f
        where f.partition = p_partition and f.child_kind = 'payment' and f.child_id = any(p_payment_ids)
        union all
        select up.payment_id, up.depth + 1, 'tranche'::text, f.partition, f.child_id, f.parent_partition,
               f.parent_tranche_id, f.amount_fen, up.traced * f.amount_fen / t.amount_fen
        from up
        cross join lateral (select t.amount_fen from tranches t
          where t.partition = up.parent_partition and t.tranche_id = up.parent_tranche_id) t
        cross join lateral (select f.partition, f.child_id, f.parent_partition, f.parent_tranche_id, f.amount_fen
          from tranche_flows f
          where f.partition = up.parent_partition and f.child_kind = 'tranche' and f.child_id = up.parent_tranche_id) f
        where up.depth < p_depth_max
      )
      select up.payment_id, up.depth, up.child_kind, up.child_partition, up.child_id, up.edge_fen,
             trunc(up.traced)::text,
             t.partition, t.tranche_id, t.account_id, t.amount_fen, t.remaining_fen, t.fund_source, t.fiscal_year,
             t.purpose, t.document_number, t.movement_kind, t.movement_id, t.created_on, t.created_seq, t.is_root,
             r.payer, r.received_on, cr.origin_partition, cr.origin_allocation_id
      from up
      join tranches t on t.partition = up.parent_partition and t.tranche_id = up.parent_tranche_id
      left join lateral (select r.payer, r.received_on from receipts r
        where t.is_root and r.partition = t.partition and r.receipt_id = t.movement_id) r on true
      left join lateral (select cr.origin_partition, cr.origin_allocation_id
        from tranches ct join receipts cr on cr.partition = ct.partition and cr.receipt_id = ct.movement_id
        where up.child_kind = 'tranche' and up.child_partition <> up.parent_partition
          and ct.movement_kind = 'receipt' and ct.partition = up.child_partition and ct.tranche_id = up.child_id) cr on true
      order by up.payment_id, up.depth, t.partition, t.tranche_id, up.child_id;
    end
    $fn$`.execute(db);
}
