import {
  bundleFormat,
  consistencyBundle,
  encodeBase64,
  hashLeaf,
  inclusionBundle,
  proveConsistency,
  proveInclusion,
  type TreeQueryRejection,
  toHex,
} from '@fundtrace/merkle';
import { checkpointAtSize, latestCheckpoint, readTreeHead, storedTree } from '@fundtrace/merkle/pg';
import { type App, errorResponseSchema, requireRole } from '@fundtrace/service-kit';
import { z } from 'zod';
import { keeperRejections } from '../rejections';
import { base64Hash, partitionOf, seqQuery, sizeQuery, streamParam } from '../streams';
import type { RouteDeps } from './deps';

const streamParams = z.object({ stream: streamParam });

const inclusionResponse = z.object({
  stream: z.string(),
  seq: z.number().int(),
  leafIndex: z.number().int(),
  treeSize: z.number().int(),
  leafHash: base64Hash,
  rootHash: base64Hash,
  proof: z.array(base64Hash),
});

const consistencyResponse = z.object({
  stream: z.string(),
  from: z.number().int(),
  to: z.number().int(),
  oldRoot: base64Hash,
  newRoot: base64Hash,
  proof: z.array(base64Hash),
});

/** The bundle formats of @fundtrace/merkle, as response contracts (check them with `fundtrace verify`). */
const inclusionBundleResponse = z.object({
  format: z.literal(bundleFormat),
  kind: z.literal('inclusion'),
  checkpoint: z.string(),
  leafIndex: z.number().int(),
  event: z.string().optional(),
  leafHash: z.string().optional(),
  proof: z.array(base64Hash),
});

const consistencyBundleResponse = z.object({
  format: z.literal(bundleFormat),
  kind: z.literal('consistency'),
  oldCheckpoint: z.string(),
  newCheckpoint: z.string(),
  proof: z.array(base64Hash),
});

function rejectQuery(code: TreeQueryRejection, message: string, details: Record<string, unknown>): never {
  throw keeperRejections.reject(
    code === 'leaf_index_out_of_range' ? 'seq_out_of_range' : code,
    message,
    details,
  );
}

export function proofRoutes(app: App, deps: RouteDeps): void {
  const keyId = toHex(deps.signer.keyId);

  /** The size a proof defaults to: the latest signed checkpoint, so its root can be checked against a signature. */
  async function defaultSize(stream: string): Promise<number> {
    const checkpoint = await latestCheckpoint(app.db, deps.treeKey(stream), keyId);
    return checkpoint?.size ?? (await readTreeHead(app.db, deps.treeKey(stream))).size;
  }

  app.get(
    '/v1/streams/:stream/proof/inclusion',
    {
      schema: {
        summary:
          'Inclusion proof of the event at a stream sequence, in the tree of `size` events (default: latest checkpoint)',
        tags: ['proofs'],
        params: streamParams,
        querystring: z.object({ seq: seqQuery, size: sizeQuery.optional() }),
        response: { 200: inclusionResponse, 404: errorResponseSchema, 422: errorResponseSchema },
      },
    },
    async (request) => {
      const { stream } = request.params;
      const { seq } = request.query;
      const size = request.query.size ?? (await defaultSize(stream));
      const proof = await proveInclusion(await storedTree(app.db, deps.treeKey(stream)), seq - 1, size);
      if (!proof.ok) rejectQuery(proof.code, proof.message, { stream, seq, size });
      return {
        stream,
        seq,
        leafIndex: proof.value.leafIndex,
        treeSize: proof.value.treeSize,
        leafHash: encodeBase64(proof.value.leafHash),
        rootHash: encodeBase64(proof.value.rootHash),
        proof: proof.value.proof.map(encodeBase64),
      };
    },
  );

  app.get(
    '/v1/streams/:stream/proof/consistency',
    {
      schema: {
        summary:
          'Consistency proof: the tree of `from` events is a prefix of the tree of `to` events (default: latest checkpoint)',
        tags: ['proofs'],
        params: streamParams,
        querystring: z.object({ from: sizeQuery, to: sizeQuery.optional() }),
        response: { 200: consistencyResponse, 404: errorResponseSchema, 422: errorResponseSchema },
      },
    },
    async (request) => {
      const { stream } = request.params;
      const { from } = request.query;
      const to = request.query.to ?? (await defaultSize(stream));
      const proof = await proveConsistency(await storedTree(app.db, deps.treeKey(stream)), from, to);
      if (!proof.ok) rejectQuery(proof.code, proof.message, { stream, from, to });
      return {
        stream,
        from,
        to,
        oldRoot: encodeBase64(proof.value.oldRoot),
        newRoot: encodeBase64(proof.value.newRoot),
        proof: proof.value.proof.map(encodeBase64),
      };
    },
  );

  async function signedAt(stream: string, size: number | undefined) {
    const checkpoint =
      size === undefined
        ? await latestCheckpoint(app.db, deps.treeKey(stream), keyId)
        : await checkpointAtSize(app.db, deps.treeKey(stream), size, keyId);
    if (checkpoint === undefined) {
      throw keeperRejections.reject(
        'checkpoint_not_found',
        size === undefined
          ? `No checkpoint of ${stream} has been signed yet`
          : `No checkpoint of ${stream} at size ${size}`,
        { stream, ...(size === undefined ? {} : { size }) },
      );
    }
    return checkpoint;
  }

  app.get(
    '/v1/streams/:stream/bundles/inclusion',
    {
      // The bundle carries the event itself, which may name households and amounts: staff only.
      onRequest: requireRole(['inspector', 'finance', 'registry'], {
        partition: (request) => {
          const parsed = streamParam.safeParse((request.params as { stream?: unknown }).stream);
          return parsed.success ? partitionOf(parsed.data) : undefined;
        },
      }),
      schema: {
        summary: 'Evidence bundle: the event, a signed checkpoint (default: latest) and the inclusion proof',
        tags: ['bundles'],
        security: [{ bearerAuth: [] }],
        params: streamParams,
        querystring: z.object({ seq: seqQuery, size: sizeQuery.optional() }),
        response: { 200: inclusionBundleResponse, 404: errorResponseSchema, 422: errorResponseSchema },
      },
    },
    async (request) => {
      const { stream } = request.params;
      const { seq } = request.query;
      const checkpoint = await signedAt(stream, request.query.size);
      const proof = await proveInclusion(
        await storedTree(app.db, deps.treeKey(stream)),
        seq - 1,
        checkpoint.size,
      );
      if (!proof.ok) rejectQuery(proof.code, proof.message, { stream, seq, size: checkpoint.size });
      // The tree key is the JetStream stream name.
      const stored = await app.jsm.streams.getMessage(deps.treeKey(stream), { seq });
      // The streams deny deletes: a hashed sequence that is gone means lost data.
      if (stored === null)
        throw new Error(`${stream} sequence ${seq} is in the merkle log but not in the stream`);
      const event = stored.data;
      if (Buffer.compare(hashLeaf(event), proof.value.leafHash) !== 0) {
        // The stream and the tree disagree about an event: the log is not what was hashed.
        throw new Error(`${stream} sequence ${seq}: stored bytes do not match the merkle leaf`);
      }
      const bundle = inclusionBundle({
        checkpoint: checkpoint.note,
        leafIndex: seq - 1,
        proof: proof.value.proof,
        event,
      });
      return { ...bundle, proof: [...bundle.proof] };
    },
  );

  app.get(
    '/v1/streams/:stream/bundles/consistency',
    {
      schema: {
        summary:
          'Evidence bundle: two signed checkpoints (`to` default: latest) and the consistency proof between them',
        tags: ['bundles'],
        params: streamParams,
        querystring: z.object({ from: sizeQuery, to: sizeQuery.optional() }),
        response: { 200: consistencyBundleResponse, 404: errorResponseSchema, 422: errorResponseSchema },
      },
    },
    async (request) => {
      const { stream } = request.params;
      const older = await signedAt(stream, request.query.from);
      const newer = await signedAt(stream, request.query.to);
      const proof = await proveConsistency(
        await storedTree(app.db, deps.treeKey(stream)),
        older.size,
        newer.size,
      );
      if (!proof.ok) rejectQuery(proof.code, proof.message, { stream, from: older.size, to: newer.size });
      const bundle = consistencyBundle({
        oldCheckpoint: older.note,
        newCheckpoint: newer.note,
        proof: proof.value.proof,
      });
      return { ...bundle, proof: [...bundle.proof] };
    },
  );
}
