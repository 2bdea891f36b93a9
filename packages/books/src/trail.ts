import type { Database } from '@fundtrace/db';
import { type Kysely, sql } from 'kysely';

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
  /** Continue after this position (from the last event of the previous page). */
  readonly after?: { readonly stream: string; readonly seq: bigint };
}

/**
 * The trail of an entity: every event that names it (as its subject or in its payload), in the
 * order of the log within each stream, with who recorded it and its leaf hash.
 */
export async function entityTrail(db: Kysely<Database>, query: TrailQuery): Promise<TrailEvent[]> {
  const limit = query.limit ?? trailPageMax;
  if (!Number.isInteger(limit) || limit < 1 || limit > trailPageMax) {
    throw new RangeError(`limit must be an integer in [1, ${trailPageMax}], got ${limit}`);
  }
  const after = query.after;
  const { rows } = await sql<{
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
  }>`
    select e.stream, e.seq, e.partition, e.subject, e.event_id, e.type, e.version, e.occurred_at, e.recorded_at,
           e.actor_user_id, e.actor_role, e.actor_org, e.command_id, e.correlation_id, e.data, e.leaf_hash
    from event_refs r
    join events e on e.stream = r.stream and e.seq = r.seq
    where r.partition = ${query.partition} and r.ref_kind = ${query.kind} and r.ref_id = ${query.id}
      ${after === undefined ? sql`` : sql`and (r.stream, r.seq) > (${after.stream}, ${after.seq})`}
    order by r.stream, r.seq
    limit ${limit}`.execute(db);
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
