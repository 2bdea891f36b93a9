import type { Database } from '@fundtrace/db';
import { type Kysely, sql } from 'kysely';
import { lineageDepthMax } from './trace-up';

/** Examples reported per failed check: enough to start an investigation, short enough to read. */
export const checkExamplesMax = 20;

export interface CheckResult {
  readonly name: string;
  /** What the check asserts, in one line. */
  readonly rule: string;
  readonly violations: number;
  /** Up to {@link checkExamplesMax} offending rows, as text. */
  readonly examples: readonly string[];
}

interface Check {
  readonly name: string;
  readonly rule: string;
  /** Returns one text row per violation. */
  readonly query: ReturnType<typeof sql<{ example: string }>>;
}

const checks: readonly Check[] = [
  {
    name: 'entries_balance',
    rule: 'every event: Σ debit entries = Σ credit entries',
    query: sql`select partition || ' #' || seq || ': debits − credits = ' || sum(case when side = 'debit' then amount_fen else -amount_fen end) as example
      from entries group by partition, seq
      having sum(case when side = 'debit' then amount_fen else -amount_fen end) <> 0`,
  },
  {
    name: 'no_negative_balance',
    rule: 'no account below zero (the nominal sources @external and @received excepted)',
    query: sql`select partition || '/' || account_id || ' = ' || balance_fen as example from balances
      where balance_fen < 0 and account_id not in ('@external', '@received')`,
  },
  {
    name: 'balances_equal_entries',
    rule: 'every balance equals the sum of its account entries',
    query: sql`select b.partition || '/' || b.account_id || ': balance ' || b.balance_fen || ', entries ' || coalesce(e.net, 0) as example
      from balances b
      left join (select partition, account_id, sum(case when side = 'debit' then amount_fen else -amount_fen end) as net
                 from entries group by partition, account_id) e on e.partition = b.partition and e.account_id = b.account_id
      where b.balance_fen <> coalesce(e.net, 0)`,
  },
  {
    name: 'tranches_equal_entries',
    rule: "every tranche's remainder equals its entries and lies within 0 … amount",
    query: sql`select t.partition || '/' || t.tranche_id || ': remaining ' || t.remaining_fen || ' of ' || t.amount_fen || ', entries ' || coalesce(e.net, 0) as example
      from tranches t
      left join (select partition, tranche_id, sum(case when side = 'debit' then amount_fen else -amount_fen end) as net
                 from entries where tranche_id is not null group by partition, tranche_id) e
        on e.partition = t.partition and e.tranche_id = t.tranche_id
      where t.remaining_fen <> coalesce(e.net, 0) or t.remaining_fen < 0 or t.remaining_fen > t.amount_fen`,
  },
  {
    name: 'flows_within_tranche',
    rule: 'Σ flows out of a tranche, net of money given back to it, ≤ its amount',
    query: sql`select t.partition || '/' || t.tranche_id || ': out ' || o.out_fen || ', back ' || coalesce(b.back_fen, 0) || ', amount ' || t.amount_fen as example
      from tranches t
      join (select parent_partition, parent_tranche_id, sum(amount_fen) as out_fen from tranche_flows
            -- a cross-partition edge into a received tranche is the same money as the allocation edge
            where child_kind <> 'tranche' or partition = parent_partition
            group by parent_partition, parent_tranche_id) o
        on o.parent_partition = t.partition and o.parent_tranche_id = t.tranche_id
      left join (select partition, tranche_id, sum(amount_fen) as back_fen from entries
                 where side = 'debit' and tranche_id is not null and movement_kind in ('payment', 'reversal')
                 group by partition, tranche_id) b on b.partition = t.partition and b.tranche_id = t.tranche_id
      where o.out_fen - coalesce(b.back_fen, 0) > t.amount_fen`,
  },
  {
    name: 'payments_rooted',
    rule: "every payment's lineage reaches a root allocation along every path",
    query: sql`with recursive up (payment_partition, payment_id, partition, tranche_id, depth) as (
        select f.partition, f.child_id, f.parent_partition, f.parent_tranche_id, 1
        from tranche_flows f where f.child_kind = 'payment'
        union all
        select up.payment_partition, up.payment_id, f.parent_partition, f.parent_tranche_id, up.depth + 1
        from up join tranche_flows f on f.partition = up.partition and f.child_kind = 'tranche' and f.child_id = up.tranche_id
        where up.depth < ${lineageDepthMax}
      )
      select distinct up.payment_partition || '/' || up.payment_id || ' ends at ' || up.partition || '/' || up.tranche_id
             || case when t.tranche_id is null then ' (not in the books)' else ' (not a root)' end as example
      from up
      left join tranches t on t.partition = up.partition and t.tranche_id = up.tranche_id
      where (t.tranche_id is null or not t.is_root)
        and not exists (select 1 from tranche_flows f where f.partition = up.partition and f.child_kind = 'tranche' and f.child_id = up.tranche_id)`,
  },
  {
    name: 'allocations_received_within_issued',
    rule: 'an allocation is received at most in the amount issued, and only after being issued',
    query: sql`select from_partition || '/' || allocation_id || ': issued ' || coalesce(issued_fen::text, 'never') || ', received ' || received_fen as example
      from allocations where issued_fen is null or received_fen > issued_fen or received_fen < 0`,
  },
];

/**
 * Checks the invariants the projector asserts as it goes, over the whole database at once:
 * what `fundtrace check` runs. A failure means the books and the log disagree somewhere (a bug,
 * a manual edit, a partition whose issuing side is not projected here).
 */
export async function checkBooks(db: Kysely<Database>): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const check of checks) {
    const { rows } = await sql<{
      example: string;
    }>`select example from (${check.query}) c order by example`.execute(db);
    results.push({
      name: check.name,
      rule: check.rule,
      violations: rows.length,
      examples: rows.slice(0, checkExamplesMax).map((row) => row.example),
    });
  }
  return results;
}

/** Quarantined poison events listed at most by `quarantinedEvents`; more is a story by itself. */
export const quarantinedListMax = 1_000;

/** A poison event an operator quarantined, as the projector recorded it (raw bytes kept). */
export interface QuarantinedEvent {
  readonly stream: string;
  readonly seq: number;
  readonly subject: string;
  readonly claimedType: string | null;
  readonly leafHash: string;
  readonly bytes: number;
  readonly decodeError: string;
  readonly reason: string;
  /** The EventQuarantined that allowed it: stream and sequence. */
  readonly quarantine: string;
  readonly by: string;
  readonly at: string;
}

/**
 * The events the projector stepped over because an operator quarantined them (`fundtrace
 * quarantine`), oldest first: never a silent skip, so `fundtrace check` shows each one.
 */
export async function quarantinedEvents(db: Kysely<Database>): Promise<QuarantinedEvent[]> {
  const rows = await db
    .selectFrom('quarantined_events')
    .selectAll()
    .orderBy('quarantined_at')
    .orderBy('stream')
    .orderBy('seq')
    .limit(quarantinedListMax)
    .execute();
  return rows.map((row) => ({
    stream: row.stream,
    seq: Number(row.seq),
    subject: row.subject,
    claimedType: row.claimed_type,
    leafHash: row.leaf_hash.toString('hex'),
    bytes: row.bytes.length,
    decodeError: row.decode_error,
    reason: row.reason,
    quarantine: `${row.quarantine_stream} #${row.quarantine_seq}`,
    by: row.quarantined_by,
    at: row.quarantined_at.toISOString(),
  }));
}
