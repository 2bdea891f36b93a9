import {
  appendAtTail,
  commandHash,
  commandMessages,
  firstEventMatches,
  foldStreamTail,
  type Logger,
  type OutgoingMessage,
  openPartitionStream,
  parseMessageId,
  SerialQueue,
} from '@fundtrace/eventlog';
import {
  type Actor,
  auditEvents,
  type EventDefinition,
  eventBatchEncoder,
  latestDefinition,
  streamName,
  utcTimestamp,
} from '@fundtrace/events';
import type { RaisedFinding } from '@fundtrace/rules';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { z } from 'zod';
import {
  type AuditEventInput,
  type AuditState,
  type Decision,
  decide,
  evolve,
  type FindingCommand,
  type FindingRejectionCode,
  initialAuditState,
} from './decide';

/**
 * How many times a command is decided again after losing an append race. Each loss means another
 * instance appended in between (a rolling deployment overlap); after five in a row something is
 * wrong, and the caller gets an error instead of a silent loop.
 */
export const appendRetriesMax = 5;

/** Findings appended per pipelined burst by the rule runner: a whole county's first run is a few bursts. */
export const raiseBatchMax = 2_000;

/** The latest definition of each audit event type (FindingReviewed is v2): what the writer appends. */
const definitions: ReadonlyMap<string, EventDefinition> = new Map(
  auditEvents.map((d) => [d.type, latestDefinition(d.type) as unknown as EventDefinition]),
);

/** The event each inspector's step appends: its schema encodes the command for the content hash. */
const stepEvents: Readonly<Record<StepRequest['command']['type'], string>> = {
  ReviewFinding: 'FindingReviewed',
  TraceFinding: 'FindingTraced',
  RectifyFinding: 'FindingRectified',
  CloseFinding: 'FindingClosed',
  ReopenFinding: 'FindingReopened',
};

export interface StepRequest {
  readonly commandId: string;
  readonly correlationId?: string | undefined;
  readonly actor: Actor;
  readonly command: Exclude<FindingCommand, { type: 'RaiseFinding' }>;
}

export type StepOutcome =
  | { readonly ok: true; readonly duplicate: boolean; readonly seq: number }
  | {
      readonly ok: false;
      readonly code: FindingRejectionCode;
      readonly message: string;
      readonly details: Record<string, unknown>;
    };

export interface RaiseResult {
  readonly raised: readonly { readonly findingId: string; readonly seq: number }[];
  /** Findings the stream already held: a re-run of the same rule version over the same data. */
  readonly known: readonly string[];
}

/** A message to append with the event it holds, folded into the state once stored. */
type AuditMessage = OutgoingMessage & { readonly eventId: string; readonly event: AuditEventInput };

interface CommandRecord {
  readonly firstEventId: string;
  readonly seq: number;
}

export interface AuditWriterOptions {
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly partition: string;
  readonly ns: string;
  /** Replicas the AUDIT stream is created with or must have (STREAM_REPLICAS); default 1. */
  readonly replicas?: number;
  readonly logger: Logger;
  /** Wall clock for `recordedAt`, `occurredAt` and event ids; never used to decide. */
  readonly now?: () => number;
}

/**
 * The single writer of one partition's AUDIT_<code> stream: state rebuilt from the stream, each
 * command decided against it (decide/evolve in ./decide), appended with the expected last sequence
 * and `Nats-Msg-Id = <commandId>:0`; a lost race catches up and decides again. Idempotency survives
 * restarts the way ledger-api's does: the content hash is folded into the event id
 * (@fundtrace/eventlog command identity), so a repeated command id with other content is refused.
 */
export class AuditWriter {
  readonly state: AuditState;
  readonly stream: string;
  /**
   * The highest sequence an append's answer showed the stream holds: catch-ups read at least that
   * far, whatever a stale stream info (an R3 replica that just restarted) says (decision 0122).
   */
  private tailAtLeast = 0;
  private seq = 0;
  private readonly commands = new Map<string, CommandRecord>();
  private readonly queue = new SerialQueue();
  private readonly now: () => number;

  private constructor(private readonly options: AuditWriterOptions) {
    this.state = initialAuditState(options.partition);
    this.stream = streamName('audit', options.partition, options.ns);
    this.now = options.now ?? Date.now;
  }

  static async open(options: AuditWriterOptions): Promise<AuditWriter> {
    await openPartitionStream(options.jsm, {
      partition: options.partition,
      context: 'audit',
      ns: options.ns,
      replicas: options.replicas,
    });
    const writer = new AuditWriter(options);
    await writer.catchUp();
    options.logger.info(
      { stream: writer.stream, seq: writer.seq, findings: writer.state.findings.size },
      'audit state rebuilt',
    );
    return writer;
  }

  get partition(): string {
    return this.options.partition;
  }

  get lastSeq(): number {
    return this.seq;
  }

  /** Folds whatever the stream holds beyond our state (appended by us or another instance). */
  private async catchUp(): Promise<void> {
    await foldStreamTail(this.options.js, {
      stream: this.stream,
      afterSeq: this.seq,
      atLeastSeq: this.tailAtLeast,
      knows: (type) => definitions.has(type),
      fold: (m) => {
        if (m.seq !== this.seq + 1)
          throw new Error(`invariant: ${this.stream} read ${m.seq} after ${this.seq}`);
        const event = m.event;
        // An operator's quarantine (`fundtrace quarantine`) shares the AUDIT stream but is no finding.
        if (event.type !== 'EventQuarantined')
          evolve(this.state, { type: event.type, data: event.data } as AuditEventInput);
        this.seq = m.seq;
        const parsed = m.msgId === undefined ? null : parseMessageId(m.msgId);
        if (parsed === null)
          throw new Error(`invariant: ${this.stream} message ${m.seq} has no <commandId>:<index> id`);
        if (!this.commands.has(parsed.commandId)) {
          this.commands.set(parsed.commandId, { firstEventId: event.id, seq: m.seq });
        }
      },
    });
  }

  /** An inspector's step on a finding, idempotent by command id. */
  step(request: StepRequest): Promise<StepOutcome> {
    return this.queue.run(() => this.stepNow(request));
  }

  /** Raises the findings the stream does not hold yet, as one pipelined burst per batch. */
  raise(findings: readonly RaisedFinding[], actor: Actor, correlationId: string): Promise<RaiseResult> {
    return this.queue.run(() => this.raiseNow(findings, actor, correlationId));
  }

  /** Runs `read` between commands, never in the middle of one. */
  read<T>(read: (state: AuditState) => T): Promise<T> {
    return this.queue.run(async () => read(this.state));
  }

  private hashOf(type: string, data: unknown): string {
    const definition = definitions.get(type)!;
    const wire = z.encode(definition.data as z.ZodType, data as never);
    return commandHash(this.options.partition, type, wire, null);
  }

  private async stepNow(request: StepRequest): Promise<StepOutcome> {
    const hash = this.hashOf(stepEvents[request.command.type], request.command.data);
    for (let attempt = 1; ; attempt++) {
      await this.catchUp();
      const known = this.commands.get(request.commandId);
      if (known !== undefined) {
        if (!firstEventMatches(known.firstEventId, hash)) {
          return {
            ok: false,
            code: 'idempotency_key_reused',
            message: `Command id ${request.commandId} was already used for a different command; generate a new id.`,
            details: { commandId: request.commandId, seq: known.seq },
          };
        }
        return { ok: true, duplicate: true, seq: known.seq };
      }
      const decision: Decision = decide(this.state, request.command);
      if (!decision.ok) return decision;
      const [message] = this.messages(
        [{ event: decision.event, commandId: request.commandId, hash }],
        request.actor,
        request.correlationId ?? request.commandId,
      );
      const stored = await this.append([message!], attempt);
      if (stored === 'retry') continue;
      return { ok: true, duplicate: false, seq: stored[0]! };
    }
  }

  private async raiseNow(
    findings: readonly RaisedFinding[],
    actor: Actor,
    correlationId: string,
  ): Promise<RaiseResult> {
    const raised: { findingId: string; seq: number }[] = [];
    for (let attempt = 1; ; attempt++) {
      await this.catchUp();
      const fresh: { event: AuditEventInput; commandId: string; hash: string; findingId: string }[] = [];
      for (const finding of findings) {
        const decision = decide(this.state, { type: 'RaiseFinding', finding });
        if (!decision.ok) continue; // already raised: a re-run of the same rule version
        fresh.push({
          event: decision.event,
          commandId: `raise-${finding.findingId}`,
          hash: this.hashOf('FindingRaised', decision.event.data),
          findingId: finding.findingId,
        });
        if (fresh.length === raiseBatchMax) break;
      }
      if (fresh.length === 0) {
        const mine = new Set(raised.map((r) => r.findingId));
        return { raised, known: findings.map((f) => f.findingId).filter((id) => !mine.has(id)) };
      }
      const messages = this.messages(fresh, actor, correlationId);
      const stored = await this.append(messages, attempt);
      if (stored === 'retry') continue;
      fresh.forEach((f, i) => {
        raised.push({ findingId: f.findingId, seq: stored[i]! });
      });
      // More findings than one batch: loop for the next batch (the state now holds these).
      attempt = 0;
    }
  }

  /**
   * One message a command (each finding raised is its own command, `raise-<findingId>`), built by
   * eventlog's commandMessages as every writer builds them: the event id from the command's hash,
   * `Nats-Msg-Id = <commandId>:0`, the time both business and recorded time.
   */
  private messages(
    items: readonly { event: AuditEventInput; commandId: string; hash: string }[],
    actor: Actor,
    correlationId: string,
  ): AuditMessage[] {
    const nowMs = this.now();
    const at = utcTimestamp(nowMs);
    return items.map((item) => {
      const head = {
        partition: this.options.partition,
        occurredAt: at,
        recordedAt: at,
        actor,
        commandId: item.commandId,
        correlationId,
      };
      const [message] = commandMessages(eventBatchEncoder(head), [item.event], {
        nowMs,
        hash: item.hash,
        versionOf: (type) => definitions.get(type)!.version,
        ns: this.options.ns,
      });
      return { ...message!, event: item.event };
    });
  }

  /**
   * Appends at our last sequence and folds the events on success. A lost race or an unknown
   * outcome catches up (the tail may hold some of ours, as duplicates) and answers `retry`.
   */
  private async append(messages: readonly AuditMessage[], attempt: number): Promise<number[] | 'retry'> {
    const result = await appendAtTail(this.options.js, {
      stream: this.stream,
      messages,
      expectedLastSeq: this.seq,
      catchUp: (moved) => {
        this.tailAtLeast = Math.max(this.tailAtLeast, moved.lastSeqAtLeast);
        return this.catchUp();
      },
    });
    if (result === 'retry') {
      this.options.logger.warn(
        { stream: this.stream, attempt },
        'audit append raced or was stored before; caught up, deciding again',
      );
      return this.retryOrFail(attempt);
    }
    messages.forEach((m, i) => {
      const seq = result.stored[i]!.seq;
      if (seq !== this.seq + 1)
        throw new Error(`invariant: ${this.stream} stored at ${seq} after ${this.seq}`);
      evolve(this.state, m.event);
      this.seq = seq;
      this.commands.set(parseMessageId(m.msgId)!.commandId, { firstEventId: m.eventId, seq });
    });
    return result.stored.map((s) => s.seq);
  }

  private retryOrFail(attempt: number): 'retry' {
    if (attempt >= appendRetriesMax) {
      throw new Error(`${this.stream}: lost ${attempt} append races in a row; is a second writer running?`);
    }
    return 'retry';
  }
}
