import { type Kysely, sql } from 'kysely';

// Frozen: never edit after it has run anywhere; add a new migration instead. Imports only
// 'kysely' and never names a schema: the runner sets search_path to the target schema.
//
// Issue 5 (projector):
// - quarantined_events: stored messages no reader could decode (poison events) that an operator
//   quarantined (event EventQuarantined, `fundtrace quarantine`). The projector records each one
//   here, raw bytes included, when it steps over it: never a silent skip. `stream` is without
//   namespace; leaf_hash is the RFC 6962 leaf hash of `bytes`, as the quarantine named it.
// - tranche_flows_child_up: the household trace walks lineage upwards, child → parent, once per
//   hop. Covering the parent columns lets each hop be one index-only probe instead of an index
//   probe plus a heap fetch of a row in a table that holds a row per payment.
// - trace_payments_up(partition, payment ids, depth limit): the upward trace as one function, so
//   its plan is made once per connection (PL/pgSQL caches it) instead of on every call: with
//   1,000,000 payments in the books, planning the recursive query took longer than running it.
//   Each hop is a lateral index probe (tranche by key, then its parent flows by child), so the
//   cost follows the lineage's length, never the size of the books. Measured with EXPLAIN
//   (ANALYZE, BUFFERS) in services/projector/bench/trace.ts; see BENCHMARKS.md.

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table quarantined_events (
    stream text not null,
    seq bigint not null check (seq >= 1),
    partition text not null,
    subject text not null,
    claimed_type text,
    leaf_hash bytea not null,
    bytes bytea not null,
    decode_error text not null,
    reason text not null,
    quarantine_stream text not null,
    quarantine_seq bigint not null,
    quarantined_by text not null,
    quarantined_at timestamptz not null,
    primary key (stream, seq)
  )`.execute(db);
  await sql`create index tranche_flows_child_up on tranche_flows (partition, child_kind, child_id)
    include (parent_partition, parent_tranche_id, amount_fen)`.execute(db);
  await sql`drop index if exists tranche_flows_child`.execute(db);
  await sql`create function trace_payments_up(p_partition text, p_payment_ids text[], p_depth_max integer)
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

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop function if exists trace_payments_up(text, text[], integer)`.execute(db);
  await sql`create index tranche_flows_child on tranche_flows (partition, child_kind, child_id)`.execute(db);
  await sql`drop index if exists tranche_flows_child_up`.execute(db);
  await sql`drop table if exists quarantined_events`.execute(db);
}
