import { randomUUID } from 'node:crypto';
import {
  AckPolicy,
  type Consumer,
  type ConsumerConfig,
  DeliverPolicy,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  jetstream,
} from '@nats-io/jetstream';
import { millis, type NatsConnection, nanos } from '@nats-io/nats-core';
import { type Kysely, sql, type Transaction } from 'kysely';
import { deferred } from './deferred';
import {
  describe,
  EventlogError,
  EventlogInvariantError,
  PoisonEventError,
  SequenceGapError,
  StreamMissingError,
} from './errors';
import {
  gapRecheckMax,
  projectionAckWaitMs,
  projectionBatchesInFlight,
  projectionBatchMessagesMax,
  projectionMaxWaitMsMin,
  projectionPreparedBatchesInFlight,
  retryBackoffMaxMs,
  retryBackoffMinMs,
} from './limits';
import { type Logger, silentLogger } from './log';
import { decodeStreamMessage, type RawStreamMessage, type StreamEvent } from './read';
import { lastSequence } from './streams';
import { ioSliceEvents, yieldToIo } from './yield';

/** Default events per batch (one PostgreSQL transaction): large enough to amortise the commit. */
export const projectionBatchSizeDefault = 100;
/**
 * Default wait of an idle pull for new events. It also bounds how long `stop()` takes
 * on an idle projection, since a pull in flight is allowed to finish (see `stop`).
 */
export const projectionMaxWaitMsDefault = 2_000;

const streamNotFoundCode = 10059;
const consumerNotFoundCode = 10014;
const noMessageFoundCode = 10037;

/** The handler of a projection failed on a batch; it names the sequences it was given. */
export class ProjectionHandlerError extends EventlogError {
  override name = 'ProjectionHandlerError';
  readonly stream: string;
  readonly firstSeq: number;
  readonly lastSeq: number;

  constructor(stream: string, firstSeq: number, lastSeq: number, cause: unknown) {
    super(`projection handler failed on ${stream} sequences ${firstSeq}..${lastSeq}: ${describe(cause)}`, {
      cause,
    });
    this.stream = stream;
    this.firstSeq = firstSeq;
    this.lastSeq = lastSeq;
  }
}

/** The durable consumer exists with settings a runner cannot change (e.g. another ack policy). */
export class ConsumerConfigMismatchError extends EventlogError {
  override name = 'ConsumerConfigMismatchError';
}

/** The NATS connection was closed for good: a runner cannot continue without one. */
export class ConnectionClosedError extends EventlogError {
  override name = 'ConnectionClosedError';
}

/** A poison event holds the runner up until an operator quarantines it (`quarantine` given). */
class PoisonHeld extends Error {
  constructor(readonly poison: PoisonEventError) {
    super(poison.message);
  }
}

/** A batch skipped a sequence the stream does hold: a redelivery out of order, retried. */
class ApparentGap extends Error {
  constructor(
    readonly missingSeq: number,
    readonly receivedSeq: number,
  ) {
    super(`sequence ${missingSeq} not delivered before ${receivedSeq}`);
  }
}

export interface ProjectionLag {
  readonly stream: string;
  readonly consumer: string;
  /** The stream's last sequence now. */
  readonly lastStreamSeq: number;
  /** The last sequence applied and committed (0 when nothing was). */
  readonly checkpoint: number;
  /** Events in the stream not yet applied. */
  readonly lag: number;
}

/**
 * `blocked`: held up by a poison event until an operator quarantines it (see `quarantine`).
 * `standby`: another instance holds the stream's lease (a runner with `prepare`), this one waits.
 */
export type ProjectionState =
  | 'starting'
  | 'running'
  | 'standby'
  | 'retrying'
  | 'blocked'
  | 'stopping'
  | 'stopped'
  | 'failed';

export interface ProjectionStatus {
  readonly state: ProjectionState;
  /** Last checkpoint this runner committed or read; undefined before the first batch. */
  readonly checkpoint: number | undefined;
  /** The error behind `retrying` or `failed`, as text (never a payload). */
  readonly lastError: string | undefined;
}

export interface CommittedBatch {
  readonly stream: string;
  readonly firstSeq: number;
  readonly lastSeq: number;
  /** Events handed to the handler (events at or below the old checkpoint are not). */
  readonly applied: number;
}

/**
 * An operator's decision to step over a message that cannot be decoded (see `quarantine` of
 * {@link RunProjectionOptions}). What it holds is the caller's; the runner only passes it on.
 */
export interface QuarantineOptions<DB, Q> {
  /**
   * Looks for an operator's quarantine of exactly this message (its stream, sequence and bytes).
   * Called outside any transaction; `undefined` means none yet, and the runner waits.
   */
  find(message: RawStreamMessage, error: PoisonEventError): Promise<Q | undefined>;
  /**
   * Records the quarantined message in the batch's transaction, after the events before it were
   * applied and before the checkpoint moves past it. It must use `trx` only.
   */
  record(
    trx: Transaction<DB>,
    message: RawStreamMessage,
    error: PoisonEventError,
    quarantine: Q,
  ): Promise<void>;
  /** How often a runner held up by a poison event looks for a quarantine again. */
  readonly recheckMs: number;
}

/**
 * A projection whose batches split into work done in memory and writes (see `prepare` of
 * {@link RunProjectionOptions}). What `P` holds is the caller's; the runner passes it on.
 */
export interface PrepareOptions<DB, M, P> {
  /**
   * Does the part of a batch that needs no transaction (applying it in memory), while the batch
   * before it is still being written and committed: its events follow that batch's, which has
   * not committed yet. It may read rows that batch did not write through a connection of its
   * own, never through a transaction. `undefined` (or an error) means it could not: the handler
   * then does the whole batch in its transaction, where an error is reported with the batch.
   */
  run(events: readonly M[]): Promise<P | undefined>;
  /**
   * Writes what `run` prepared of exactly these events, after exactly the checkpoint it
   * followed, inside the batch's transaction (instead of `handler`). It calls `sent` once its
   * statements are on their way: the runner then decodes and prepares the next batch while
   * PostgreSQL works.
   */
  write(trx: Transaction<DB>, prepared: P, sent: () => void): Promise<void>;
  /** Drops prepared work that will not be written: the batch before it failed, or the runner stops. */
  discard(prepared: P): void;
}

export interface RunProjectionOptions<DB, M extends RawStreamMessage = StreamEvent, Q = unknown, P = never> {
  readonly nc: NatsConnection;
  /** kysely over the read-model schema that holds `projection_checkpoints`. */
  readonly db: Kysely<DB>;
  readonly stream: string;
  /** Durable consumer name, and the checkpoint's `consumer` key. */
  readonly durable: string;
  readonly batchSize?: number;
  readonly maxWaitMs?: number;
  /** Redelivery delay of an unacked batch (default `projectionAckWaitMs`); fault tests shorten it. */
  readonly ackWaitMs?: number;
  /**
   * Turns a stored message into what the handler gets; throws `PoisonEventError` for one that
   * cannot be turned. Default: decode the event (`decodeStreamMessage`). A projection of bytes
   * (the Merkle log) passes the raw message on, so no event can stop it.
   */
  readonly decode?: (message: RawStreamMessage) => M;
  /**
   * Without it a poison event stops the runner (`done` rejects with `PoisonEventError`). With it
   * the runner applies what came before, then waits (state `blocked`, the error in `lastError`)
   * until `find` returns an operator's quarantine of that message; it then records it with the
   * checkpoint and goes on.
   */
  readonly quarantine?: QuarantineOptions<DB, Q>;
  /**
   * Applies events, in sequence order, strictly after the checkpoint and without
   * holes, inside the transaction that then writes the checkpoint. It must use `trx`
   * for every write and must not commit or open its own transaction. A batch `prepare`
   * prepared is written by `prepare.write` instead.
   */
  readonly handler: (trx: Transaction<DB>, events: readonly M[]) => Promise<void>;
  /**
   * Two-stage batches: the next batch is delivered, decoded and prepared in memory while the
   * current one is written and committed, so the process and PostgreSQL work at the same time
   * (decision 0136). The consumer then allows two batches unacknowledged, and one instance at
   * a time pulls: the runner holds a lease on (consumer, stream) in `projection_leases`,
   * renewed as it works and lasting `ackWaitMs`, and another instance waits (`standby`) until
   * it is released or runs out.
   */
  readonly prepare?: PrepareOptions<DB, M, P>;
  /** Every error: `fatal` ones stop the runner (`done` rejects), others are retried after `retryInMs`. */
  readonly onError?: (error: unknown, info: { readonly fatal: boolean; readonly retryInMs?: number }) => void;
  /**
   * Called after a batch's transaction committed and before its acks are sent:
   * observers such as metrics or a "read model changed" notification.
   */
  readonly afterCommit?: (batch: CommittedBatch) => void | Promise<void>;
  readonly logger?: Logger;
}

export interface ProjectionRunner {
  /** Resolves when the runner stopped after `stop()`; rejects with the error that stopped it. */
  readonly done: Promise<void>;
  /**
   * Graceful stop: the batch in hand is finished (applied, committed, acked), a pull
   * in flight is allowed to end (at most `maxWaitMs`), then the runner stops.
   * Resolves when stopped; never rejects (a failure is reported by `done`).
   */
  stop(): Promise<void>;
  /** Stream tail vs committed checkpoint, read now from NATS and PostgreSQL (for /ready and metrics). */
  lag(): Promise<ProjectionLag>;
  status(): ProjectionStatus;
}

interface CheckpointRow {
  last_seq: bigint | string | number;
}

function toSeq(value: bigint | string | number, what: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new EventlogInvariantError(`${what} is not a valid sequence: ${value}`);
  return n;
}

async function readCheckpoint<DB>(
  db: Kysely<DB> | Transaction<DB>,
  durable: string,
  stream: string,
): Promise<number> {
  const { rows } = await sql<CheckpointRow>`
    select last_seq from projection_checkpoints where consumer = ${durable} and stream = ${stream}`.execute(
    db,
  );
  return rows[0] === undefined ? 0 : toSeq(rows[0].last_seq, `checkpoint of ${durable} on ${stream}`);
}

/** SQLSTATE classes that mean "try again": connection lost, server going away, overload, serialization. */
function isTransientSqlState(code: string): boolean {
  return (
    code.startsWith('08') || // connection exception
    code.startsWith('57P') || // admin/crash shutdown, cannot connect now
    code === '53300' || // too many connections
    code === '25006' || // read-only transaction: a standby after failover, default_transaction_read_only
    code === '40001' || // serialization failure
    code === '40P01' // deadlock detected
  );
}

function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** Network-level failures of the pg client (no SQLSTATE: the server never answered). */
const transientNetworkCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
]);
const transientPgMessage =
  /connection terminated|terminating connection|not queryable|timeout exceeded when trying to connect|connection error/i;

export function isTransientDatabaseError(error: unknown): boolean {
  const state = sqlState(error);
  if (state !== undefined) return isTransientSqlState(state);
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && transientNetworkCodes.has(code)) return true;
  return error instanceof Error && transientPgMessage.test(error.message);
}

function isFatal(error: unknown, nc: NatsConnection): boolean {
  if (nc.isClosed()) return true;
  if (error instanceof ProjectionHandlerError) return !isTransientDatabaseError(error.cause);
  if (error instanceof EventlogError) return true;
  // Our own bugs: retrying would only repeat them.
  if (error instanceof TypeError || error instanceof RangeError || error instanceof ReferenceError)
    return true;
  // A database error with a SQLSTATE outside the transient classes (a missing table,
  // a constraint) is deterministic.
  const state = sqlState(error);
  if (state !== undefined) return !isTransientSqlState(state);
  // Everything else is the network or NATS (timeouts, disconnects, a consumer
  // deleted under us): worth another try.
  return false;
}

function backoffMs(attempt: number): number {
  const base = Math.min(retryBackoffMaxMs, retryBackoffMinMs * 2 ** attempt);
  // Jitter (50–100 %) keeps several runners from retrying in lockstep.
  return Math.round(base / 2 + (Math.random() * base) / 2);
}

function toRaw(stream: string, m: JsMsg): RawStreamMessage {
  return {
    stream,
    seq: m.seq,
    subject: m.subject,
    bytes: m.data,
    headers: m.headers,
    msgId: m.headers?.get('Nats-Msg-Id') || undefined,
  };
}

/**
 * Runs a projection: a durable pull consumer whose batches are applied to
 * PostgreSQL exactly once in effect. Per batch: one transaction takes an advisory
 * lock for (schema, consumer, stream), reads the checkpoint, drops events at or
 * below it (a replay does nothing), checks that the rest start right after it
 * without holes, decodes them (stopping at an undecodable one, which is never acked),
 * calls the handler, writes the new checkpoint and commits; only then are the
 * messages acked. A crash between commit and ack redelivers the batch, and the
 * checkpoint turns it into a no-op.
 *
 * While a batch is applied, the next one is already pulled and decoded (the consumer
 * allows `projectionBatchesInFlight` batches unacknowledged), so a batch costs the
 * PostgreSQL transaction and little else. After a crash the server redelivers those
 * batches, in order, and the checkpoint turns what was committed into no-ops.
 * Connection errors (NATS or PostgreSQL) are retried with backoff from the
 * checkpoint; a real gap, a failing handler or a broken invariant stop the runner
 * with an error naming the stream and sequence. A poison event stops it too, unless
 * `quarantine` is given: then the runner waits, blocked, for an operator.
 */
export function runProjection<DB, M extends RawStreamMessage = StreamEvent, Q = unknown, P = never>(
  options: RunProjectionOptions<DB, M, Q, P>,
): ProjectionRunner {
  const { nc, db, stream, durable, handler } = options;
  const decode = options.decode ?? (decodeStreamMessage as unknown as (message: RawStreamMessage) => M);
  const batchSize = options.batchSize ?? projectionBatchSizeDefault;
  const maxWaitMs = options.maxWaitMs ?? projectionMaxWaitMsDefault;
  const ackWaitMs = options.ackWaitMs ?? projectionAckWaitMs;
  const logger = (options.logger ?? silentLogger()).child({ stream, consumer: durable });
  if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > projectionBatchMessagesMax) {
    throw new RangeError(
      `batchSize must be an integer in [1, ${projectionBatchMessagesMax}], got ${batchSize}`,
    );
  }
  if (!Number.isSafeInteger(maxWaitMs) || maxWaitMs < projectionMaxWaitMsMin) {
    throw new RangeError(`maxWaitMs must be an integer ≥ ${projectionMaxWaitMsMin}, got ${maxWaitMs}`);
  }
  if (!Number.isSafeInteger(ackWaitMs) || ackWaitMs < maxWaitMs) {
    throw new RangeError(`ackWaitMs must be an integer ≥ maxWaitMs (${maxWaitMs}), got ${ackWaitMs}`);
  }
  if (durable.length === 0 || /[.*>\s]/.test(durable)) {
    throw new RangeError(
      `durable must be a non-empty name without . * > or whitespace, got ${JSON.stringify(durable)}`,
    );
  }

  const js: JetStreamClient = jetstream(nc);
  let jsmPromise: Promise<JetStreamManager> | undefined;
  const jsm = () => {
    jsmPromise ??= js.jetstreamManager();
    return jsmPromise;
  };

  let state: ProjectionState = 'starting';
  let checkpoint: number | undefined;
  let lastError: string | undefined;
  let stopRequested = false;
  let wakeUp: (() => void) | undefined;
  // A space separates the two: neither a durable nor a stream name may contain one, and PostgreSQL text cannot hold NUL.
  const lockKey = `${durable} ${stream}`;

  function reportError(error: unknown, fatal: boolean, retryInMs?: number): void {
    lastError = describe(error);
    if (fatal) logger.error({ err: lastError }, 'projection stopped by an error');
    else logger.warn({ err: lastError, retryInMs }, 'projection retrying after an error');
    try {
      options.onError?.(error, retryInMs === undefined ? { fatal } : { fatal, retryInMs });
    } catch (hookError) {
      logger.error({ err: describe(hookError) }, 'onError hook threw');
    }
  }

  async function openConsumer(): Promise<Consumer> {
    const manager = await jsm();
    const wanted = {
      ack_wait: nanos(ackWaitMs),
      // The batch being applied (and with `prepare` the next one, prepared meanwhile).
      max_ack_pending:
        batchSize *
        (options.prepare === undefined ? projectionBatchesInFlight : projectionPreparedBatchesInFlight),
      // Never give up on a message: one that keeps failing stops the runner instead.
      max_deliver: -1,
    };
    try {
      const info = await manager.consumers.info(stream, durable);
      const c = info.config;
      if (c.ack_policy !== AckPolicy.Explicit || c.filter_subject || c.deliver_subject) {
        throw new ConsumerConfigMismatchError(
          `consumer ${durable} on ${stream} must be an unfiltered pull consumer with explicit acks ` +
            `(ack_policy ${c.ack_policy}, filter ${c.filter_subject ?? 'none'}, deliver_subject ${c.deliver_subject ?? 'none'})`,
        );
      }
      if (
        c.max_ack_pending !== wanted.max_ack_pending ||
        millis(c.ack_wait ?? 0) !== ackWaitMs ||
        c.max_deliver !== wanted.max_deliver
      ) {
        await manager.consumers.update(stream, durable, wanted);
      }
    } catch (error) {
      if (error instanceof JetStreamApiError && error.code === streamNotFoundCode) {
        throw new StreamMissingError(stream, error);
      }
      if (!(error instanceof JetStreamApiError && error.code === consumerNotFoundCode)) throw error;
      // A new (or deleted) durable starts right after the checkpoint instead of
      // redelivering a whole stream that the checkpoint would skip anyway.
      const from = await readCheckpoint(db, durable, stream);
      const config: Partial<ConsumerConfig> = {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        ...wanted,
        ...(from === 0
          ? { deliver_policy: DeliverPolicy.All }
          : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from + 1 }),
      };
      await manager.consumers.add(stream, config);
      logger.info({ fromSeq: from + 1 }, 'created durable consumer');
    }
    return js.consumers.get(stream, durable);
  }

  /** One delivered message, decoded ahead of its transaction (or the reason it cannot be). */
  interface Delivered {
    readonly msg: JsMsg;
    readonly raw: RawStreamMessage;
    readonly decoded: M | undefined;
    readonly poison: PoisonEventError | undefined;
  }

  function decodeOne(msg: JsMsg): Delivered {
    const raw = toRaw(stream, msg);
    try {
      return { msg, raw, decoded: decode(raw), poison: undefined };
    } catch (error) {
      if (!(error instanceof PoisonEventError)) throw error;
      return { msg, raw, decoded: undefined, poison: error };
    }
  }

  function decodeAll(messages: readonly JsMsg[]): Delivered[] {
    return messages.map(decodeOne);
  }

  /**
   * decodeAll in slices with the event loop turning between them: the batch being written streams
   * its statements and COPYs to PostgreSQL, which the socket takes only as fast as the event loop
   * hands them over once its buffer is full.
   */
  async function decodeAllYielding(messages: readonly JsMsg[]): Promise<Delivered[]> {
    const delivered: Delivered[] = [];
    for (let start = 0; start < messages.length; start += ioSliceEvents) {
      if (start > 0) await yieldToIo();
      const end = Math.min(messages.length, start + ioSliceEvents);
      for (let index = start; index < end; index++) delivered.push(decodeOne(messages[index]!));
    }
    return delivered;
  }

  /**
   * Pulls the next batch and decodes it. `held` messages of this runner are delivered and not
   * yet acked (the batch being applied), so they are not asked for again.
   */
  async function fetchBatch(consumer: Consumer, held: number): Promise<Delivered[]> {
    return decodeAll(await fetchMessages(consumer, held));
  }

  /** Pulls the next batch (see fetchBatch), not decoded. */
  async function fetchMessages(consumer: Consumer, held: number): Promise<JsMsg[]> {
    // A pull for more messages than are available waits its full expiry, so ask
    // for what is there (pending, plus unacked ones that may be redelivered), or
    // for one when idle so that a new event ends the wait at once.
    const info = await consumer.info(false);
    const available = info.num_pending + info.num_ack_pending - held;
    const max = Math.max(1, Math.min(batchSize, available));
    const messages = await consumer.fetch({ max_messages: max, expires: maxWaitMs });
    const batch: JsMsg[] = [];
    for await (const m of messages) batch.push(m);
    return batch;
  }

  /** What `prepare.run` made of a batch's events `firstSeq..lastSeq`. */
  interface Prepared {
    readonly value: P;
    readonly firstSeq: number;
    readonly lastSeq: number;
  }

  /** A delivered batch, prepared (with `prepare`) while the batch before it committed. */
  interface Pulled {
    readonly delivered: Delivered[];
    readonly prepared: Prepared | undefined;
  }

  /** Redeliveries may repeat a message inside one batch or arrive out of order. */
  function inOrder(delivered: readonly Delivered[]): Delivered[] {
    const bySeq = new Map<number, Delivered>();
    for (const d of delivered) bySeq.set(d.msg.seq, d);
    return [...bySeq.values()].sort((a, b) => a.msg.seq - b.msg.seq);
  }

  /**
   * Where the checkpoint will be once `delivered` commits: what the next batch is prepared to
   * follow. Undefined unless its messages after the committed checkpoint run on from it without
   * a hole or a poison event, and while that checkpoint is not known yet (before the first
   * batch). A runner with `prepare` pulls nothing more until such a batch is settled: with two
   * batches unacknowledged, a pull made while a batch fails on a hole would take the very
   * redeliveries it lacks, and both would go back out of order, again and again.
   */
  function checkpointAfter(delivered: readonly Delivered[]): number | undefined {
    if (checkpoint === undefined) return undefined;
    return runOn(delivered, checkpoint)?.at(-1)?.msg.seq ?? checkpoint;
  }

  /**
   * The messages of `delivered` after sequence `after`, in order, when they run on from it
   * without a hole or a poison event (possibly none); undefined otherwise.
   */
  function runOn(delivered: readonly Delivered[], after: number): Delivered[] | undefined {
    const messages = inOrder(delivered).filter((d) => d.msg.seq > after);
    for (const [index, d] of messages.entries()) {
      if (d.poison !== undefined || d.msg.seq !== after + 1 + index) return undefined;
    }
    return messages;
  }

  /**
   * Decodes the batch pulled ahead and prepares it to follow checkpoint `after`, once the batch
   * before it is applied in memory and its writes are on their way (`turn`): until then the
   * process's time is that batch's. Only a batch that runs on from `after` without a hole or a
   * poison event is prepared; anything else goes the whole way in its transaction.
   */
  async function decodeAhead(
    pulled: readonly JsMsg[],
    after: number | undefined,
    turn: Promise<unknown>,
  ): Promise<Pulled> {
    await turn;
    const delivered = await decodeAllYielding(pulled);
    const prepared = stopRequested ? undefined : await prepareAhead(delivered, after);
    return { delivered, prepared };
  }

  async function prepareAhead(
    delivered: readonly Delivered[],
    after: number | undefined,
  ): Promise<Prepared | undefined> {
    if (options.prepare === undefined || after === undefined) return undefined;
    const messages = runOn(delivered, after);
    if (messages === undefined || messages.length === 0) return undefined;
    let value: P | undefined;
    try {
      value = await options.prepare.run(messages.map((d) => d.decoded!));
    } catch (error) {
      // Its transaction meets the error again and reports it with the batch's sequences.
      logger.debug({ err: describe(error), firstSeq: after + 1 }, 'batch not prepared ahead');
      return undefined;
    }
    return value === undefined
      ? undefined
      : { value, firstSeq: after + 1, lastSeq: messages.at(-1)!.msg.seq };
  }

  function settleLeftovers(messages: readonly JsMsg[], upTo: number): void {
    // Messages at or below the checkpoint are done: ack. Others go back at once,
    // in order, so the next pull gets them again.
    for (const m of messages) {
      if (m.seq <= upTo) m.ack();
      else m.nak();
    }
  }

  /** The poison event a batch stopped at, and the operator's quarantine of it if there is one. */
  interface PoisonStop {
    readonly message: Delivered;
    readonly poison: PoisonEventError;
    readonly quarantine: Q | undefined;
  }

  async function applyBatch(
    delivered: readonly Delivered[],
    prepared: Prepared | undefined,
    sent: () => void,
  ): Promise<void> {
    // Prepared work is written or discarded, exactly once, whatever happens to the batch: the
    // transaction takes it out of the slot, and what is left there at the end is discarded.
    const slot = { prepared };
    try {
      await applyInOrder(inOrder(delivered), slot, sent);
    } finally {
      if (slot.prepared !== undefined) options.prepare!.discard(slot.prepared.value);
    }
  }

  /** Applies `messages` (in order); the transaction takes the batch's prepared work from `slot`. */
  async function applyInOrder(
    messages: readonly Delivered[],
    slot: { prepared: Prepared | undefined },
    sent: () => void,
  ): Promise<void> {
    const jsMessages = messages.map((d) => d.msg);

    // Look for a quarantine before the transaction: it asks NATS, and a lock is not held for that.
    let stop: PoisonStop | undefined;
    const poisoned = messages.find((d) => d.poison !== undefined && d.msg.seq > (checkpoint ?? 0));
    if (poisoned !== undefined) {
      const poison = poisoned.poison!;
      stop = {
        message: poisoned,
        poison,
        quarantine:
          options.quarantine === undefined ? undefined : await options.quarantine.find(poisoned.raw, poison),
      };
    }

    const result = await db.transaction().execute(async (trx) => {
      // Serialises runners of the same (schema, consumer, stream): two instances
      // never apply concurrently, the second sees the first's checkpoint.
      await sql`select pg_advisory_xact_lock(hashtextextended(current_schema() || ${lockKey}, 0))`.execute(
        trx,
      );
      const before = await readCheckpoint(trx, durable, stream);
      // What is committed, whatever this batch turns out to be (read under the batch's lock).
      checkpoint = before;
      const fresh = messages.filter((d) => d.msg.seq > before);
      if (fresh.length === 0) return { before, after: before, applied: 0, firstSeq: before };
      let expected = before + 1;
      for (const d of fresh) {
        if (d.msg.seq !== expected) throw new ApparentGap(expected, d.msg.seq);
        expected++;
      }
      const events: M[] = [];
      let quarantined: PoisonStop | undefined;
      for (const d of fresh) {
        if (d.poison !== undefined) {
          // A batch ends at a poison event: what came before is applied; the poison event is
          // recorded as quarantined if an operator said so, else it stays for them.
          if (stop?.message.msg.seq === d.msg.seq && stop.quarantine !== undefined) quarantined = stop;
          else stop = { message: d, poison: d.poison, quarantine: undefined };
          break;
        }
        events.push(d.decoded!);
      }
      let lastSeq = before;
      if (events.length > 0) {
        lastSeq = events[events.length - 1]!.seq;
        // Prepared for exactly these events after exactly this checkpoint, or not used.
        const prepared = slot.prepared;
        slot.prepared = undefined;
        const ready =
          prepared !== undefined &&
          quarantined === undefined &&
          prepared.firstSeq === before + 1 &&
          prepared.lastSeq === lastSeq
            ? prepared.value
            : undefined;
        if (prepared !== undefined && ready === undefined) options.prepare!.discard(prepared.value);
        try {
          if (ready === undefined) await handler(trx, events);
          else await options.prepare!.write(trx, ready, sent);
        } catch (error) {
          throw new ProjectionHandlerError(stream, events[0]!.seq, lastSeq, error);
        }
      }
      if (quarantined !== undefined) {
        lastSeq = quarantined.message.msg.seq;
        await options.quarantine!.record(
          trx,
          quarantined.message.raw,
          quarantined.poison,
          quarantined.quarantine!,
        );
        logger.warn({ seq: lastSeq }, 'poison event quarantined by an operator; continuing past it');
      }
      if (lastSeq === before) return { before, after: before, applied: 0, firstSeq: before };
      const written = await sql`
        insert into projection_checkpoints (consumer, stream, last_seq, updated_at)
        values (${durable}, ${stream}, ${lastSeq}, now())
        on conflict (consumer, stream) do update
          set last_seq = excluded.last_seq, updated_at = excluded.updated_at
          where projection_checkpoints.last_seq = ${before}`.execute(trx);
      if (written.numAffectedRows !== 1n) {
        throw new EventlogInvariantError(
          `checkpoint of ${durable} on ${stream} moved from ${before} while the batch held its lock`,
        );
      }
      return { before, after: lastSeq, applied: events.length, firstSeq: before + 1 };
    });

    checkpoint = result.after;
    if (result.applied > 0) {
      logger.debug(
        { firstSeq: result.firstSeq, lastSeq: result.after, applied: result.applied },
        'batch committed',
      );
      try {
        await options.afterCommit?.({
          stream,
          firstSeq: result.firstSeq,
          lastSeq: result.after,
          applied: result.applied,
        });
      } catch (error) {
        // An observer's failure must not look like a failed batch: the batch is committed.
        logger.error({ err: describe(error), lastSeq: result.after }, 'afterCommit hook threw');
      }
    }
    // Ack what is applied; hand back what a batch ended before (a poison event and everything
    // after it stay in the consumer for an operator; after a quarantined one, they come again).
    const confirmed = acknowledge(jsMessages.filter((m) => m.seq <= result.after));
    if (options.prepare === undefined) await confirmed;
    else {
      // Two stages: the next batch's transaction need not wait for the server to confirm these
      // acks, only the next pull does (its size counts what is unacknowledged); a failure
      // surfaces there, and the batch, committed, comes again as a no-op.
      confirmed.catch(() => undefined);
      ackConfirmed = confirmed;
    }
    settleLeftovers(
      jsMessages.filter((m) => m.seq > result.after),
      result.after,
    );
    const held = stop !== undefined && stop.message.msg.seq > result.after ? stop : undefined;
    if (held !== undefined) {
      if (options.quarantine === undefined) throw held.poison;
      throw new PoisonHeld(held.poison);
    }
  }

  /**
   * Acks every message and waits for the server to confirm the last ack. The server applies a
   * consumer's acks from one connection in the order they were sent, so the confirmed last one
   * means all of them are applied: the consumer's counts that the next pull is sized by are up
   * to date, and acks lost with the connection surface as an error here (harmless: the batch
   * comes again and the checkpoint skips it). One confirmation a batch, not one a message: each
   * is a nats-core request, which builds a RequestError("cancelled") with its stack trace after
   * the answer arrives, whatever the connection's async traces (decision 0082).
   */
  async function acknowledge(messages: readonly JsMsg[]): Promise<void> {
    const last = messages.at(-1);
    if (last === undefined) return;
    for (const m of messages) if (m !== last) m.ack();
    if (!(await last.ackAck())) throw new Error(`an ack on ${stream} was not confirmed by the server`);
  }

  /**
   * Judges an apparent gap; resolves `true` when the missing message is delivered and awaiting
   * an ack elsewhere (another instance on this durable holds it, or a dead one did): waiting for
   * it is then not a failed re-pull.
   */
  async function confirmGap(
    gap: ApparentGap,
    messages: readonly JsMsg[],
    rechecks: number,
  ): Promise<boolean> {
    // The stream is the judge: if it holds the missing sequence, delivery was out of
    // order and a re-pull fixes it; if not, events are lost and applying past the
    // hole would make the read model silently wrong.
    const manager = await jsm();
    try {
      // This client answers "no message there" with null; older ones threw 10037.
      const held = await manager.streams.getMessage(stream, { seq: gap.missingSeq });
      if (held === null) {
        throw new SequenceGapError(
          stream,
          gap.missingSeq,
          gap.receivedSeq,
          'the stream holds no message there',
        );
      }
    } catch (error) {
      if (error instanceof JetStreamApiError && error.code === noMessageFoundCode) {
        throw new SequenceGapError(
          stream,
          gap.missingSeq,
          gap.receivedSeq,
          'the stream holds no message there',
        );
      }
      throw error;
    }
    const consumerInfo = await manager.consumers.info(stream, durable);
    const heldElsewhere =
      consumerInfo.ack_floor.stream_seq < gap.missingSeq &&
      gap.missingSeq <= consumerInfo.delivered.stream_seq;
    if (rechecks >= gapRecheckMax && !heldElsewhere) {
      throw new SequenceGapError(
        stream,
        gap.missingSeq,
        gap.receivedSeq,
        `the stream holds it, but ${gapRecheckMax} re-pulls did not deliver it (check the consumer ${durable})`,
      );
    }
    settleLeftovers(messages, checkpoint ?? 0);
    await nc.flush();
    return heldElsewhere;
  }

  async function sleep(ms: number): Promise<void> {
    if (stopRequested) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    wakeUp = undefined;
  }

  /** The server's confirmation of the last committed batch's acks (a runner with `prepare`). */
  let ackConfirmed: Promise<void> = Promise.resolve();

  // The lease of a runner with `prepare` (see there): this runner's name in `projection_leases`,
  // and when to renew it (a third of its length, so a slow renewal never lets it run out).
  const holder = randomUUID();
  let leaseRenewAt = 0;
  let leaseHeld = false;

  /** Takes or renews the lease; false while another instance holds it and it has not run out. */
  async function holdLease(): Promise<boolean> {
    if (leaseHeld && performance.now() < leaseRenewAt) return true;
    const { rows } = await sql<{ holder: string }>`
      insert into projection_leases (consumer, stream, holder, expires_at)
      values (${durable}, ${stream}, ${holder}, now() + ${ackWaitMs}::integer * interval '1 millisecond')
      on conflict (consumer, stream) do update
        set holder = excluded.holder, expires_at = excluded.expires_at
        where projection_leases.holder = excluded.holder or projection_leases.expires_at < now()
      returning holder`.execute(db);
    const had = leaseHeld;
    leaseHeld = rows.length === 1;
    if (leaseHeld) leaseRenewAt = performance.now() + ackWaitMs / 3;
    if (leaseHeld !== had)
      logger.info({ holder }, leaseHeld ? 'lease taken' : 'lease held by another instance');
    return leaseHeld;
  }

  /** Hands the lease over at once (a stop), instead of letting it run out. */
  async function releaseLease(): Promise<void> {
    if (!leaseHeld) return;
    leaseHeld = false;
    await sql`delete from projection_leases
      where consumer = ${durable} and stream = ${stream} and holder = ${holder}`.execute(db);
  }

  async function loop(): Promise<void> {
    try {
      await pull();
    } finally {
      await releaseLease().catch((error: unknown) => {
        logger.warn({ err: describe(error) }, 'lease not released; it runs out instead');
      });
    }
  }

  async function pull(): Promise<void> {
    let consumer: Consumer | undefined;
    let attempt = 0;
    let gapRechecks = 0;
    let blockedAt: number | undefined;
    // The next batch, pulled and decoded (and prepared) while the current one is applied and committed.
    let next: Promise<Pulled> | undefined;
    /** Hands back a batch pulled ahead, so it comes again at once instead of after the ack wait. */
    const dropNext = async () => {
      const pulled = next;
      next = undefined;
      if (pulled === undefined) return;
      const ahead = await pulled.catch(() => undefined);
      if (ahead?.prepared !== undefined) options.prepare!.discard(ahead.prepared.value);
      if (ahead !== undefined && !nc.isClosed())
        settleLeftovers(
          ahead.delivered.map((d) => d.msg),
          checkpoint ?? 0,
        );
    };
    logger.info({ batchSize, maxWaitMs }, 'projection starting');
    while (!stopRequested) {
      let batch: Delivered[] = [];
      try {
        if (nc.isClosed())
          throw new ConnectionClosedError(`the NATS connection of ${durable} on ${stream} is closed`);
        if (options.prepare !== undefined && !(await holdLease())) {
          // Another instance pulls; what this one pulled ahead goes back to the consumer.
          await dropNext();
          if (state !== 'stopping') state = 'standby';
          await sleep(Math.ceil(ackWaitMs / 3));
          continue;
        }
        consumer ??= await openConsumer();
        if (state !== 'stopping' && state !== 'blocked') state = 'running';
        const pulled = await (next ??
          fetchBatch(consumer, 0).then((delivered) => ({ delivered, prepared: undefined })));
        next = undefined;
        batch = pulled.delivered;
        if (batch.length > 0) {
          const current = consumer;
          const held = batch.length;
          const sent = deferred();
          const applying = applyBatch(batch, pulled.prepared, sent.resolve);
          // Never an unhandled rejection: awaited below.
          applying.catch(() => undefined);
          // The next batch is decoded and prepared once this one is applied in memory and its
          // writes are sent (`sent`, when it was prepared), or once its transaction is over.
          const after = checkpointAfter(batch);
          const turn =
            options.prepare === undefined
              ? Promise.resolve()
              : Promise.race([sent.promise, applying.catch(() => undefined)]);
          if (options.prepare === undefined || after !== undefined) {
            const acks = ackConfirmed;
            next = acks
              .then(() => fetchMessages(current, held))
              .then((messages) => decodeAhead(messages, after, turn));
            // Never an unhandled rejection: the loop awaits it, or dropNext() collects it.
            next.catch(() => undefined);
          }
          try {
            await applying;
            gapRechecks = 0;
            if (blockedAt !== undefined && (checkpoint ?? 0) >= blockedAt) {
              blockedAt = undefined;
              if (state === 'blocked') state = 'running';
            }
          } catch (error) {
            if (error instanceof PoisonHeld) {
              await dropNext();
              if (blockedAt !== error.poison.seq) {
                blockedAt = error.poison.seq;
                state = 'blocked';
                lastError = describe(error.poison);
                logger.error(
                  { err: lastError, seq: error.poison.seq, recheckMs: options.quarantine!.recheckMs },
                  'poison event: projection waits for an operator to quarantine it',
                );
                try {
                  options.onError?.(error.poison, { fatal: false, retryInMs: options.quarantine!.recheckMs });
                } catch (hookError) {
                  logger.error({ err: describe(hookError) }, 'onError hook threw');
                }
              }
              await sleep(options.quarantine!.recheckMs);
              continue;
            }
            if (!(error instanceof ApparentGap)) throw error;
            await dropNext();
            gapRechecks++;
            logger.warn(
              { missingSeq: error.missingSeq, receivedSeq: error.receivedSeq },
              'sequence not delivered yet',
            );
            const heldElsewhere = await confirmGap(
              error,
              batch.map((d) => d.msg),
              gapRechecks,
            );
            // Held by another instance: it commits it, or the ack wait hands it back.
            if (heldElsewhere) gapRechecks = Math.min(gapRechecks, gapRecheckMax - 1);
            await sleep(backoffMs(gapRechecks));
          }
        }
        attempt = 0;
        if (blockedAt === undefined) lastError = undefined;
      } catch (error) {
        await dropNext();
        if (isFatal(error, nc)) {
          state = 'failed';
          // Whatever failed first (often a timeout), the reason to stop is the closed connection.
          const fatal =
            nc.isClosed() && !(error instanceof EventlogError)
              ? new ConnectionClosedError(`the NATS connection of ${durable} on ${stream} is closed`, {
                  cause: error,
                })
              : error;
          reportError(fatal, true);
          throw fatal;
        }
        // Hand back what we held so it comes again soon, not after the ack wait.
        if (batch.length > 0 && !nc.isClosed())
          settleLeftovers(
            batch.map((d) => d.msg),
            checkpoint ?? 0,
          );
        consumer = undefined;
        const wait = backoffMs(attempt++);
        if (state !== 'stopping') state = 'retrying';
        reportError(error, false, wait);
        await sleep(wait);
      }
    }
    await dropNext();
    // The last batch's acks confirmed (or lost, harmlessly) before the runner says it stopped.
    await ackConfirmed.catch(() => undefined);
    state = 'stopped';
    logger.info({ checkpoint }, 'projection stopped');
  }

  const done = loop();
  // `done` is awaited by the caller or by `stop()`; keep Node from reporting the
  // rejection as unhandled before they do.
  done.catch(() => undefined);

  return {
    done,
    async stop() {
      stopRequested = true;
      if (state !== 'failed' && state !== 'stopped') state = 'stopping';
      wakeUp?.();
      await done.catch(() => undefined);
    },
    async lag() {
      const [lastStreamSeq, committed] = await Promise.all([
        lastSequence(await jsm(), stream),
        readCheckpoint(db, durable, stream),
      ]);
      return {
        stream,
        consumer: durable,
        lastStreamSeq,
        checkpoint: committed,
        lag: lastStreamSeq - committed,
      };
    },
    status() {
      return { state, checkpoint, lastError };
    },
  };
}
