import type { Database } from '@fundtrace/db';
import { ioSliceEvents, yieldToIo } from '@fundtrace/eventlog';
import { type AnyEvent, leafHash, parseStreamName, type StreamRef, streamName } from '@fundtrace/events';
import type { Kysely, Transaction } from 'kysely';
import { applyAudit, isAuditEvent, prefetchAudit } from './audit';
import { Batch, type CompiledWrites } from './batch';
import { businessDate } from './dates';
import { ProjectionInvariantError } from './invariant';
import { applyLedger, isLedgerEvent, prefetchLedger } from './ledger';
import { applyRegistry, isRegistryEvent, prefetchRegistry } from './registry';
import { type ProjectionStates, StreamState } from './state';

/** What the projector needs of a stored event: where it is, its exact bytes, and it decoded. */
export interface StoredEvent {
  /** Stream name as stored, possibly with a namespace prefix (tests, benchmarks). */
  readonly stream: string;
  readonly seq: number;
  readonly subject: string;
  readonly bytes: Uint8Array;
  readonly event: AnyEvent;
  /**
   * The payload as the bytes hold it, when the decoder kept it (eventlog's
   * `decodeStreamMessageWithData`); otherwise `events.data` parses the bytes again.
   */
  readonly wireData?: unknown;
}

/** Top-level payload keys that name another entity, and the kind of entity they name. */
const referenceKeys: Readonly<Record<string, string>> = {
  householdId: 'household',
  projectId: 'project',
  allocationId: 'allocation',
  paymentId: 'payment',
  rosterId: 'roster',
  noticeId: 'notice',
  objectionId: 'objection',
  acceptanceId: 'acceptance',
  earmarkId: 'earmark',
  disbursementId: 'disbursement',
  integrationId: 'integration',
  receiptId: 'receipt',
  planId: 'plan',
  findingId: 'finding',
  reversalId: 'reversal',
  accountId: 'account',
  fromAccountId: 'account',
  toAccountId: 'account',
};

/**
 * The payload as stored in `events.data`: the wire form minus every encrypted field (`…Enc`).
 * Projections never hold ciphertext (ARCHITECTURE: hashes and masks only); the full bytes stay in
 * the log, and `leaf_hash` lets anyone check a row against them. Copies only what holds an
 * encrypted field (most payloads hold none): the value is read, never changed.
 */
export function withoutCiphertext(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let index = 0; index < value.length; index++) {
      const item = withoutCiphertext(value[index]);
      if (item !== value[index]) {
        copy ??= value.slice();
        copy[index] = item;
      }
    }
    return copy ?? value;
  }
  const record = value as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const key in record) {
    if (key.endsWith('Enc')) {
      copy ??= { ...record };
      delete copy[key];
      continue;
    }
    const item = withoutCiphertext(record[key]);
    if (item !== record[key]) {
      copy ??= { ...record };
      copy[key] = item;
    }
  }
  return copy ?? value;
}

const textDecoder = new TextDecoder();

export interface BatchResult {
  readonly partition: string;
  readonly stream: string;
  readonly applied: number;
}

/**
 * Applies a batch of one stream's events, in sequence order, inside `trx` (the caller commits it
 * together with the checkpoint). Throws `ProjectionInvariantError` naming the event when the log
 * breaks an invariant; nothing of the batch is then written.
 *
 * With `states`, the rows earlier batches of the stream read or wrote are kept in memory for the
 * next batch (see StreamState); without, every batch loads what it reads. Both write the same.
 */
export async function projectBatch(
  trx: Transaction<Database>,
  stored: readonly StoredEvent[],
  states?: ProjectionStates,
): Promise<BatchResult> {
  const ref = refOf(stored);
  if (states === undefined) return applyBatch(trx, stored, ref, new StreamState(ref.partition, false));
  const state = states.take(stored[0]!.stream, ref.partition, stored[0]!.seq);
  try {
    const result = await applyBatch(trx, stored, ref, state);
    state.applied(stored[stored.length - 1]!.seq);
    return result;
  } catch (error) {
    // Half applied: its rows are neither the books' before nor after the batch.
    states.drop(stored[0]!.stream, state);
    throw error;
  }
}

/**
 * A batch applied in memory ahead of its transaction (`prepareBatch`): what is left is to write
 * its rows (`writePrepared`), or to forget it (`discardPrepared`).
 */
export interface PreparedBatch {
  readonly stream: string;
  readonly state: StreamState;
  readonly batch: Batch;
  readonly writes: CompiledWrites;
  readonly result: BatchResult;
}

/**
 * Applies a batch in memory, outside any transaction, while the batch before it of the same
 * stream may still be writing and committing (decision 0136). Only on the state that batch left
 * (`ProjectionStates.follow`): every row the stream's uncommitted batches wrote is in it, so a
 * row it does not hold is read from `reader` as committed, and no batch of another stream
 * writes the rows a stream reads (see StreamState). `undefined` when there is no such state;
 * then the batch is applied in its transaction (`projectBatch`). An invariant that breaks
 * throws, as `projectBatch` would, and the state is dropped.
 */
export async function prepareBatch(
  reader: Kysely<Database>,
  stored: readonly StoredEvent[],
  states: ProjectionStates,
): Promise<PreparedBatch | undefined> {
  const ref = refOf(stored);
  const stream = stored[0]!.stream;
  const state = states.follow(stream, stored[0]!.seq);
  if (state === undefined) return undefined;
  try {
    checkBatch(stored, ref);
    const { logicalStream, subjectPrefix } = namesOf(ref);
    // One piece: its writes are sent at once when its transaction starts (see writePrepared).
    const batch = new Batch(state);
    await applyChunk(reader, batch, stored, ref, logicalStream, subjectPrefix);
    const writes = await batch.compile(reader, batch.takeWrites());
    state.applied(stored[stored.length - 1]!.seq);
    return {
      stream,
      state,
      batch,
      writes,
      result: { partition: ref.partition, stream: logicalStream, applied: stored.length },
    };
  } catch (error) {
    states.drop(stream, state);
    throw error;
  }
}

/**
 * Writes a prepared batch inside `trx` (the caller commits it with the checkpoint). `sent` is
 * called once its statements are queued on the connection: the write runs on microtasks up to
 * there, so a macrotask later they are (unless a rare batch first waits for an answer: issued
 * allocations, replaced plan lines, or the COPY path's connection lookup; then a little later).
 */
export async function writePrepared(
  trx: Transaction<Database>,
  prepared: PreparedBatch,
  states: ProjectionStates,
  sent: () => void,
): Promise<BatchResult> {
  try {
    const writing = prepared.batch.send(trx, prepared.writes);
    writing.catch(() => undefined);
    await yieldToIo();
    sent();
    await writing;
  } catch (error) {
    states.drop(prepared.stream, prepared.state);
    throw error;
  }
  return prepared.result;
}

/** Forgets a prepared batch that will not be written: the state it was applied to goes with it. */
export function discardPrepared(prepared: PreparedBatch, states: ProjectionStates): void {
  states.drop(prepared.stream, prepared.state);
}

function refOf(stored: readonly StoredEvent[]): StreamRef {
  if (stored.length === 0) throw new RangeError('a batch needs at least one event');
  const ref = parseStreamName(stored[0]!.stream);
  if (ref === null) throw new RangeError(`${stored[0]!.stream} is not a fundtrace stream name`);
  return ref;
}

function namesOf(ref: StreamRef): { logicalStream: string; subjectPrefix: string } {
  return {
    logicalStream: streamName(ref.context, ref.partition),
    subjectPrefix: ref.namespace === '' ? '' : `${ref.namespace}.`,
  };
}

/** One stream, contiguous sequences, every event of the stream's partition and context. */
function checkBatch(stored: readonly StoredEvent[], ref: StreamRef): void {
  const { logicalStream } = namesOf(ref);
  for (let index = 0; index < stored.length; index++) {
    const item = stored[index]!;
    const position = { stream: logicalStream, seq: item.seq, type: item.event.type };
    if (item.stream !== stored[0]!.stream)
      throw new RangeError(`a batch mixes streams ${stored[0]!.stream} and ${item.stream}`);
    if (index > 0 && item.seq !== stored[index - 1]!.seq + 1) {
      throw new RangeError(
        `batch sequences jump from ${stored[index - 1]!.seq} to ${item.seq} in ${item.stream}`,
      );
    }
    if (item.event.partition !== ref.partition) {
      throw new ProjectionInvariantError(
        position,
        'entity_unknown',
        `an event of partition ${item.event.partition} is in the stream of ${ref.partition}`,
      );
    }
    const context = isLedgerEvent(item.event) ? 'ledger' : isRegistryEvent(item.event) ? 'registry' : 'audit';
    if (context !== ref.context) {
      throw new ProjectionInvariantError(
        position,
        'entity_unknown',
        `a ${context} event is in the ${ref.context} stream`,
      );
    }
  }
}

async function applyBatch(
  trx: Transaction<Database>,
  stored: readonly StoredEvent[],
  ref: StreamRef,
  state: StreamState,
): Promise<BatchResult> {
  const { logicalStream, subjectPrefix } = namesOf(ref);
  checkBatch(stored, ref);

  // Pipelined in chunks: while PostgreSQL writes one chunk, the next is applied in memory. Each
  // chunk's statements start after the previous chunk's ended, so they run in event order.
  let written: Promise<void> = Promise.resolve();
  const chunk = chunkEvents(stored.length);
  try {
    for (let start = 0; start < stored.length; start += chunk) {
      const batch = new Batch(state);
      await applyChunk(trx, batch, stored.slice(start, start + chunk), ref, logicalStream, subjectPrefix);
      const writes = batch.takeWrites();
      written = written.then(() => batch.write(trx, writes));
      // Handled below (`await written`); without a handler now, a write failing while the next
      // chunk is applied (PostgreSQL restarted mid-batch) is an unhandled rejection that kills
      // the process instead of failing the batch, which the runner rolls back and retries.
      written.catch(() => undefined);
      // Let the write reach the connection before the next chunk takes the CPU.
      await yieldToIo();
    }
  } catch (error) {
    // Nothing of the batch may be left running when the caller rolls back.
    await written.catch(() => undefined);
    throw error;
  }
  await written;
  return { partition: ref.partition, stream: logicalStream, applied: stored.length };
}

/**
 * Events per chunk of a batch: a quarter of it, so three of four chunks are applied while the one
 * before is written, but at least `chunkEventsMin`, below which a statement's fixed cost (one
 * round trip, planning) outweighs what the overlap saves.
 */
const chunkEventsMin = 100;
function chunkEvents(events: number): number {
  return Math.max(chunkEventsMin, Math.ceil(events / 4));
}

/** Applies a chunk of a batch's events to `batch` in memory: its rows are loaded first (or known). */
async function applyChunk(
  reader: Kysely<Database>,
  batch: Batch,
  stored: readonly StoredEvent[],
  ref: StreamRef,
  logicalStream: string,
  subjectPrefix: string,
): Promise<void> {
  const events = stored.map((item) => item.event);
  await prefetchLedger(reader, batch, events.filter(isLedgerEvent));
  await prefetchRegistry(reader, batch, events.filter(isRegistryEvent));
  await prefetchAudit(reader, batch, events.filter(isAuditEvent));

  for (let index = 0; index < stored.length; index++) {
    // A prepared batch is applied while the batch before it streams its writes (see yieldToIo).
    if (index > 0 && index % ioSliceEvents === 0) await yieldToIo();
    const item = stored[index]!;
    const event = item.event;
    const seqBig = BigInt(item.seq);
    const occurredOn = businessDate(event.occurredAt);
    batch.begin({
      stream: logicalStream,
      seq: item.seq,
      type: event.type,
      partition: ref.partition,
      occurredOn,
      seqBig,
    });
    if (isLedgerEvent(event)) applyLedger(batch, event);
    else if (isRegistryEvent(event)) applyRegistry(batch, event);
    else if (isAuditEvent(event)) applyAudit(batch, event);
    else
      throw new ProjectionInvariantError(
        batch.at,
        'entity_unknown',
        `no read model knows ${(event as AnyEvent).type}`,
      );
    batch.end();

    const subject = item.subject.startsWith(subjectPrefix)
      ? item.subject.slice(subjectPrefix.length)
      : item.subject;
    const [, , entity = '', entityId = ''] = subject.split('.');
    const wireData = item.wireData ?? (JSON.parse(textDecoder.decode(item.bytes)) as { data: unknown }).data;
    batch.append('events', {
      stream: logicalStream,
      seq: seqBig,
      partition: ref.partition,
      context: ref.context,
      subject,
      event_id: event.id,
      type: event.type,
      version: event.version,
      entity,
      entity_id: entityId,
      occurred_at: event.occurredAt,
      occurred_on: occurredOn,
      recorded_at: event.recordedAt,
      actor_user_id: event.actor.userId,
      actor_role: event.actor.role,
      actor_org: event.actor.org,
      command_id: event.commandId,
      correlation_id: event.correlationId,
      causation_id: event.causationId ?? null,
      data: JSON.stringify(withoutCiphertext(wireData)),
      leaf_hash: Buffer.from(leafHash(item.bytes)),
    });
    const refs = new Set<string>([`${entity}\u0000${entityId}`]);
    const data = event.data as Record<string, unknown>;
    for (const [key, kind] of Object.entries(referenceKeys)) {
      const value = data[key];
      if (typeof value === 'string') refs.add(`${kind}\u0000${value}`);
    }
    if (event.type === 'MovementReversed')
      refs.add(`${event.data.movementKind}\u0000${event.data.movementId}`);
    // A settlement, return or reversal names only the payment; its household's trail includes it too.
    const paymentId =
      event.type === 'PaymentSettled' || event.type === 'PaymentReturned'
        ? event.data.paymentId
        : event.type === 'MovementReversed' && event.data.movementKind === 'payment'
          ? event.data.movementId
          : undefined;
    if (paymentId !== undefined)
      refs.add(`household\u0000${batch.stores.payments.get(paymentId)!.household_id}`);
    if (event.type === 'AllocationReceived' && event.data.origin.kind === 'partition') {
      refs.add(`allocation\u0000${event.data.origin.allocationId}`);
    }
    if (event.type === 'FindingRaised' || event.type === 'FindingTraced') {
      for (const subjectRef of event.data.subjects) refs.add(`${subjectRef.entity}\u0000${subjectRef.id}`);
    }
    for (const refKey of [...refs].sort()) {
      const [refKind, refId] = refKey.split('\u0000') as [string, string];
      batch.append('event_refs', {
        partition: ref.partition,
        ref_kind: refKind,
        ref_id: refId,
        recorded_at: event.recordedAt,
        stream: logicalStream,
        seq: seqBig,
      });
    }
  }
}
