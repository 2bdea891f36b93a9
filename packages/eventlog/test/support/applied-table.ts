import { type Kysely, sql, type Transaction } from 'kysely';
import type { StreamEvent } from '../../src';

/**
 * A stand-in read model for the runner tests: one row per applied event, with no
 * unique key on purpose, so an event applied twice shows up as two rows instead
 * of being hidden by a constraint.
 */
export async function createAppliedTable<DB>(db: Kysely<DB>): Promise<void> {
  await sql`create table if not exists applied (consumer text not null, seq bigint not null, type text not null)`.execute(
    db,
  );
}

export function recordApplied<DB>(consumer: string) {
  return async (trx: Transaction<DB>, events: readonly StreamEvent[]): Promise<void> => {
    for (const e of events) {
      await sql`insert into applied (consumer, seq, type) values (${consumer}, ${e.seq}, ${e.event.type})`.execute(
        trx,
      );
    }
  };
}

export interface AppliedCounts {
  readonly rows: number;
  readonly distinct: number;
  readonly maxSeq: number;
}

export async function appliedCounts<DB>(db: Kysely<DB>, consumer: string): Promise<AppliedCounts> {
  const { rows } = await sql<{ rows: string; distinct: string; max_seq: string | null }>`
    select count(*)::text as rows, count(distinct seq)::text as distinct, max(seq)::text as max_seq
    from applied where consumer = ${consumer}`.execute(db);
  const row = rows[0]!;
  return { rows: Number(row.rows), distinct: Number(row.distinct), maxSeq: Number(row.max_seq ?? 0) };
}

export async function checkpointOf<DB>(db: Kysely<DB>, consumer: string, stream: string): Promise<number> {
  const { rows } = await sql<{ last_seq: string }>`
    select last_seq::text as last_seq from projection_checkpoints where consumer = ${consumer} and stream = ${stream}`.execute(
    db,
  );
  return rows[0] === undefined ? 0 : Number(rows[0].last_seq);
}
