import type { Database } from '@fundtrace/db';
import type { PoisonEventError, QuarantineOptions, RawStreamMessage } from '@fundtrace/eventlog';
import { audit, decodeEvent, entitySubject, leafHash, parseStreamName, streamName } from '@fundtrace/events';
import { JetStreamApiError, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { sql } from 'kysely';

/**
 * How often a projector held up by a poison event looks for an operator's quarantine. An operator
 * takes minutes to look at the error and decide; one request every few seconds costs nothing.
 */
export const quarantineRecheckMs = 5_000;

const noMessageFoundCode = 10037;
const streamNotFoundCode = 10059;

/** An operator's EventQuarantined that names exactly the poison message (stream, sequence, bytes). */
export interface QuarantineFound {
  readonly auditStream: string;
  readonly auditSeq: number;
  readonly reason: string;
  readonly by: string;
  readonly at: string;
  readonly leafHash: Uint8Array;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/**
 * Looks for the quarantine of `message` in the AUDIT stream of its partition, by subject
 * (`audit.<partition>.quarantine.<STREAM-seq>`, the latest one wins): one request to NATS, not a
 * read of the books, so it works whichever stream is held up (the AUDIT stream's own included).
 * A quarantine that names other bytes at that place is no quarantine of this message.
 */
export async function findQuarantine(
  nc: NatsConnection,
  ns: string,
  message: RawStreamMessage,
  onMismatch?: (detail: string) => void,
): Promise<QuarantineFound | undefined> {
  const ref = parseStreamName(message.stream);
  if (ref === null) return undefined;
  const logical = streamName(ref.context, ref.partition);
  const auditStream = streamName('audit', ref.partition, ns);
  const subject = entitySubject(
    {
      context: 'audit',
      partition: ref.partition,
      entity: 'quarantine',
      id: audit.quarantineIdOf(logical, message.seq),
    },
    ns,
  );
  const jsm = await jetstreamManager(nc);
  let stored: { seq: number; data: Uint8Array } | null;
  try {
    // This client answers "no such message" with null; older ones threw 10037.
    stored = await jsm.streams.getMessage(auditStream, { last_by_subj: subject });
    if (stored === null) return undefined;
  } catch (error) {
    if (
      error instanceof JetStreamApiError &&
      (error.code === noMessageFoundCode || error.code === streamNotFoundCode)
    )
      return undefined;
    throw error;
  }
  const event = decodeEvent(stored.data);
  if (event.type !== 'EventQuarantined') return undefined;
  const hash = leafHash(message.bytes);
  if (event.data.stream !== logical || event.data.seq !== message.seq || event.data.leafHash !== hex(hash)) {
    onMismatch?.(
      `the quarantine at ${auditStream} sequence ${stored.seq} names leaf hash ${event.data.leafHash}, ` +
        `the message at ${logical} sequence ${message.seq} has ${hex(hash)}`,
    );
    return undefined;
  }
  return {
    auditStream: streamName('audit', ref.partition),
    auditSeq: stored.seq,
    reason: event.data.reason,
    by: event.actor.userId,
    at: event.recordedAt,
    leafHash: hash,
  };
}

/** Records a quarantined poison message, raw bytes and all, in the batch's transaction. */
export async function recordQuarantined(
  trx: Parameters<QuarantineOptions<Database, QuarantineFound>['record']>[0],
  message: RawStreamMessage,
  error: PoisonEventError,
  found: QuarantineFound,
): Promise<void> {
  const ref = parseStreamName(message.stream)!;
  const prefix = ref.namespace === '' ? '' : `${ref.namespace}.`;
  await sql`
    insert into quarantined_events (stream, seq, partition, subject, claimed_type, leaf_hash, bytes, decode_error,
      reason, quarantine_stream, quarantine_seq, quarantined_by, quarantined_at)
    values (${streamName(ref.context, ref.partition)}, ${message.seq}, ${ref.partition},
      ${message.subject.startsWith(prefix) ? message.subject.slice(prefix.length) : message.subject},
      ${error.type ?? null}, ${Buffer.from(found.leafHash)}, ${Buffer.from(message.bytes)},
      ${error.cause instanceof Error ? error.cause.message : String(error.cause)}, ${found.reason},
      ${found.auditStream}, ${found.auditSeq}, ${found.by}, ${found.at})`.execute(trx);
}
