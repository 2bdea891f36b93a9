import type { Logger } from '@fundtrace/eventlog';
import { checkpointOrigin, type NoteSigner, toHex } from '@fundtrace/merkle';
import {
  latestCheckpoint,
  type Queryable,
  readTreeHead,
  type StoredCheckpoint,
  signTreeHead,
} from '@fundtrace/merkle/pg';
import type { Kysely } from 'kysely';

/** Streams are named as the API names them (`LEDGER_411325`); `treeKey` maps them to their tree. */
export interface CheckpointSigner {
  /** Sign the stream's current tree head (or return the checkpoint already signed at that size). */
  sign(stream: string): Promise<{ readonly checkpoint: StoredCheckpoint; readonly created: boolean }>;
  /** Sign every given stream whose tree grew since its latest checkpoint by this key. */
  signGrown(streams: readonly string[]): Promise<StoredCheckpoint[]>;
}

export function checkpointSigner(options: {
  // biome-ignore lint/suspicious/noExplicitAny: any Database holding the merkle tables.
  readonly db: Kysely<any>;
  readonly signer: NoteSigner;
  readonly originPrefix: string;
  /** The tree key of a stream (see treeKeyFor). */
  readonly treeKey: (stream: string) => string;
  readonly logger: Logger;
}): CheckpointSigner {
  const keyId = toHex(options.signer.keyId);
  const sign = (stream: string) =>
    options.db.transaction().execute((trx: Queryable) =>
      signTreeHead(trx, {
        stream: options.treeKey(stream),
        origin: checkpointOrigin(options.originPrefix, stream),
        signer: options.signer,
      }),
    );

  return {
    sign,
    async signGrown(streams) {
      const signed: StoredCheckpoint[] = [];
      for (const stream of streams) {
        const [head, latest] = await Promise.all([
          readTreeHead(options.db, options.treeKey(stream)),
          latestCheckpoint(options.db, options.treeKey(stream), keyId),
        ]);
        // An empty tree commits to nothing a reader could check; sign it only when asked (POST).
        if (head.size === 0 || (latest !== undefined && latest.size >= head.size)) continue;
        const { checkpoint, created } = await sign(stream);
        if (created) {
          options.logger.info({ stream, size: checkpoint.size }, 'signed checkpoint');
          signed.push(checkpoint);
        }
      }
      return signed;
    },
  };
}

/** Signs grown trees every `intervalMs`; a failed round is logged and retried next time. */
export function scheduleCheckpoints(options: {
  readonly signer: CheckpointSigner;
  readonly streams: () => readonly string[];
  readonly intervalMs: number;
  readonly logger: Logger;
}): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = options.signer.signGrown(options.streams()).catch((error: unknown) => {
      options.logger.warn(
        { err: error instanceof Error ? error.message : String(error) },
        'scheduled signing failed',
      );
    });
  }, options.intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
