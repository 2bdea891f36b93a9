import {
  AppendConflictError,
  AppendOutcomeUnknownError,
  append,
  appendBatch,
  BatchCutShortError,
  BatchOutcomeUnknownError,
  commandHashOfCanonicalData,
  eventIdFor,
  firstEventMatches,
  type Logger,
  lastSequence,
  type OutgoingMessage,
  parseMessageId,
  readStreamRaw,
} from '@fundtrace/eventlog';
import {
  type Actor,
  canonicalEncoder,
  decodeEvent,
  type EventBatchEncoder,
  eventBatchEncoder,
  ledgerEvents,
  streamName,
  subjectFor,
  utcTimestamp,
} from '@fundtrace/events';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { type CommandType, commandSchemas, type LedgerCommand } from '../ledger/commands';
import { type DecideContext, type Decision, decide, decideRosterRemainder } from '../ledger/decide';
import { evolve, type LedgerEventInput } from '../ledger/evolve';
import { decideNoticeRemainder } from '../ledger/notice-lines';
import { invariant, type Rejected, reject } from '../ledger/rejections';
import { initialState, type LedgerState } from '../ledger/state';
import type { Reference } from '../reference/programmes';
import { decodeLedgerEvent } from './fast-decode';
import { RegistryTail } from './registry-tail';

/**
 * How many times a command is decided again after losing an append race. Each
 * loss means another instance appended in between; after this many in a row the
 * partition is too contended, and the client gets a 503 to retry later.
 */
export const appendRetriesMax = 5;

/**
 * How many times the same messages are re-sent after an append whose outcome is
 * unknown (timeout, dropped connection). Re-sending is safe: the message ids
 * make JetStream answer "duplicate" with the original sequence.
 */
export const unknownOutcomeRetriesMax = 3;

/**
 * Unacknowledged appends in flight during a roster burst. The baseline
 * is plain `js.publish` with 1,000 in flight; a smaller window would leave the
 * server idle between acks and make the comparison unfair to the ledger.
 */
export const rosterInFlightMax = 1_000;

/**
 * Events per append burst of a large command (a roster). The writer encodes the
 * next chunk while the server stores the current one, so encoding and storing
 * overlap. Each boundary drains the 1,000-message window (a burst returns after
 * its last ack and its events are applied before the next is sent), so chunks
 * are few: with the compiled encoder the first 25,000 events encode in well
 * under a second, and a 50,000-row roster has one boundary instead of ten.
 */
export const appendChunkEvents = 25_000;

/** The first burst of a large command: short, so the server has work while the next burst is encoded. */
export const firstChunkEvents = 5_000;

/** Events encoded between yields to the event loop, so acks keep flowing while a chunk is encoded. */
const encodeSliceEvents = 250;

/** Beijing has no daylight saving: business dates are UTC+8 all year. */
const beijingOffsetMs = 8 * 60 * 60 * 1000;

/** A command as the HTTP edge hands it over, already validated against its schema. */
export interface CommandRequest {
  readonly commandId: string;
  readonly correlationId?: string | undefined;
  readonly actor: Actor;
  /** Business time (RFC 3339), may be back-dated (补发); default: when recorded. */
  readonly occurredAt?: string | null | undefined;
  readonly command: LedgerCommand;
  /** Decide and report, append nothing (the CLI's --dry-run). */
  readonly dryRun?: boolean | undefined;
}

export interface CommandResult {
  readonly commandId: string;
  /** True when this command id was already executed with the same content: the original result. */
  readonly duplicate: boolean;
  readonly dryRun: boolean;
  readonly eventCount: number;
  /** LEDGER stream sequences of the command's first and last events (null for a dry run). */
  readonly firstSeq: number | null;
  readonly lastSeq: number | null;
}

export type CommandOutcome = { readonly ok: true; readonly result: CommandResult } | Rejected;

/** The registry tail could not reach the REGISTRY stream's end in time: household checks would be blind. */
export class RegistryBehindError extends Error {
  override readonly name = 'RegistryBehindError';
}

/** Another instance kept winning the append race; the client should retry. */
export class PartitionBusyError extends Error {
  override readonly name = 'PartitionBusyError';
}

interface CommandRecord {
  readonly firstEventId: string;
  count: number;
  firstSeq: number;
  lastSeq: number;
}

export interface AppendedEvent {
  readonly seq: number;
  readonly event: LedgerEventInput;
}

export interface WriterOptions {
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly partition: string;
  readonly ns: string;
  readonly reference: Reference;
  readonly logger: Logger;
  /** Milliseconds since the epoch; the only clock the writer reads. */
  readonly now?: () => number;
  /** Events per append burst (default `appendChunkEvents`); tests make it small to cross chunk boundaries. */
  readonly appendChunkEvents?: number;
  /** Called after events are stored (e.g. to ask the log-keeper for a checkpoint when a notice is published). */
  readonly afterAppend?: (events: readonly AppendedEvent[]) => void;
}

const versions = new Map<string, number>(ledgerEvents.map((d) => [d.type, d.version]));

/**
 * The single writer of one partition's LEDGER stream: state rebuilt from the
 * stream, commands decided one at a time against it, events appended with the
 * expected last sequence (pipelined for rosters), conflicts resolved by
 * catching up and deciding again.
 */
export class LedgerWriter {
  readonly state: LedgerState;
  readonly stream: string;
  readonly registry: RegistryTail;
  private readonly commands = new Map<string, CommandRecord>();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly now: () => number;
  /** The batch encoder of the command being appended (one per command and recording instant). */
  private encoder: { request: CommandRequest; nowMs: number; encoder: EventBatchEncoder } | undefined;

  constructor(private readonly options: WriterOptions) {
    this.state = initialState(options.partition);
    this.stream = streamName('ledger', options.partition, options.ns);
    this.now = options.now ?? Date.now;
    this.registry = new RegistryTail(
      options.js,
      options.jsm,
      streamName('registry', options.partition, options.ns),
      options.logger,
    );
  }

  /** Rebuilds the state from the stream and starts tailing the registry. */
  async start(): Promise<void> {
    const started = this.now();
    // The registry tail reads its own stream in the background: both reads overlap.
    const registryReady = this.registry.start();
    registryReady.catch(() => undefined); // awaited below; a failing ledger read must not leave it unhandled
    try {
      await this.catchUp();
    } catch (error) {
      await this.registry.stop();
      throw error;
    }
    await registryReady;
    this.options.logger.info(
      {
        stream: this.stream,
        seq: this.state.seq,
        commands: this.commands.size,
        households: this.registry.householdCount,
        ms: this.now() - started,
      },
      'ledger state rebuilt',
    );
  }

  async stop(): Promise<void> {
    await this.queue.catch(() => undefined);
    await this.registry.stop();
  }

  /** Commands run one at a time: each is decided against the state the previous one left. */
  execute(request: CommandRequest): Promise<CommandOutcome> {
    const run = this.queue.then(() => this.executeNow(request));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Runs `read` against the state between commands, never in the middle of one. */
  read<T>(read: (state: LedgerState) => T): Promise<T> {
    const run = this.queue.then(() => read(this.state));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Applies every event appended after the state's sequence (by any instance). */
  async catchUp(): Promise<void> {
    const last = await lastSequence(this.options.jsm, this.stream);
    if (last <= this.state.seq) return;
    for await (const m of readStreamRaw(this.options.js, {
      stream: this.stream,
      fromSeq: this.state.seq + 1,
      toSeq: last,
    })) {
      invariant(m.seq === this.state.seq + 1, `${this.stream}: read ${m.seq} after ${this.state.seq}`);
      const { id, event } = decodeLedgerEvent(m.bytes);
      invariant(versions.has(event.type), `${this.stream} holds a ${event.type} event at ${m.seq}`);
      evolve(this.state, event);
      this.state.seq = m.seq;
      const parsed = m.msgId === undefined ? null : parseMessageId(m.msgId);
      invariant(parsed, `${this.stream} message ${m.seq} has no <commandId>:<index> message id`);
      this.remember(parsed.commandId, parsed.index, id, m.seq);
    }
  }

  private remember(commandId: string, index: number, eventId: string, seq: number): void {
    const known = this.commands.get(commandId);
    if (known === undefined) {
      invariant(index === 0, `command ${commandId} starts at event index ${index} (seq ${seq})`);
      this.commands.set(commandId, { firstEventId: eventId, count: 1, firstSeq: seq, lastSeq: seq });
      return;
    }
    invariant(
      index === known.count,
      `command ${commandId}: event index ${index} after ${known.count} events`,
    );
    known.count += 1;
    known.lastSeq = seq;
  }

  private async executeNow(request: CommandRequest): Promise<CommandOutcome> {
    const { command, commandId } = request;
    // The content hash over the canonical wire form, written by a compiled encoder (a roster's
    // 50,000 rows through z.encode and the generic canonical writer took seconds).
    const wire = canonicalEncoder(commandSchemas[command.type])(command.data);
    const hash = commandHashOfCanonicalData(
      this.options.partition,
      command.type,
      wire,
      request.occurredAt ?? null,
    );
    let stored = 0;
    for (let attempt = 1; ; attempt++) {
      await this.catchUp();
      const known = this.commands.get(commandId);
      if (known !== undefined && stored === 0) {
        if (!this.resumable(command) || !firstEventMatches(known.firstEventId, hash)) {
          return this.repeat(commandId, known, hash);
        }
        // A roster whose burst a crash cut short: the stored prefix is a fact, the rest is
        // decided now (nothing left: the original result, as for any repeat).
        stored = known.count;
      }
      invariant(
        stored === 0 || known?.count === stored,
        `command ${commandId}: ${stored} events stored, map says ${known?.count}`,
      );

      if (
        command.type === 'InstructPayment' ||
        command.type === 'SubmitRoster' ||
        (command.type === 'PublishNotice' && (command.data.lines?.length ?? 0) > 0)
      ) {
        await this.registry.catchUp().catch((error: unknown) => {
          throw new RegistryBehindError(`household facts unavailable: ${(error as Error).message}`);
        });
      }
      const ctx = await this.context(command);
      const decision = stored === 0 ? decide(this.state, command, ctx) : this.continuation(command, ctx);
      if (!decision.ok) {
        return stored === 0
          ? decision
          : { ...decision, details: { ...decision.details, partiallyBooked: true, eventsStored: stored } };
      }
      if (request.dryRun) {
        return {
          ok: true,
          result: {
            commandId,
            duplicate: false,
            dryRun: true,
            eventCount: decision.events.length,
            firstSeq: null,
            lastSeq: null,
          },
        };
      }
      if (decision.events.length === 0) return this.repeat(commandId, known!, hash);

      const nowMs = this.now();
      const events = decision.events;
      const chunk = this.options.appendChunkEvents ?? appendChunkEvents;
      // Chunks already appended and applied in this attempt: on a lost race they are facts too.
      let done = 0;
      try {
        const appended: AppendedEvent[] = [];
        // A short first burst: sending starts after encoding 5,000 events, not 25,000, and the
        // next (full) burst is encoded while it is stored.
        let next = this.messages(
          request,
          hash,
          events.slice(0, Math.min(chunk, firstChunkEvents)),
          stored,
          nowMs,
        );
        while (done < events.length) {
          const messages = next;
          const sending = this.appendWithRetries(messages);
          sending.catch(() => undefined); // awaited below; encoding the next chunk must not leave it unhandled
          const nextFrom = done + messages.length;
          // Encode the next chunk while the server stores this one.
          if (nextFrom < events.length) {
            next = await this.messagesYielding(
              request,
              hash,
              events.slice(nextFrom, nextFrom + chunk),
              stored + nextFrom,
              nowMs,
            );
          }
          const seqs = await sending;
          messages.forEach((message, i) => {
            const seq = seqs[i]!;
            const event = events[done + i]!;
            invariant(
              seq === this.state.seq + 1,
              `${this.stream}: appended at ${seq}, state at ${this.state.seq}`,
            );
            evolve(this.state, event);
            this.state.seq = seq;
            this.remember(commandId, stored + done + i, message.eventId, seq);
            appended.push({ seq, event });
          });
          done = nextFrom;
        }
        this.options.afterAppend?.(appended);
        const record = this.commands.get(commandId)!;
        return { ok: true, result: this.resultOf(commandId, record, false) };
      } catch (error) {
        stored += done;
        if (error instanceof BatchCutShortError) {
          stored += error.stored.length;
          if (!(error.cause instanceof AppendConflictError)) throw error;
        } else if (!(error instanceof AppendConflictError)) {
          throw error;
        }
        this.options.logger.info(
          { stream: this.stream, commandId, attempt, stored },
          'append race lost; deciding again',
        );
        if (attempt >= appendRetriesMax) {
          throw new PartitionBusyError(
            `${this.stream}: lost the append race ${attempt} times for command ${commandId}; retry later`,
          );
        }
      }
    }
  }

  /** A command id seen before: the same content gets the original result, other content is refused. */
  private repeat(commandId: string, known: CommandRecord, hash: string): CommandOutcome {
    if (!firstEventMatches(known.firstEventId, hash)) {
      return reject(
        'idempotency_key_reused',
        `Command id ${commandId} was already used for a different command; generate a new id for a new command.`,
        { commandId, firstSeq: known.firstSeq },
      );
    }
    return { ok: true, result: this.resultOf(commandId, known, true) };
  }

  /**
   * A repeat of a roster, or of a notice with its list (公示名单), may find it stored only in part:
   * the process that appended it died in the middle of the burst, and the client, which never got
   * an answer, sends it again.
   */
  private resumable(command: LedgerCommand): boolean {
    return command.type === 'SubmitRoster' || command.type === 'PublishNotice';
  }

  private resultOf(commandId: string, record: CommandRecord, duplicate: boolean): CommandResult {
    return {
      commandId,
      duplicate,
      dryRun: false,
      eventCount: record.count,
      firstSeq: record.firstSeq,
      lastSeq: record.lastSeq,
    };
  }

  /** After a cut-short batch: only a roster, a notice's list or a year close spans several events. */
  private continuation(command: LedgerCommand, ctx: DecideContext): Decision {
    if (command.type === 'SubmitRoster') return decideRosterRemainder(this.state, command.data, ctx);
    if (command.type === 'PublishNotice') return decideNoticeRemainder(this.state, command.data);
    invariant(command.type === 'CloseFiscalYear', `a ${command.type} cannot be stored in part`);
    // The stored chunks consumed their tranches: deciding again carries over the rest.
    return decide(this.state, command, ctx);
  }

  private async context(command: LedgerCommand): Promise<DecideContext> {
    const nowMs = this.now();
    const today = new Date(nowMs + beijingOffsetMs).toISOString().slice(0, 10);
    const base = { reference: this.options.reference, registry: this.registry, today };
    if (command.type === 'ReceiveAllocation' && command.data.origin.kind === 'partition') {
      const { partition, allocationId } = command.data.origin;
      return { ...base, issued: await this.readIssued(partition, allocationId) };
    }
    return base;
  }

  /**
   * The issuer's AllocationIssued, read from its LEDGER stream by subject (the
   * allocation subject holds only that event; issues are never reversed in
   * place). Writers never read PostgreSQL: the issuer's log is the authority.
   */
  private async readIssued(partition: string, allocationId: string) {
    if (partition === this.options.partition) return null;
    const stream = streamName('ledger', partition, this.options.ns);
    const subject = subjectFor(
      { context: 'ledger', partition, entity: 'allocation', id: allocationId },
      this.options.ns,
    );
    let stored: Awaited<ReturnType<JetStreamManager['streams']['getMessage']>>;
    try {
      stored = await this.options.jsm.streams.getMessage(stream, { last_by_subj: subject });
    } catch (error) {
      // No such stream or no such message: the allocation does not exist.
      const code = (error as { code?: unknown }).code;
      if (code === 10059 || code === 10037 || code === 404) return null;
      throw error;
    }
    if (stored === null) return null;
    const event = decodeEvent(stored.data);
    return event.type === 'AllocationIssued' ? event.data : null;
  }

  /**
   * The outgoing messages of `events`. Every event of one command shares its
   * envelope head, so one batch encoder (packages/events fast-encode) checks the
   * head once and writes each event's canonical bytes from a compiled schema:
   * the same bytes as encodeEvent, several times faster on a roster.
   */
  private messages(
    request: CommandRequest,
    hash: string,
    events: readonly LedgerEventInput[],
    startIndex: number,
    nowMs: number,
  ): Array<OutgoingMessage & { eventId: string }> {
    const encoder = this.encoderFor(request, nowMs);
    return events.map((e, i) => {
      const index = startIndex + i;
      const event = {
        id: eventIdFor(nowMs, hash, index),
        type: e.type,
        version: versions.get(e.type)!,
        data: e.data,
      };
      return {
        subject: encoder.subject(event, this.options.ns),
        bytes: encoder.encode(event),
        msgId: encoder.messageId(index),
        eventId: event.id,
      };
    });
  }

  private encoderFor(request: CommandRequest, nowMs: number): EventBatchEncoder {
    const cached = this.encoder;
    if (cached !== undefined && cached.request === request && cached.nowMs === nowMs) return cached.encoder;
    const recordedAt = utcTimestamp(nowMs);
    const encoder = eventBatchEncoder({
      partition: this.options.partition,
      occurredAt: request.occurredAt ?? recordedAt,
      recordedAt,
      actor: request.actor,
      commandId: request.commandId,
      correlationId: request.correlationId ?? request.commandId,
    });
    this.encoder = { request, nowMs, encoder };
    return encoder;
  }

  /** `messages`, yielding to the event loop every few hundred events so pending acks are processed. */
  private async messagesYielding(
    request: CommandRequest,
    hash: string,
    events: readonly LedgerEventInput[],
    startIndex: number,
    nowMs: number,
  ): Promise<Array<OutgoingMessage & { eventId: string }>> {
    const out: Array<OutgoingMessage & { eventId: string }> = [];
    for (let from = 0; from < events.length; from += encodeSliceEvents) {
      out.push(
        ...this.messages(
          request,
          hash,
          events.slice(from, from + encodeSliceEvents),
          startIndex + from,
          nowMs,
        ),
      );
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return out;
  }

  /** Appends at the state's sequence; re-sends the same messages when the outcome is unknown. */
  private async appendWithRetries(messages: readonly OutgoingMessage[]): Promise<number[]> {
    const expectedLastSeq = this.state.seq;
    for (let attempt = 1; ; attempt++) {
      try {
        if (messages.length === 1) {
          const { seq } = await append(this.options.js, {
            stream: this.stream,
            message: messages[0]!,
            expectedLastSeq,
          });
          return [seq];
        }
        const { stored } = await appendBatch(this.options.js, {
          stream: this.stream,
          messages,
          expectedLastSeq,
          inFlightMax: rosterInFlightMax,
        });
        return stored.map((s) => s.seq);
      } catch (error) {
        const unknown =
          error instanceof AppendOutcomeUnknownError || error instanceof BatchOutcomeUnknownError;
        if (!unknown || attempt >= unknownOutcomeRetriesMax) throw error;
        this.options.logger.warn(
          { stream: this.stream, attempt },
          'append outcome unknown; re-sending the same messages',
        );
      }
    }
  }
}

export type { CommandType };
