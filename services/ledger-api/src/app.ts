import { connectionOf, openPartitionStream } from '@fundtrace/eventlog';
import { type App, createApp, natsPlugin, signToken } from '@fundtrace/service-kit';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { LedgerConfig } from './config';
import { loadReference, type Reference } from './reference/programmes';
import { registerCommandRoutes } from './routes/commands';
import { registerQueryRoutes } from './routes/queries';
import type { Writers } from './routes/shared';
import { type AppendedEvent, LedgerWriter } from './writer/writer';

export const serviceName = 'ledger-api';
export const serviceVersion = '0.1.0';

/** Lifetime of the token ledger-api signs for itself to ask the log-keeper for checkpoints. */
const checkpointTokenTtlSeconds = 3600;

export interface LedgerAppDeps {
  /** A JetStream connection to use (tests); default: the service-kit NATS plugin on NATS_URL. */
  readonly nats?: { readonly js: JetStreamClient; readonly jsm: JetStreamManager };
  /** Milliseconds since the epoch (tests pin it). */
  readonly now?: () => number;
  /**
   * The connection the writers publish their appends on (decision 0035); default: the one under
   * `js`. Tests pass one that loses publishes, as a connection dying under each append would.
   */
  readonly appendConnection?: NatsConnection;
  readonly reference?: Reference;
  /** Called for notices published (default: ask LOG_KEEPER_URL for a checkpoint, best effort). */
  readonly onNoticePublished?: (partition: string, seq: number) => void;
}

/**
 * Builds the app (no listen: tests use inject) with one writer per configured
 * partition, each rebuilt from its stream before the app answers.
 */
export async function buildApp(
  config: LedgerConfig,
  deps: LedgerAppDeps = {},
  logger?: Logger,
): Promise<{ app: App; writers: Writers }> {
  const app = await createApp({
    name: serviceName,
    version: serviceVersion,
    description:
      'The finance bureau’s write path: the single writer of each partition’s LEDGER stream. Every command carries a client-generated commandId; money is a string of digits in fen.',
    auth: { secret: config.JWT_SECRET },
    logLevel: config.LOG_LEVEL,
    ...(logger ? { logger } : {}),
  });
  if (!deps.nats) await app.register(natsPlugin, { url: config.NATS_URL, name: serviceName });
  const { js, jsm } = deps.nats ?? { js: app.js, jsm: app.jsm };
  const nc = deps.nats ? connectionOf(js) : app.nats;
  const natsAway = nc === undefined ? () => false : connectionWatch(nc);
  const reference = deps.reference ?? loadReference(config.LEDGER_PROGRAMMES_FILE);
  const onNotice = deps.onNoticePublished ?? checkpointRequester(config, app);
  const writers = new Map<string, LedgerWriter>();
  for (const partition of config.LEDGER_PARTITIONS) {
    const writer = new LedgerWriter({
      js,
      jsm,
      partition,
      ns: config.FUNDTRACE_NAMESPACE,
      reference,
      logger: app.log as never,
      ...(deps.now ? { now: deps.now } : {}),
      ...(deps.appendConnection ? { nc: deps.appendConnection } : {}),
      natsAway,
      afterAppend: (events: readonly AppendedEvent[]) => {
        const notice = events.findLast((e) => e.event.type === 'NoticePublished');
        if (notice) onNotice(partition, notice.seq);
      },
    });
    writers.set(partition, writer);
  }
  app.readiness.add('ledger_writers', async () => {
    for (const w of writers.values()) await w.registry.catchUp();
  });
  app.addHook('onClose', async () => {
    await Promise.all([...writers.values()].map((w) => w.stop()));
  });
  registerCommandRoutes(app, writers);
  registerQueryRoutes(app, writers);
  return { app, writers };
}

/** Whether the connection is down now (between a disconnect and the reconnect, or closed). */
function connectionWatch(nc: NatsConnection): () => boolean {
  let away = false;
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') away = true;
      else if (status.type === 'reconnect') away = false;
    }
  })();
  return () => away || nc.isClosed();
}

/**
 * Starts every writer: make sure its streams exist (same settings as every
 * other writer; a mismatch stops the start), rebuild from the stream, then
 * tail the registry.
 */
export async function startWriters(
  writers: Writers,
  jsm: JetStreamManager,
  ns: string,
  replicas = 1,
): Promise<void> {
  for (const [partition, writer] of writers) {
    await openPartitionStream(jsm, { partition, context: 'ledger', reads: ['registry'], ns, replicas });
    await writer.start();
  }
}

/** The stream a notice's checkpoint is asked for, as the log-keeper's API spells it: `LEDGER_<code>`. */
export function checkpointStreamFor(partition: string): string {
  return `LEDGER_${partition}`;
}

/**
 * The log-keeper signs a checkpoint whenever a notice is published, so the
 * notice board can print the tree head the notice was generated from. Best
 * effort: a notice is valid without it, and the keeper also signs on schedule.
 */
function checkpointRequester(config: LedgerConfig, app: App) {
  return (partition: string, seq: number) => {
    if (!config.LOG_KEEPER_URL) return;
    // The log-keeper's API names streams without the test namespace (its own FUNDTRACE_NAMESPACE
    // maps them to the JetStream stream); a namespaced name was refused with 403.
    const stream = checkpointStreamFor(partition);
    void (async () => {
      const token = await signToken(
        config.JWT_SECRET,
        { sub: serviceName, role: 'finance', org: serviceName, partitions: [partition] },
        checkpointTokenTtlSeconds,
      );
      const response = await fetch(new URL(`/v1/checkpoints/${stream}`, config.LOG_KEEPER_URL), {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ atLeastSize: seq }),
      });
      if (!response.ok)
        app.log.warn({ stream, seq, status: response.status }, 'log-keeper did not sign a checkpoint');
    })().catch((error: unknown) =>
      app.log.warn({ err: error, stream, seq }, 'log-keeper unreachable for a checkpoint'),
    );
  };
}
