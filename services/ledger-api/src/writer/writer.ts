import {
  appendAtTail,
  BatchOutcomeUnknownError,
  commandHashOfCanonicalData,
  commandMessages,
  connectionOf,
  firstEventMatches,
  foldStreamTailWith,
  type Logger,
  type OutgoingMessage,
  parseMessageId,
  type TailMoved,
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
import type { NatsConnection } from '@nats-io/transport-node';
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

/**
 * Most commands decided and appended as one group (group commit, decision 0036): the commands that
 * arrived while the previous append was in flight. Bounded so one group's answers are not held back
 * behind thousands of others.
 */
export const groupCommandsMax = 512;

/**
 * After a group lost an append race, commands run one at a time for this long: another instance is
 * writing the partition, and a group that loses a race costs a rebuild of the state (decision 0036).
 */
export const contendedSoloMs = 2_000;

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
  /**
   * The connection under `js`, for appends as plain publishes with one ack subscription per burst
   * (decision 0035); default: the one `js` publishes on.
   */
  readonly nc?: NatsConnection;
  /** Group commit (decision 0036); default true. Off: every command is decided and appended alone. */
  readonly groupCommit?: boolean;
  /** True while the NATS connection is down: dry runs are then decided on the state in memory. */
  readonly natsAway?: () => boolean;
}

/** A command waiting in the writer's queue, with how many append races it has lost so far. */
interface CommandTask {
  readonly kind: 'command';
  readonly request: CommandRequest;
  readonly resolve: (outcome: CommandOutcome) => void;
  readonly reject: (error: unknown) => void;
  racesLost: number;
}

interface ReadTask {
  readonly kind: 'read';
  readonly run: () => void;
}

/**
 * How many of a burst's leading messages this instance stored: a duplicate is a copy stored before
 * (another instance sent the same command, or an earlier attempt whose outcome was unknown), whose
 * bytes the writer reads back in the catch-up rather than assume its own.
 */
function storedByUs(moved: TailMoved | undefined): number {
  const stored = moved?.stored ?? [];
  const firstCopy = stored.findIndex((s) => s.duplicate);
  return firstCopy === -1 ? stored.length : firstCopy;
}

/**
 * What a command is answered when its last try was not stored either, alone or in a group (the
 * same answer on both paths). The last try's answer never came (acks lost, a connection dying on
 * each publish): NATS is unavailable, the unknown outcome itself (503 nats_unavailable, retry with
 * the same id). Otherwise another instance kept winning the race: 503 partition_busy.
 */
function outOfTries(stream: string, cause: unknown, tries: number, commandId: string): Error {
  if (cause instanceof BatchOutcomeUnknownError) return cause;
  return new PartitionBusyError(
    `${stream}: lost the append race ${tries} times for command ${commandId}; retry later`,
  );
}

/** Commands whose events are many or stored in parts (resumable): never grouped. */
function groupable(request: CommandRequest): boolean {
  const { type } = request.command;
  return (
    request.dryRun !== true &&
    type !== 'SubmitRoster' &&
    type !== 'RecordBankResults' &&
    type !== 'PublishNotice' &&
    type !== 'CloseFiscalYear'
  );
}

function needsRegistry(command: LedgerCommand): boolean {
  return (
    command.type === 'InstructPayment' ||
    command.type === 'SubmitRoster' ||
    (command.type === 'PublishNotice' && (command.data.lines?.length ?? 0) > 0)
  );
}

const versions = new Map<string, number>(ledgerEvents.map((d) => [d.type, d.version]));

/**
 * The single writer of one partition's LEDGER stream: state rebuilt from the
 * stream, commands decided one at a time against it, events appended with the
 * expected last sequence (pipelined for rosters), conflicts resolved by
 * catching up and deciding again.
 */
/** What the writer did, for benchmarks and tests (counts since start). */
export interface WriterStats {
  /** Groups of several commands appended as one burst, and the commands in them. */
  groups: number;
  groupedCommands: number;
  /** Commands decided without asking the stream for its end (the state ended at our own append). */
  streamInfoSkipped: number;
  /** State rebuilt from the stream after a group's append failed. */
  rebuilds: number;
}

export class LedgerWriter {
  readonly stream: string;
  readonly registry: RegistryTail;
  readonly stats: WriterStats = { groups: 0, groupedCommands: 0, streamInfoSkipped: 0, rebuilds: 0 };
  private current: LedgerState;
  private readonly commands = new Map<string, CommandRecord>();
  private readonly tasks: Array<CommandTask | ReadTask> = [];
  private draining: Promise<void> | undefined;
  /** The next command runs alone: it could not join the group before it. */
  private soloNext = false;
  /** Until then (writer clock) commands run one at a time: another instance is appending. */
  private contendedUntil = 0;
  /** The state holds events of a group whose append failed: rebuild it before anything else. */
  private stale = false;
  /**
   * The stream sequence of this instance's last acknowledged append. While the state ends there,
   * nothing is known to follow it, so a command is decided without asking the stream for its end
   * (a STREAM.INFO round trip): a foreign append after it makes our append fail its expected last
   * sequence, and the command is decided again after a catch-up.
   */
  private ownTail = -1;
  /**
   * The highest sequence an append's answer showed the stream holds (`TailMoved.lastSeqAtLeast`):
   * every catch-up reads at least that far, so a stale stream info (an R3 replica that just
   * restarted) cannot leave the state short and the next try losing the race again (0122).
   */
  private tailAtLeast = 0;
  private readonly nc: NatsConnection | undefined;
  private readonly now: () => number;
  /** The batch encoder of the command being appended (one per command and recording instant). */
  private encoder: { request: CommandRequest; nowMs: number; encoder: EventBatchEncoder } | undefined;

  constructor(private readonly options: WriterOptions) {
    this.current = initialState(options.partition);
    this.stream = streamName('ledger', options.partition, options.ns);
    this.now = options.now ?? Date.now;
    this.nc = options.nc ?? connectionOf(options.js);
    this.registry = new RegistryTail(
      options.js,
      options.jsm,
      streamName('registry', options.partition, options.ns),
      options.logger,
    );
  }

  /** Commands waiting for their turn (not the one being decided or appended): a queue depth for tests and metrics. */
  get commandsWaiting(): number {
    return this.tasks.filter((task) => task.kind === 'command').length;
  }

  /** The partition's state as of the last command (read it through `read` while commands run). */
  get state(): LedgerState {
    return this.current;
  }

  /** Rebuilds the state from the stream and starts tailing the registry (streams opened by `startWriters`). */
  async start(): Promise<void> {
    const started = this.now();
    // The registry tail reads its own stream in the background: both reads overlap.
    const registryReady = this.registry.start();
    registryReady.catch(() => undefined); // awaited below; a failing ledger read must not leave it unhandled
    try {
      await this.catchUp(true);
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
    await this.draining;
    await this.registry.stop();
  }

  /**
   * Commands are decided in arrival order, each against the state the previous one left. Those
   * that arrive while an append is in flight are decided together and appended as one burst
   * (group commit, decision 0036); each still gets its own answer.
   */
  execute(request: CommandRequest): Promise<CommandOutcome> {
    return new Promise<CommandOutcome>((resolve, reject) => {
      this.tasks.push({ kind: 'command', request, resolve, reject, racesLost: 0 });
      this.kick();
    });
  }

  /** Runs `read` against the state between commands, never in the middle of one. */
  read<T>(read: (state: LedgerState) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.tasks.push({
        kind: 'read',
        run: () => {
          try {
            resolve(read(this.state));
          } catch (error) {
            reject(error);
          }
        },
      });
      this.kick();
    });
  }

  private kick(): void {
    if (this.draining !== undefined) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      if (this.tasks.length > 0) this.kick();
    });
  }

  private async drain(): Promise<void> {
    while (this.tasks.length > 0) {
      const head = this.tasks[0]!;
      if (head.kind === 'read') {
        this.tasks.shift();
        head.run();
        continue;
      }
      let group = 0;
      while (
        group < this.tasks.length &&
        group < groupCommandsMax &&
        this.tasks[group]!.kind === 'command' &&
        groupable((this.tasks[group] as CommandTask).request)
      )
        group++;
      const solo =
        group < 2 || this.soloNext || this.options.groupCommit === false || this.now() < this.contendedUntil;
      this.soloNext = false;
      if (solo) {
        this.tasks.shift();
        try {
          await this.rebuildIfStale();
          head.resolve(await this.executeNow(head.request));
        } catch (error) {
          head.reject(error);
        }
        continue;
      }
      const tasks = this.tasks.splice(0, group) as CommandTask[];
      try {
        await this.executeGroup(tasks);
      } catch (error) {
        // A broken invariant in the middle of a group: nothing of it can be trusted. (Settled
        // promises ignore a second answer.)
        this.stale = true;
        for (const task of tasks) task.reject(error);
      }
    }
  }

  /**
   * Applies every event appended after the state's sequence (by any instance). Without `fresh`,
   * skipped while the state ends at this instance's own last append (see `ownTail`); returns
   * whether it was skipped, so that a refusal decided on that state can be decided again fresh.
   */
  async catchUp(fresh = true): Promise<boolean> {
    if (!fresh && this.ownTail === this.state.seq) {
      this.stats.streamInfoSkipped += 1;
      return true;
    }
    // The LEDGER stream is read with the trusted fast decoder (decision 0034).
    await foldStreamTailWith(this.options.js, {
      stream: this.stream,
      afterSeq: this.state.seq,
      atLeastSeq: this.tailAtLeast,
      decode: (m) => decodeLedgerEvent(m.bytes),
      typeOf: (decoded) => decoded.event.type,
      knows: (type) => versions.has(type),
      fold: ({ id, event }, m) => {
        evolve(this.state, event);
        this.state.seq = m.seq;
        const parsed = m.msgId === undefined ? null : parseMessageId(m.msgId);
        invariant(parsed, `${this.stream} message ${m.seq} has no <commandId>:<index> message id`);
        this.remember(parsed.commandId, parsed.index, id, m.seq);
      },
    });
    return false;
  }

  /** After a failed group append the state holds events that are not in the stream: read it again. */
  private async rebuildIfStale(): Promise<void> {
    if (!this.stale) return;
    this.current = initialState(this.options.partition);
    this.commands.clear();
    this.ownTail = -1;
    await this.catchUp(true);
    this.stale = false;
    this.stats.rebuilds += 1;
    this.options.logger.info(
      { stream: this.stream, seq: this.state.seq },
      'ledger state rebuilt after a failed group',
    );
  }

  /**
   * Group commit: the queued commands `tasks` (each of one event, none a dry run) are
   * decided in order, each against the state the previous ones left (applied before their
   * append is acknowledged), and their events appended as one pipelined burst. A command that
   * cannot join (it makes several events or none, or it is refused on a state that was not read fresh
   * from the stream) ends the group and runs alone next. When the burst is cut short, the
   * commands whose events were stored are answered; the state is rebuilt and the others are
   * decided again, as a lost race of a single command is.
   */
  private async executeGroup(tasks: readonly CommandTask[]): Promise<void> {
    let skipped: boolean;
    try {
      await this.rebuildIfStale();
      skipped = await this.catchUp(false);
    } catch (error) {
      // Nothing decided yet: every command of the group gets the error, as each would alone.
      for (const task of tasks) task.reject(error);
      return;
    }
    const base = this.state.seq;
    const nowMs = this.now();
    /** What each decided task will be answered, once the burst's outcome is known; `at` = events before it. */
    const decided: Array<{ task: CommandTask; at: number; appended: boolean; answer: () => CommandOutcome }> =
      [];
    const messages: Array<OutgoingMessage & { eventId: string }> = [];
    const events: LedgerEventInput[] = [];
    let registryChecked = false;
    let registryError: unknown;
    for (const task of tasks) {
      const { request } = task;
      const { command, commandId } = request;
      const hash = this.commandHash(request);
      const known = this.commands.get(commandId);
      if (known !== undefined) {
        decided.push({
          task,
          at: events.length,
          appended: false,
          answer: () => this.repeat(commandId, known, hash),
        });
        continue;
      }
      if (needsRegistry(command) && !registryChecked) {
        registryChecked = true;
        registryError = await this.registry.catchUp().then(
          () => undefined,
          (error: unknown) =>
            new RegistryBehindError(`household facts unavailable: ${(error as Error).message}`),
        );
      }
      if (needsRegistry(command) && registryError !== undefined) {
        if (decided.length === 0 && events.length === 0) this.soloNext = true;
        break; // alone, it gets the error (or a tail that caught up meanwhile)
      }
      let ctx: DecideContext;
      try {
        ctx = await this.context(command);
      } catch {
        if (decided.length === 0) this.soloNext = true;
        break; // alone, it gets its error
      }
      const decision = decide(this.state, command, ctx);
      if (!decision.ok) {
        if (skipped) {
          if (decided.length === 0) this.soloNext = true;
          break; // a refusal must be decided on a state read fresh from the stream: alone
        }
        decided.push({ task, at: events.length, appended: false, answer: () => decision });
        continue;
      }
      if (decision.events.length !== 1) {
        if (decided.length === 0) this.soloNext = true;
        // Several events could be cut apart by a lost race; none (a bank result already recorded,
        // 0134) is answered by the lone path, which knows that case: alone.
        break;
      }
      const event = decision.events[0]!;
      const [message] = this.messages(request, hash, [event], 0, nowMs);
      const seq = base + events.length + 1;
      // Applied now so the next command of the group sees it; undone by a rebuild if the burst fails.
      evolve(this.state, event);
      this.state.seq = seq;
      this.remember(commandId, 0, message!.eventId, seq);
      messages.push(message!);
      events.push(event);
      decided.push({
        task,
        at: events.length - 1,
        appended: true,
        answer: () => this.resultFor(commandId),
      });
    }
    // The commands that could not join go back to the head of the queue, in order.
    const undecided = tasks.slice(decided.length);
    this.tasks.unshift(...undecided);
    if (messages.length === 0) {
      for (const d of decided) d.task.resolve(d.answer());
      return;
    }
    // A lost race, an unknown outcome or a duplicate: the state holds the group's events, so the
    // catch-up is a rebuild, done before the next command (rebuildIfStale).
    let moved: TailMoved | undefined;
    let failure: unknown;
    try {
      // (The rebuild before the next command reads at least as far as a lost race showed.)
      await this.appendAfter(base, messages, (m) => {
        moved = m;
      });
    } catch (error) {
      failure = error;
    }
    // Ours: the leading messages this instance stored where the state put them. A duplicate was
    // stored by another instance (a client sent the command to both) or by an attempt whose
    // outcome was unknown: decided again, it is found as a repeat after the rebuild.
    const stored = storedByUs(moved);
    const lostRace = moved !== undefined;
    if (failure === undefined && !lostRace) {
      this.ownTail = this.state.seq;
      this.stats.groups += 1;
      this.stats.groupedCommands += messages.length;
      this.options.afterAppend?.(events.map((event, i) => ({ seq: base + i + 1, event })));
      for (const d of decided) d.task.resolve(d.answer());
      return;
    }
    // The state holds all of the group's events, the stream only the first `stored`.
    this.stale = true;
    if (stored > 0)
      this.options.afterAppend?.(events.slice(0, stored).map((event, i) => ({ seq: base + i + 1, event })));
    // Answered: the commands whose event was stored, and refusals and repeats decided on stored
    // events only. The rest (a suffix) is decided again, or gets the error.
    const done = decided.filter((d) => (d.appended ? d.at < stored : d.at <= stored));
    const again = decided.slice(done.length);
    for (const d of done) d.task.resolve(d.answer());
    if (!lostRace) {
      for (const d of again) d.task.reject(failure);
      return;
    }
    this.contendedUntil = this.now() + contendedSoloMs;
    this.options.logger.info(
      { stream: this.stream, commands: again.length, stored },
      'group append race lost; deciding again',
    );
    const retry: CommandTask[] = [];
    for (const { task } of again) {
      task.racesLost += 1;
      if (task.racesLost >= appendRetriesMax) {
        task.reject(outOfTries(this.stream, moved?.cause, task.racesLost, task.request.commandId));
      } else retry.push(task);
    }
    this.tasks.splice(0, undecided.length, ...retry, ...undecided);
  }

  /**
   * Appends `messages` right after `base` (the group and the lone-command paths alike). A lost race
   * or an unknown outcome reaches `moved` after the tail the leader's answers showed is remembered,
   * so every catch-up from then on reads at least that far (decision 0122).
   */
  private appendAfter(
    base: number,
    messages: Parameters<typeof appendAtTail>[1]['messages'],
    moved: (m: TailMoved) => void | Promise<void>,
  ) {
    return appendAtTail(this.options.js, {
      stream: this.stream,
      messages,
      expectedLastSeq: base,
      catchUp: async (m) => {
        this.tailAtLeast = Math.max(this.tailAtLeast, m.lastSeqAtLeast);
        await moved(m);
      },
      inFlightMax: rosterInFlightMax,
      ...(this.nc === undefined ? {} : { connection: this.nc }),
    });
  }

  private resultFor(commandId: string): CommandOutcome {
    return { ok: true, result: this.resultOf(commandId, this.commands.get(commandId)!, false) };
  }

  private commandHash(request: CommandRequest): string {
    const { command } = request;
    // The content hash over the canonical wire form, written by a compiled encoder (a roster's
    // 50,000 rows through z.encode and the generic canonical writer took seconds).
    const wire = canonicalEncoder(commandSchemas[command.type])(command.data);
    return commandHashOfCanonicalData(this.options.partition, command.type, wire, request.occurredAt ?? null);
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
    const hash = this.commandHash(request);
    /** Events of this command the stream holds (by this instance or any other), as of the last catch-up. */
    let stored = 0;
    /** Whether this request stored any of them: then it is the original, not a repeat. */
    let storedHere = false;
    // A dry run reports what would be booked now: always on a state read fresh from the stream.
    let fresh = request.dryRun === true;
    // Unless NATS is away: then a dry run is decided on the state in memory (what this instance
    // last read and appended; nobody can append meanwhile), and says what would be booked.
    const offline = request.dryRun === true && this.options.natsAway?.() === true;
    /** The state was read from the stream just now (after a lost race): no catch-up needed. */
    let caughtUp = false;
    for (let attempt = 1; ; attempt++) {
      const skipped = offline || caughtUp ? false : await this.catchUp(fresh);
      caughtUp = false;
      const known = this.commands.get(commandId);
      invariant(
        stored === 0 || (known !== undefined && known.count >= stored),
        `command ${commandId}: ${stored} events stored, map says ${known?.count}`,
      );
      if (known !== undefined) {
        if (
          stored === 0 &&
          !storedHere &&
          (!this.resumable(command) || !firstEventMatches(known.firstEventId, hash))
        ) {
          return this.repeat(commandId, known, hash);
        }
        // A roster whose burst a crash or a lost race cut short: the stored prefix is a fact, the
        // rest is decided now (nothing left: the original result). The prefix is whatever the
        // stream holds, not only what this request stored: another instance sent the same command
        // by a retrying client may have stored more of it meanwhile.
        stored = known.count;
      }

      if (needsRegistry(command) && !offline) {
        await this.registry.catchUp().catch((error: unknown) => {
          throw new RegistryBehindError(`household facts unavailable: ${(error as Error).message}`);
        });
      }
      const ctx = await this.context(command);
      const decision = stored === 0 ? decide(this.state, command, ctx) : this.continuation(command, ctx);
      if (!decision.ok && skipped) {
        // Refused on a state not read from the stream just now: another instance may have booked
        // what makes it acceptable (funds received, a notice closed). Decide it again, fresh.
        fresh = true;
        attempt--;
        continue;
      }
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
      if (decision.events.length === 0 && known === undefined) {
        // Nothing to append and nothing appended before: a bank result already recorded as given
        // (decision 0134), by a 回盘 whose every row is, or by a single settlement or return keyed
        // again under another command id. The answer says so (eventCount 0); the id is not
        // remembered, as nothing was stored.
        return {
          ok: true,
          result: {
            commandId,
            duplicate: false,
            dryRun: false,
            eventCount: 0,
            firstSeq: null,
            lastSeq: null,
          },
        };
      }
      if (decision.events.length === 0) {
        return storedHere
          ? { ok: true, result: this.resultOf(commandId, known!, false) }
          : this.repeat(commandId, known!, hash);
      }

      const nowMs = this.now();
      const events = decision.events;
      const chunk = this.options.appendChunkEvents ?? appendChunkEvents;
      // Chunks already appended and applied in this attempt: on a lost race they are facts too.
      let done = 0;
      const appended: AppendedEvent[] = [];
      /** Set when a burst was not stored as sent: the state has been caught up from the stream. */
      let moved: TailMoved | undefined;
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
        const base = this.state.seq;
        // A lost race, an unknown outcome or duplicates: the state is caught up from the stream
        // (it holds only applied chunks, so a catch-up, not a rebuild) and the command decided again.
        const sending = this.appendAfter(base, messages, async (m) => {
          moved = m;
          await this.catchUp(true);
        });
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
        const result = await sending;
        if (result === 'retry') break;
        messages.forEach((message, i) => {
          const seq = result.stored[i]!.seq;
          // (The message is built only when it fails: 50,000 template strings per roster otherwise.)
          if (seq !== base + i + 1)
            invariant(false, `${this.stream}: event ${i} after ${base} stored at ${seq}`);
          const event = events[done + i]!;
          evolve(this.state, event);
          this.state.seq = seq;
          this.remember(commandId, stored + done + i, message.eventId, seq);
          appended.push({ seq, event });
        });
        done = nextFrom;
      }
      if (appended.length > 0) this.options.afterAppend?.(appended);
      if (moved === undefined) {
        this.ownTail = this.state.seq;
        return { ok: true, result: this.resultOf(commandId, this.commands.get(commandId)!, false) };
      }
      storedHere ||= done > 0 || storedByUs(moved) > 0;
      this.options.logger.info(
        { stream: this.stream, commandId, attempt, stored: this.commands.get(commandId)?.count ?? 0 },
        'append race lost; deciding again',
      );
      // The catch-up in appendAtTail read the stream: the next attempt decides on it.
      caughtUp = true;
      if (attempt >= appendRetriesMax) throw outOfTries(this.stream, moved.cause, attempt, commandId);
    }
  }

  /** A command id seen before: the same content gets the original result, other content is refused. */
  private repeat(commandId: string, known: CommandRecord, hash: string): CommandOutcome {
    if (!firstEventMatches(known.firstEventId, hash)) {
      return reject('idempotency_key_reused', { commandId }, { commandId, firstSeq: known.firstSeq });
    }
    return { ok: true, result: this.resultOf(commandId, known, true) };
  }

  /**
   * A repeat of a roster, or of a notice with its list (公示名单), may find it stored only in part:
   * the process that appended it died in the middle of the burst, and the client, which never got
   * an answer, sends it again.
   */
  private resumable(command: LedgerCommand): boolean {
    return (
      command.type === 'SubmitRoster' ||
      command.type === 'PublishNotice' ||
      command.type === 'RecordBankResults'
    );
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

  /** After a cut-short batch: a roster, a notice's list, a bank file or a year close spans several events. */
  private continuation(command: LedgerCommand, ctx: DecideContext): Decision {
    if (command.type === 'SubmitRoster') return decideRosterRemainder(this.state, command.data, ctx);
    if (command.type === 'PublishNotice') return decideNoticeRemainder(this.state, command.data);
    invariant(
      command.type === 'CloseFiscalYear' || command.type === 'RecordBankResults',
      `a ${command.type} cannot be stored in part`,
    );
    // The stored chunks consumed their tranches (a year close) or gave their payments their
    // results (a bank file, whose rows already recorded make no event): deciding again does the rest.
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
   * the same bytes as encodeEvent, several times faster on a roster. The encoding
   * itself is eventlog's commandMessages, which benches and tests call as well.
   */
  private messages(
    request: CommandRequest,
    hash: string,
    events: readonly LedgerEventInput[],
    startIndex: number,
    nowMs: number,
  ): Array<OutgoingMessage & { eventId: string }> {
    return commandMessages(this.encoderFor(request, nowMs), events, {
      nowMs,
      hash,
      versionOf: (type) => versions.get(type)!,
      startIndex,
      ns: this.options.ns,
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
}

export type { CommandType };
