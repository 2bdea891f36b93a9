import {
  appendAtTail,
  commandMessages,
  foldStreamTail,
  type Logger,
  openPartitionStream,
  SerialQueue,
} from '@fundtrace/eventlog';
import {
  type Actor,
  beijingDate,
  decodeEvent,
  type EventDefinition,
  eventBatchEncoder,
  registryEvents,
  streamName,
  utcTimestamp,
} from '@fundtrace/events';
import { householdKeyring, isDataKeyId, type Keyring } from '@fundtrace/pii';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { RegistryCommand } from '../households/commands';
import { type DecideContext, type Decision, decide, type RegistryEventDraft } from '../households/decide';
import { applyEvent } from '../households/evolve';
import { registryMessage } from '../households/rejection-messages';
import type { RegistryRejection } from '../households/rejections';
import {
  emptyRegistryState,
  type HouseholdState,
  type IdOwner,
  type RegistryState,
} from '../households/state';
import type { DataKeyStore, StoredDataKey } from '../keys/key-store';

/**
 * The single writer of one county's REGISTRY_<code> stream. It rebuilds its state from the stream
 * at start, decides each command against it, and appends with `Nats-Expected-Last-Sequence` and
 * `Nats-Msg-Id = <commandId>:<i>`. If another instance appended first (a deployment overlap), the
 * append fails, the writer reads the tail it missed and decides again, a bounded number of times.
 */

/**
 * How often one command is re-decided after losing an append race or an unknown outcome. Each
 * retry first reads the tail it missed, so a second loss in a row already means another live
 * writer; five leaves room for a burst during a rolling deployment and then gives up loudly.
 */
export const appendRetriesMax = 5;

/**
 * Events per pipelined append during an import. 2,000 events are about 5 MB of encoded bytes in
 * flight and one progress step; a failure in a batch re-reads at most this many events.
 */
export const importBatchEventsMax = 2_000;

export interface CommandMeta {
  readonly commandId: string;
  readonly digest: string;
  readonly actor: Actor;
  /** Business time of the command (RFC 3339). */
  readonly occurredAt: string;
  readonly correlationId: string;
}

export type ExecuteResult =
  | {
      readonly ok: true;
      /** True when the command had already been appended: this is its original result. */
      readonly duplicate: boolean;
      readonly firstSeq: number | null;
      readonly lastSeq: number | null;
      readonly events: number;
    }
  | { readonly ok: false; readonly rejection: RegistryRejection };

export interface RegistryWriterOptions {
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly partition: string;
  readonly ns: string;
  /** Replicas the REGISTRY stream is created with or must have (STREAM_REPLICAS); default 1. */
  readonly replicas?: number;
  readonly keyring: Keyring;
  /** The household data keys (decision 0042), outside the log. */
  readonly keys: DataKeyStore;
  readonly logger: Logger;
  /** Wall clock for `recordedAt` and event ids; never used to decide. */
  readonly now?: () => number;
}

/** Registry definitions by type, widened: a draft's type picks its definition at run time. */
const registryDefinitions: ReadonlyMap<string, EventDefinition> = new Map(
  registryEvents.map((d) => [d.type, d as unknown as EventDefinition]),
);

export class RegistryWriter {
  readonly state: RegistryState;
  readonly stream: string;
  /**
   * The highest sequence an append's answer showed the stream holds: catch-ups read at least that
   * far, whatever a stale stream info (an R3 replica that just restarted) says (decision 0122).
   */
  private tailAtLeast = 0;
  private readonly mutex = new SerialQueue();
  private readonly now: () => number;

  private constructor(private readonly options: RegistryWriterOptions) {
    this.state = emptyRegistryState(options.partition);
    this.stream = streamName('registry', options.partition, options.ns);
    this.now = options.now ?? Date.now;
  }

  /** Ensures the stream exists (verifying its settings) and rebuilds the state from it. */
  static async open(options: RegistryWriterOptions): Promise<RegistryWriter> {
    await openPartitionStream(options.jsm, {
      partition: options.partition,
      context: 'registry',
      ns: options.ns,
      replicas: options.replicas,
    });
    const writer = new RegistryWriter(options);
    await writer.catchUp();
    await writer.completeErasures();
    options.logger.info(
      {
        partition: options.partition,
        lastSeq: writer.state.lastSeq,
        households: writer.state.households.size,
      },
      'registry state rebuilt',
    );
    return writer;
  }

  get partition(): string {
    return this.options.partition;
  }

  get keyring(): Keyring {
    return this.options.keyring;
  }

  get logger(): Logger {
    return this.options.logger;
  }

  /** Runs `task` with the county to itself (no command can interleave). */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    return this.mutex.run(task);
  }

  /** Reads and folds whatever the stream holds beyond our state. */
  async catchUp(): Promise<void> {
    await foldStreamTail(this.options.js, {
      stream: this.stream,
      afterSeq: this.state.lastSeq,
      atLeastSeq: this.tailAtLeast,
      knows: (type) => registryDefinitions.has(type),
      fold: ({ seq, event }) =>
        applyEvent(this.state, {
          seq,
          commandId: event.commandId,
          event: { type: event.type, data: event.data } as RegistryEventDraft,
        }),
    });
  }

  /** Reads one stored event back (a reveal decrypts the fields it holds). */
  async readEvent(seq: number): Promise<RegistryEventDraft> {
    const message = await this.options.jsm.streams.getMessage(this.stream, { seq });
    if (message === null) throw new Error(`invariant: ${this.stream} has no message at ${seq}`);
    const event = decodeEvent(message.data);
    return { type: event.type, data: event.data } as RegistryEventDraft;
  }

  get keys(): DataKeyStore {
    return this.options.keys;
  }

  /**
   * An erasure destroys the key before its event is appended; a crash in between leaves the key
   * destroyed and the command to be retried. The other way round (an erasure in the log whose key
   * is still live: a key store restored from a backup) is repaired here, at every start.
   */
  private async completeErasures(): Promise<void> {
    let destroyed = 0;
    for (const household of this.state.households.values()) {
      if (household.erasedOn === null || !isDataKeyId(household.keyId)) continue;
      const outcome = await this.keys.destroy(
        household.keyId,
        'registry-api',
        `erased in the log on ${household.erasedOn}; key found live at start (restored key store?)`,
      );
      if (outcome === 'destroyed') destroyed++;
    }
    if (destroyed > 0) {
      this.options.logger.warn(
        { partition: this.partition, destroyed },
        'data keys of erased households were live (a restored key store?) and are destroyed again',
      );
    }
  }

  /**
   * The keyring a household's new fields are sealed with: its own data key, created on first use.
   * A household registered before data keys keeps its period key (mixing would make an erasure
   * partial); an erased one gets nothing new (the decider refuses it).
   */
  async sealingKeyrings(
    households: readonly { readonly householdId: string; readonly existing: HouseholdState | undefined }[],
  ): Promise<Map<string, Keyring>> {
    const rings = new Map<string, Keyring>();
    const unregistered: string[] = [];
    for (const { householdId, existing } of households) {
      if (existing === undefined) unregistered.push(householdId);
      else if (!isDataKeyId(existing.keyId) || existing.erasedOn !== null)
        rings.set(householdId, this.keyring);
      else {
        // Registered under its data key: that very key, never a new one (a mix would make an erasure partial).
        rings.set(
          householdId,
          this.liveRing(householdId, await this.keys.dataKey(existing.keyId), existing.keyId),
        );
      }
    }
    const created = await this.keys.keysFor(this.partition, unregistered);
    for (const householdId of unregistered) {
      rings.set(householdId, this.liveRing(householdId, created.get(householdId), undefined));
    }
    return rings;
  }

  private liveRing(
    householdId: string,
    key: StoredDataKey | undefined,
    expected: string | undefined,
  ): Keyring {
    if (key === undefined) {
      throw new Error(
        `the key store has no data key ${expected ?? ''} for household ${householdId}: was it restored from an incomplete backup?`,
      );
    }
    if (key.state !== 'live') {
      throw new Error(
        `the data key of household ${householdId} is destroyed but the log records no erasure: retry the erasure command`,
      );
    }
    return householdKeyring(this.keyring, key.dataKeyId, key.key);
  }

  /** The keyring that opens a household's fields: with its data key while that key lives. */
  async openingKeyring(household: HouseholdState): Promise<Keyring> {
    if (!isDataKeyId(household.keyId)) return this.keyring;
    const key = await this.keys.dataKey(household.keyId);
    return key?.state === 'live' ? householdKeyring(this.keyring, key.dataKeyId, key.key) : this.keyring;
  }

  context(
    meta: Pick<CommandMeta, 'commandId' | 'digest'>,
    pending?: ReadonlyMap<string, IdOwner>,
    sealWith?: Keyring,
  ): DecideContext {
    return {
      partition: this.partition,
      keyring: sealWith ?? this.keyring,
      commandId: meta.commandId,
      commandDigest: meta.digest,
      idOwner: (hash) => this.state.idIndex.get(hash) ?? pending?.get(hash),
      today: beijingDate(this.now()),
    };
  }

  /** Decides and appends one command, idempotently (see the class comment). */
  execute(command: RegistryCommand, meta: CommandMeta): Promise<ExecuteResult> {
    return this.mutex.run(() => this.executeLocked(command, meta));
  }

  private async executeLocked(command: RegistryCommand, meta: CommandMeta): Promise<ExecuteResult> {
    for (let attempt = 0; attempt <= appendRetriesMax; attempt++) {
      const record = this.state.commands.get(meta.commandId);
      if (record !== undefined) {
        if (record.digest !== meta.digest) return idempotencyKeyReused(meta.commandId);
        // Only a registration can have been cut short (it is up to three events); it completes.
        if (command.kind !== 'register') {
          return {
            ok: true,
            duplicate: true,
            firstSeq: record.firstSeq,
            lastSeq: record.lastSeq,
            events: record.events,
          };
        }
      }
      const householdId = command.kind === 'register' ? command.household.householdId : command.householdId;
      const household = this.state.households.get(householdId);
      let sealWith: Keyring | undefined;
      if (sealsPersonalData(command)) {
        if (command.kind === 'register') {
          // Checked first, so a refused registration creates no key.
          const check = decide(command, household, { ...this.context(meta), validateOnly: true });
          if (!check.ok) return check;
        }
        sealWith = (await this.sealingKeyrings([{ householdId, existing: household }])).get(householdId);
      }
      const decision: Decision = decide(command, household, this.context(meta, undefined, sealWith));
      if (!decision.ok) return decision;
      await this.destroyErasedKeys(decision.events, meta);
      if (decision.events.length === 0) {
        const done = this.state.commands.get(meta.commandId)!;
        return {
          ok: true,
          duplicate: true,
          firstSeq: done.firstSeq,
          lastSeq: done.lastSeq,
          events: done.events,
        };
      }
      const outcome = await this.appendDrafts(decision.events, meta, record?.events ?? 0);
      if (outcome === 'retry') {
        this.options.logger.warn(
          { partition: this.partition, commandId: meta.commandId, attempt },
          'append raced; caught up and deciding again',
        );
        continue;
      }
      const done = this.state.commands.get(meta.commandId)!;
      return {
        ok: true,
        duplicate: record !== undefined,
        firstSeq: outcome.firstSeq,
        lastSeq: outcome.lastSeq,
        events: done.events,
      };
    }
    throw new Error(
      `append to ${this.stream} lost ${appendRetriesMax + 1} races in a row: is a second writer running?`,
    );
  }

  /**
   * An erasure's key is destroyed before its event is appended: if the append then fails, the
   * retried command finds the key already destroyed and appends the event; the data is never
   * readable again after the command was accepted.
   */
  private async destroyErasedKeys(drafts: readonly RegistryEventDraft[], meta: CommandMeta): Promise<void> {
    for (const draft of drafts) {
      if (draft.type !== 'HouseholdPersonalDataErased') continue;
      const outcome = await this.keys.destroy(draft.data.dataKeyId, meta.actor.userId, draft.data.reason);
      this.options.logger.info(
        {
          partition: this.partition,
          householdId: draft.data.householdId,
          dataKeyId: draft.data.dataKeyId,
          outcome,
        },
        'household data key destroyed',
      );
    }
  }

  /**
   * Appends drafts as one pipelined batch expecting our last sequence, and folds them on success.
   * On a lost race or an unknown outcome it reads the tail (which may hold some of ours) and
   * answers `retry`: the caller decides again against the caught-up state.
   */
  async appendDrafts(
    drafts: readonly RegistryEventDraft[],
    meta: CommandMeta,
    firstIndex: number,
  ): Promise<{ firstSeq: number; lastSeq: number } | 'retry'> {
    const nowMs = this.now();
    for (const draft of drafts) {
      if (!registryDefinitions.has(draft.type))
        throw new Error(`invariant: ${draft.type} is no registry event`);
    }
    // eventlog's commandMessages, as every writer builds its messages: one batch encoder checks the
    // command's envelope head once and writes each draft's canonical bytes from its compiled schema.
    // Event ids are fresh (no hash): a repeat is recognised by the digest the events carry.
    const encoder = eventBatchEncoder({
      partition: this.partition,
      occurredAt: meta.occurredAt,
      recordedAt: utcTimestamp(nowMs),
      actor: meta.actor,
      commandId: meta.commandId,
      correlationId: meta.correlationId,
    });
    const messages = commandMessages(encoder, drafts, {
      nowMs,
      hash: null,
      versionOf: (type) => registryDefinitions.get(type)!.version,
      startIndex: firstIndex,
      ns: this.options.ns,
    });
    const expectedLastSeq = this.state.lastSeq;
    // A lost race, an unknown outcome, or some of these stored by a previous attempt within the
    // duplicate window: appendAtTail has read what is there, and the caller decides again.
    const result = await appendAtTail(this.options.js, {
      stream: this.stream,
      messages,
      expectedLastSeq,
      catchUp: (moved) => {
        this.tailAtLeast = Math.max(this.tailAtLeast, moved.lastSeqAtLeast);
        return this.catchUp();
      },
    });
    if (result === 'retry') return 'retry';
    drafts.forEach((event, i) => {
      applyEvent(this.state, { seq: expectedLastSeq + i + 1, commandId: meta.commandId, event });
    });
    return { firstSeq: expectedLastSeq + 1, lastSeq: result.lastSeq };
  }
}

/** Commands whose events carry newly sealed personal fields. */
function sealsPersonalData(command: RegistryCommand): boolean {
  return command.kind === 'register' || command.kind === 'add_member' || command.kind === 'bind_account';
}

function idempotencyKeyReused(commandId: string): ExecuteResult {
  const message = registryMessage('idempotency_key_reused', { commandId });
  return {
    ok: false,
    rejection: {
      code: 'idempotency_key_reused',
      message,
      problems: [{ code: 'idempotency_key_reused', message }],
    },
  };
}
