import { checkpointOrigin, encodeBase64, toHex } from '@fundtrace/merkle';
import { base64HashSchema, sizeQuerySchema } from '@fundtrace/merkle/http';
import {
  checkpointAtSize,
  latestCheckpoint,
  readTreeHead,
  type StoredCheckpoint,
} from '@fundtrace/merkle/pg';
import { type App, errorResponseSchema, requireRole } from '@fundtrace/service-kit';
import { z } from 'zod';
import { keeperRejections } from '../rejections';
import { partitionOf, streamParam } from '../streams';
import type { RouteDeps } from './deps';

/**
 * How long an on-demand checkpoint waits for the tree to reach the size the caller
 * needs (the sequence of a notice just published). The keeper is normally a batch
 * behind the stream; ten seconds covers a busy roster import without holding the
 * request open indefinitely.
 */
export const catchUpWaitMsMax = 10_000;
/** Poll interval while waiting: a fraction of a typical batch commit. */
const catchUpPollMs = 100;

export const checkpointResponse = z.object({
  stream: z.string(),
  origin: z.string(),
  size: z.number().int(),
  rootHash: base64HashSchema,
  keyId: z.string(),
  /** The C2SP signed note: what a reader saves and later checks with the verifier key. */
  note: z.string(),
  signedAt: z.string(),
});

/** `stream` is the API's name; the stored row is keyed by the tree key (namespace included). */
export function checkpointBody(
  stream: string,
  checkpoint: StoredCheckpoint,
  originPrefix: string,
): z.infer<typeof checkpointResponse> {
  return {
    stream,
    origin: checkpointOrigin(originPrefix, stream),
    size: checkpoint.size,
    rootHash: encodeBase64(checkpoint.rootHash),
    keyId: checkpoint.keyId,
    note: checkpoint.note,
    signedAt: checkpoint.signedAt.toISOString(),
  };
}

const streamParams = z.object({ stream: streamParam });

export function checkpointRoutes(app: App, deps: RouteDeps): void {
  const keyId = toHex(deps.signer.keyId);

  app.get(
    '/v1/verifier-key',
    {
      schema: {
        summary: "The log's verifier key: all a reader needs to check checkpoints and bundles offline",
        tags: ['checkpoints'],
        response: {
          200: z.object({
            verifierKey: z.string(),
            keyName: z.string(),
            keyId: z.string(),
            originPrefix: z.string(),
          }),
        },
      },
    },
    async () => ({
      verifierKey: deps.signer.verifierKey,
      keyName: deps.signer.name,
      keyId,
      originPrefix: deps.originPrefix,
    }),
  );

  app.get(
    '/v1/streams/:stream/checkpoint',
    {
      schema: {
        summary: "The stream's latest signed checkpoint",
        tags: ['checkpoints'],
        params: streamParams,
        response: { 200: checkpointResponse, 404: errorResponseSchema },
      },
    },
    async (request) => {
      const { stream } = request.params;
      const checkpoint = await latestCheckpoint(app.db, deps.treeKey(stream), keyId);
      if (checkpoint === undefined) {
        throw keeperRejections.reject(
          'checkpoint_not_found',
          `No checkpoint of ${stream} has been signed yet`,
          { stream },
        );
      }
      return checkpointBody(stream, checkpoint, deps.originPrefix);
    },
  );

  app.get(
    '/v1/streams/:stream/checkpoints/:size',
    {
      schema: {
        summary: 'The checkpoint signed at exactly this tree size',
        tags: ['checkpoints'],
        params: z.object({ stream: streamParam, size: sizeQuerySchema }),
        response: { 200: checkpointResponse, 404: errorResponseSchema },
      },
    },
    async (request) => {
      const { stream, size } = request.params;
      const checkpoint = await checkpointAtSize(app.db, deps.treeKey(stream), size, keyId);
      if (checkpoint === undefined) {
        throw keeperRejections.reject(
          'checkpoint_not_found',
          `No checkpoint of ${stream} was signed at size ${size}`,
          {
            stream,
            size,
          },
        );
      }
      return checkpointBody(stream, checkpoint, deps.originPrefix);
    },
  );

  app.post(
    '/v1/checkpoints/:stream',
    {
      onRequest: requireRole(['inspector', 'finance'], {
        partition: (request) => {
          const parsed = streamParam.safeParse((request.params as { stream?: unknown }).stream);
          return parsed.success ? partitionOf(parsed.data) : undefined;
        },
      }),
      schema: {
        summary:
          'Sign a checkpoint now (e.g. when a notice is published), once the tree holds `atLeastSize` events',
        tags: ['checkpoints'],
        security: [{ bearerAuth: [] }],
        params: streamParams,
        // No body at all arrives as null: "sign what you have".
        body: z.object({ atLeastSize: sizeQuerySchema.optional() }).strict().nullish(),
        response: {
          200: checkpointResponse,
          201: checkpointResponse,
          404: errorResponseSchema,
          409: errorResponseSchema,
        },
      },
    },
    async (request, reply) => {
      const { stream } = request.params;
      // A partition created seconds ago may not be discovered yet: look once more before refusing.
      if (!deps.keeper.streams().includes(stream)) await deps.keeper.discover();
      if (!deps.keeper.streams().includes(stream)) {
        throw keeperRejections.reject('stream_not_found', `${stream} is not a stream this log keeps`, {
          stream,
        });
      }
      const wanted = request.body?.atLeastSize ?? 0;
      const deadline = Date.now() + catchUpWaitMsMax;
      let size = (await readTreeHead(app.db, deps.treeKey(stream))).size;
      while (size < wanted && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, catchUpPollMs));
        size = (await readTreeHead(app.db, deps.treeKey(stream))).size;
      }
      if (size < wanted) {
        throw keeperRejections.reject(
          'log_behind',
          `The log of ${stream} holds ${size} events, not yet ${wanted}`,
          {
            stream,
            size,
            atLeastSize: wanted,
          },
        );
      }
      const { checkpoint, created } = await deps.checkpoints.sign(stream);
      return reply.status(created ? 201 : 200).send(checkpointBody(stream, checkpoint, deps.originPrefix));
    },
  );
}
