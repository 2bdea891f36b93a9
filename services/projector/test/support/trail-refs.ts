import type { Database } from '@fundtrace/db';
import { type Kysely, sql } from 'kysely';

/**
 * Adds `count` receipts into `account` of `partition` to the books as a bulk loader writes them:
 * `events` rows after the tail of the partition's LEDGER stream, and three refs each (the account,
 * the receipt, and one of 997 payments, so the account's refs sit among others in the key).
 * Recording times are scattered against the sequence, two events to a second: what a trail page
 * must order by. For plans and buffer counts of the trail (test and bench), not for the money:
 * nothing but `events` and `event_refs` is written.
 */
export async function addAccountEvents(
  db: Kysely<Database>,
  options: { readonly partition: string; readonly account: string; readonly count: number },
): Promise<void> {
  const { partition, account, count } = options;
  const stream = `LEDGER_${partition}`;
  await sql`
    with tail as (select coalesce(max(seq), 0) as seq from events where stream = ${stream}),
    added as (
      insert into events (stream, seq, partition, context, subject, event_id, type, version, entity,
        entity_id, occurred_at, occurred_on, recorded_at, actor_user_id, actor_role, actor_org,
        command_id, correlation_id, causation_id, data, leaf_hash)
      select ${stream}, s.seq, ${partition}, 'ledger', 'ledger.' || ${partition} || '.receipt.g' || s.seq,
        md5(${stream} || s.seq), 'AllocationReceived', 1, 'receipt', 'g' || s.seq,
        timestamptz '2019-03-14 00:00:00+00', date '2019-03-14',
        timestamptz '2019-03-14 00:00:00+00' + ((s.seq * 7919) % greatest(${count}::bigint / 2, 1)) * interval '1 second',
        'clerk-01', 'finance', '内乡县财政局', 'g' || s.seq, 'g' || s.seq, null,
        jsonb_build_object('receiptId', 'g' || s.seq, 'accountId', ${account}::text, 'amountFen', '100000'),
        sha256(convert_to(${stream} || s.seq, 'UTF8'))
      from tail, generate_series(tail.seq + 1, tail.seq + ${count}::bigint) s(seq)
      returning seq, recorded_at
    )
    insert into event_refs (partition, ref_kind, ref_id, recorded_at, stream, seq)
    select ${partition}, k.kind,
      case k.kind when 'account' then ${account}::text when 'receipt' then 'g' || a.seq
        else 'noise-' || (a.seq % 997) end,
      a.recorded_at, ${stream}, a.seq
    from added a, (values ('account'), ('receipt'), ('payment')) k(kind)`.execute(db);
}
