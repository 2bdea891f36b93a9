import type { Database } from '@fundtrace/db';
import { type Kysely, type RawBuilder, sql } from 'kysely';

/** Most events one trail page returns; a household's whole history fits, a busy pool account pages. */
export const trailPageMax = 1_000;

export interface TrailEvent {
  readonly stream: string;
  readonly seq: bigint;
  readonly partition: string;
  readonly subject: string;
  readonly eventId: string;
  readonly type: string;
  readonly version: number;
  readonly occurredAt: Date;
  readonly recordedAt: Date;
  readonly actor: { readonly userId: string; readonly role: string; readonly org: string };
  readonly commandId: string;
  readonly correlationId: string;
  /** Wire-form payload (money as strings of digits), without encrypted fields. */
  readonly data: unknown;
  /** RFC 6962 leaf hash, hex: what an inclusion proof from the log-keeper proves. */
  readonly leafHash: string;
}

export interface TrailQuery {
  readonly partition: string;
  /** Entity kind: household, payment, project, allocation, notice, finding, account … */
  readonly kind: string;
  readonly id: string;
  /** Page size, at most {@link trailPageMax}. */
  readonly limit?: number;
  /**
   * Continue after this event (the last of the previous page): the page holds the events that come
   * after it in the trail's order. An event the log does not hold continues nowhere (empty page).
   */
  readonly after?: { readonly stream: string; readonly seq: bigint };
}

/** One row of {@link entityTrailQuery}. */
export interface TrailRow {
  stream: string;
  seq: bigint;
  partition: string;
  subject: string;
  event_id: string;
  type: string;
  version: number;
  occurred_at: Date;
  recorded_at: Date;
  actor_user_id: string;
  actor_role: string;
  actor_org: string;
  command_id: string;
  correlation_id: string;
  data: unknown;
  leaf_hash: Buffer;
}

/**
 * The statement behind {@link entityTrail} (exported so its plan can be read: EXPLAIN in tests and
 * benchmarks). The cursor stays (stream, seq) of the last event of the previous page; its recorded
 * time comes from `events` by that table's key, one probe.
 */
export function entityTrailQuery(query: TrailQuery): RawBuilder<TrailRow> {
  const limit = query.limit ?? trailPageMax;
  if (!Number.isInteger(limit) || limit < 1 || limit > trailPageMax) {
    throw new RangeError(`limit must be an integer in [1, ${trailPageMax}], got ${limit}`);
  }
  const after = query.after;
  return sql<TrailRow>`
    select e.stream, e.seq, e.partition, e.subject, e.event_id, e.type, e.version, e.occurred_at, e.recorded_at,
           e.actor_user_id, e.actor_role, e.actor_org, e.command_id, e.correlation_id, e.data, e.leaf_hash
    from event_refs r
    join events e on e.stream = r.stream and e.seq = r.seq
    where r.partition = ${query.partition} and r.ref_kind = ${query.kind} and r.ref_id = ${query.id}
      ${
        after === undefined
          ? sql``
          : sql`and (r.recorded_at, r.stream, r.seq) > (
              select a.recorded_at, a.stream, a.seq from events a
              where a.stream = ${after.stream} and a.seq = ${after.seq})`
      }
    order by r.recorded_at, r.stream, r.seq
    limit ${limit}`;
}

/**
 * The trail of an entity: every event that names it (as its subject or in its payload), with who
 * recorded it and its leaf hash, in one chronological order across streams: recorded time, then
 * stream and sequence. A household's trail spans REGISTRY and LEDGER, and an inspector reads it as
 * one story (registered, account bound, listed, paid, returned); ordered by stream, every registry
 * event came after every ledger one. Recorded time, not the business date (`occurredAt`), because
 * a 补发 back-dates its business date and the trail shows when the books learned of a fact; the
 * stream and sequence break ties, so the order is total and a page boundary is stable.
 * Recorded time does not follow the sequence everywhere (imported legacy books carry their own), so
 * event_refs holds each event's `recorded_at` in its key, (partition, ref_kind, ref_id, recorded_at,
 * stream, seq) (migration 0012, decision 0110): a page is one range of that key, read from the
 * cursor on, whatever the number of events naming the entity. Sorting every reference on each read
 * instead cost a page of a pool account with 200,000 refs ~17,100 buffers (≈ 300 ms) against 21.
 */
export async function entityTrail(db: Kysely<Database>, query: TrailQuery): Promise<TrailEvent[]> {
  const { rows } = await entityTrailQuery(query).execute(db);
  return rows.map((row) => ({
    stream: row.stream,
    seq: row.seq,
    partition: row.partition,
    subject: row.subject,
    eventId: row.event_id,
    type: row.type,
    version: row.version,
    occurredAt: row.occurred_at,
    recordedAt: row.recorded_at,
    actor: { userId: row.actor_user_id, role: row.actor_role, org: row.actor_org },
    commandId: row.command_id,
    correlationId: row.correlation_id,
    data: row.data,
    leafHash: row.leaf_hash.toString('hex'),
  }));
}
