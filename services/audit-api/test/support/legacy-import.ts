import { createHash } from 'node:crypto';
import { readStreamRaw } from '@fundtrace/eventlog';
import { type EventData, type EventType, parseStreamName, streamName } from '@fundtrace/events';
import { checkpointOrigin, hashLeaf, type NoteSigner } from '@fundtrace/merkle';
import { appendToTree, type Queryable, readTreeHead, signTreeHead } from '@fundtrace/merkle/pg';
import { EventFixture, type FixtureActors } from '@fundtrace/testkit';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';

/**
 * Appends valid events straight to a test namespace's streams, the way an import of legacy books
 * would (testkit's EventFixture: the writers' schemas, encoding, subjects, ids and OCC appends),
 * including books the writers would refuse today: data that predates the write rules is exactly
 * what the warning rules exist for. Each event is its own command, dated on its business day.
 */
const actors: FixtureActors = {
  ledger: { userId: 'import-ledger', role: 'finance', org: '内乡县财政局 (历史数据导入)' },
  registry: { userId: 'import-registry', role: 'registry', org: '内乡县扶贫办 (历史数据导入)' },
  audit: { userId: 'import-audit', role: 'system', org: 'import' },
};

export class LegacyImport {
  private readonly fixture: EventFixture;
  private counter = 0;

  constructor(
    nc: NatsConnection,
    readonly ns: string,
  ) {
    this.fixture = new EventFixture(nc, ns, actors);
  }

  add<T extends EventType>(partition: string, type: T, data: EventData<T>, day: string): this {
    const commandId = `import-${createHash('sha256')
      .update(`${partition}:${this.counter++}`)
      .digest('hex')
      .slice(0, 16)}`;
    this.fixture.add(partition, type, data, {
      commandId,
      correlationId: 'legacy-import-2019',
      occurredAt: `${day}T10:00:00+08:00`,
      recordedAtMs: Date.parse(`${day}T02:00:00Z`),
    });
    return this;
  }

  /** Appends everything queued (OCC against each stream's tail); returns each stream's last sequence. */
  flush(): Promise<Map<string, number>> {
    return this.fixture.flush();
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
