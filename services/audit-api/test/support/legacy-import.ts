import { createHash } from 'node:crypto';
import {
  appendBatch,
  ensurePartitionStreams,
  lastSequence,
  type OutgoingMessage,
  readStreamRaw,
} from '@fundtrace/eventlog';
import {
  type Actor,
  type Context,
  createEvent,
  type EventData,
  type EventType,
  encodeEvent,
  latestDefinition,
  messageId,
  newEventId,
  parseStreamName,
  streamName,
  subjectFor,
  utcTimestamp,
} from '@fundtrace/events';
import { checkpointOrigin, hashLeaf, type NoteSigner } from '@fundtrace/merkle';
import { appendToTree, type Queryable, readTreeHead, signTreeHead } from '@fundtrace/merkle/pg';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';

/**
 * Appends valid events straight to a test namespace's streams, the way an import of legacy books
 * would (same schemas, canonical encoding, subjects, `<commandId>:<index>` ids and OCC appends as
 * the writers), including books the writers would refuse today: data that predates the write rules
 * is exactly what the warning rules exist for.
 */
const actors: Readonly<Record<Context, Actor>> = {
  ledger: { userId: 'import-ledger', role: 'finance', org: '内乡县财政局 (历史数据导入)' },
  registry: { userId: 'import-registry', role: 'registry', org: '内乡县扶贫办 (历史数据导入)' },
  audit: { userId: 'import-audit', role: 'system', org: 'import' },
};

export class LegacyImport {
  private readonly queued = new Map<string, OutgoingMessage[]>();
  private counter = 0;

  constructor(
    private readonly nc: NatsConnection,
    readonly ns: string,
  ) {}

  add<T extends EventType>(partition: string, type: T, data: EventData<T>, day: string): this {
    const definition = latestDefinition(type);
    const now = Date.parse(`${day}T02:00:00Z`);
    const commandId = `import-${createHash('sha256')
      .update(`${partition}:${this.counter++}`)
      .digest('hex')
      .slice(0, 16)}`;
    const event = createEvent(definition as never, {
      id: newEventId(now),
      partition,
      data,
      actor: actors[definition.context],
      commandId,
      correlationId: 'legacy-import-2019',
      occurredAt: `${day}T10:00:00+08:00`,
      recordedAt: utcTimestamp(now),
    });
    const stream = streamName(definition.context, partition, this.ns);
    const list = this.queued.get(stream) ?? [];
    list.push({
      subject: subjectFor(event as never, this.ns),
      bytes: encodeEvent(event as never),
      msgId: messageId(commandId, 0),
    });
    this.queued.set(stream, list);
    return this;
  }

  /** Appends everything queued (OCC against each stream's tail); returns each stream's last sequence. */
  async flush(): Promise<Map<string, number>> {
    const js = jetstream(this.nc);
    const jsm = await jetstreamManager(this.nc);
    const tails = new Map<string, number>();
    for (const [stream, messages] of this.queued) {
      const ref = parseStreamName(stream)!;
      await ensurePartitionStreams(jsm, { partition: ref.partition, ns: this.ns });
      const result = await appendBatch(js, {
        stream,
        messages,
        expectedLastSeq: await lastSequence(jsm, stream),
      });
      tails.set(stream, result.lastSeq);
    }
    this.queued.clear();
    return tails;
  }
}

/**
 * What the log-keeper does for a stream, done in the test process (a test may not start another
 * service): hash every stored message into the stream's Merkle tree in PostgreSQL and sign a
 * checkpoint, through @fundtrace/merkle's own functions.
 */
export async function keepLog(
  nc: NatsConnection,
  db: Queryable,
  ns: string,
  streams: readonly string[],
  signer: NoteSigner,
): Promise<void> {
  const js = jetstream(nc);
  for (const logical of streams) {
    const ref = parseStreamName(logical)!;
    const natsStream = streamName(ref.context, ref.partition, ns);
    const head = await readTreeHead(db, natsStream);
    const leaves: Uint8Array[] = [];
    for await (const m of readStreamRaw(js, { stream: natsStream, fromSeq: head.size + 1 }))
      leaves.push(hashLeaf(m.bytes));
    if (leaves.length > 0) {
      await db.transaction().execute((trx: Queryable) => appendToTree(trx, natsStream, head.size, leaves));
    }
    await db.transaction().execute((trx: Queryable) =>
      signTreeHead(trx, {
        stream: natsStream,
        origin: checkpointOrigin('fundtrace.test', logical),
        signer,
      }),
    );
  }
}
