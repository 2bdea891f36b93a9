import { bundleFormat, hashLeaf, inclusionBundle, proveInclusion, toHex } from '@fundtrace/merkle';
import {
  base64HashSchema,
  type ProofRejection,
  registerProofRoutes,
  seqQuerySchema,
  sizeQuerySchema,
} from '@fundtrace/merkle/http';
import { storedTree } from '@fundtrace/merkle/pg';
import { type App, errorResponseSchema, requireRole } from '@fundtrace/service-kit';
import { z } from 'zod';
import { keeperRejections } from '../rejections';
import { partitionOf, streamParam } from '../streams';
import type { RouteDeps } from './deps';

/** The inclusion bundle format of @fundtrace/merkle, as a response contract (check it with `fundtrace verify`). */
const inclusionBundleResponse = z.object({
  format: z.literal(bundleFormat),
  kind: z.literal('inclusion'),
  checkpoint: z.string(),
  leafIndex: z.number().int(),
  event: z.string().optional(),
  leafHash: z.string().optional(),
  proof: z.array(base64HashSchema),
});

/** The log-keeper's refusal codes keep the tree's names, except a leaf index is a stream sequence here. */
function reject(code: ProofRejection, message: string, details: Record<string, unknown>): never {
  throw keeperRejections.reject(
    code === 'leaf_index_out_of_range' ? 'seq_out_of_range' : code,
    message,
    details,
  );
}

/**
 * The log's public proofs (the shared routes of @fundtrace/merkle/http, also served to inspectors by
 * audit-api) and the staff-only inclusion bundle, which carries the event itself from JetStream.
 */
export function proofRoutes(app: App, deps: RouteDeps): void {
  const log = registerProofRoutes(app, {
    db: app.db,
    treeKey: deps.treeKey,
    streamParam,
    keyId: toHex(deps.signer.keyId),
    // Before the first checkpoint is signed, a proof against the current tree head is still useful.
    unsignedHeadAsDefault: true,
    reject,
    tag: 'proofs',
  });

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
        params: z.object({ stream: streamParam }),
        querystring: z.object({ seq: seqQuerySchema, size: sizeQuerySchema.optional() }),
        response: { 200: inclusionBundleResponse, 404: errorResponseSchema, 422: errorResponseSchema },
      },
    },
    async (request) => {
      const { stream } = request.params;
      const { seq } = request.query;
      const checkpoint = await log.signed(stream, request.query.size);
      const proof = await proveInclusion(
        await storedTree(app.db, deps.treeKey(stream)),
        seq - 1,
        checkpoint.size,
      );
      if (!proof.ok) reject(proof.code, proof.message, { stream, seq, size: checkpoint.size });
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
}
