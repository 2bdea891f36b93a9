import { parseStreamName, streamName } from '@fundtrace/events';
import {
  consistencyBundle,
  encodeBase64,
  type NoteVerifier,
  openCheckpoint,
  proveConsistency,
  proveInclusion,
  type TreeQueryRejection,
  toHex,
} from '@fundtrace/merkle';
import { checkpointAtSize, latestCheckpoint, type Queryable, storedTree } from '@fundtrace/merkle/pg';
import { type App, errorResponseSchema, requireRole } from '@fundtrace/service-kit';
import { z } from 'zod';
import { type EvidenceDeps, proveCited } from '../evidence';
import { auditRejections } from './shared';

/**
 * The verifiable log as inspectors read it: the latest signed checkpoint of a stream, inclusion and
 * consistency proofs and evidence bundles. Nothing is computed here that the log-keeper did not
 * store: proofs come from its tree in PostgreSQL through @fundtrace/merkle's query functions, and
 * only checkpoints signed by the configured key are served.
 */

const streamParam = z
  .string()
  .max(32)
  .refine(
    (name) => parseStreamName(name)?.namespace === '',
    'must be LEDGER_<code>, REGISTRY_<code> or AUDIT_<code>',
  );
const sizeQuery = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const seqQuery = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const base64Hash = z.string().meta({ description: 'base64 SHA-256 hash (32 bytes)' });

const checkpointSchema = z.object({
  stream: z.string(),
  origin: z.string(),
  size: z.number().int(),
  rootHash: base64Hash,
  note: z.string().meta({ description: 'the C2SP signed note; check it with the verifier key' }),
  signedAt: z.string(),
});

const anyInspector = requireRole(['inspector']);
/**
 * An inclusion bundle carries the event itself (households, amounts): inspectors of the stream's
 * partition only, as at the log-keeper. Checkpoints and proofs are hashes, public at the log-keeper.
 */
const inspectorOfStream = requireRole(['inspector'], {
  partition: (request) => parseStreamName(String((request.params as { stream?: unknown }).stream))?.partition,
});

export interface ProofDeps extends EvidenceDeps {
  readonly logDb: Queryable;
  readonly verifier: NoteVerifier;
  readonly verifierKey: string;
}

function rejectTree(code: TreeQueryRejection, message: string, details: Record<string, unknown>): never {
  const mapped =
    code === 'leaf_index_out_of_range'
      ? 'seq_out_of_range'
      : code === 'size_beyond_tree'
        ? 'size_out_of_range'
        : 'invalid_range';
  throw auditRejections.reject(mapped, message, details);
}

export function proofRoutes(app: App, deps: ProofDeps): void {
  const keyId = toHex(deps.verifier.keyId);
  /** The log-keeper keys trees and checkpoints by the JetStream name (namespace included). */
  const keyOf = (stream: string) => {
    const ref = parseStreamName(stream)!;
    return streamName(ref.context, ref.partition, deps.ns);
  };
  const tree = (stream: string) => storedTree(deps.logDb, keyOf(stream));

  async function signed(stream: string, size?: number) {
    const checkpoint =
      size === undefined
        ? await latestCheckpoint(deps.logDb, keyOf(stream), keyId)
        : await checkpointAtSize(deps.logDb, keyOf(stream), size, keyId);
    if (checkpoint === undefined) {
      throw auditRejections.reject(
        'checkpoint_not_found',
        size === undefined
          ? `No checkpoint of ${stream} has been signed yet`
          : `No checkpoint of ${stream} at size ${size}`,
        { stream, ...(size === undefined ? {} : { size }) },
      );
    }
    // What is served must verify with the key inspectors are told to trust.
    openCheckpoint(checkpoint.note, deps.verifier);
    return checkpoint;
  }

  app.get(
    '/v1/verifier-key',
    {
      onRequest: anyInspector,
      schema: {
        summary: "The log's verifier key: all that `fundtrace verify` needs",
        tags: ['proofs'],
        security: [{ bearerAuth: [] }],
        response: { 200: z.object({ verifierKey: z.string(), keyId: z.string() }) },
      },
    },
    async () => ({ verifierKey: deps.verifierKey, keyId }),
  );

  app.get(
    '/v1/streams/:stream/checkpoint',
    {
      onRequest: anyInspector,
      schema: {
        summary: "The stream's latest signed checkpoint (origin, size, root hash)",
        tags: ['proofs'],
        security: [{ bearerAuth: [] }],
        params: z.object({ stream: streamParam }),
        response: { 200: checkpointSchema, 404: errorResponseSchema },
      },
    },
    async (request) => {
      const c = await signed(request.params.stream);
      return {
        stream: request.params.stream,
        origin: openCheckpoint(c.note, deps.verifier).origin,
        size: c.size,
        rootHash: encodeBase64(c.rootHash),
        note: c.note,
        signedAt: c.signedAt.toISOString(),
      };
    },
  );

  app.get(
    '/v1/streams/:stream/proof/inclusion',
    {
      onRequest: anyInspector,
      schema: {
        summary:
          'Inclusion proof: the event at `seq` is in the log of `size` events (default: latest checkpoint)',
        tags: ['proofs'],
        security: [{ bearerAuth: [] }],
        params: z.object({ stream: streamParam }),
        querystring: z.object({ seq: seqQuery, size: sizeQuery.optional() }),
        response: {
          200: z.object({
            stream: z.string(),
            seq: z.number().int(),
            leafIndex: z.number().int(),
            treeSize: z.number().int(),
            leafHash: base64Hash,
            rootHash: base64Hash,
            proof: z.array(base64Hash),
          }),
          404: errorResponseSchema,
          422: errorResponseSchema,
        },
      },
    },
    async (request) => {
      const { stream } = request.params;
      const { seq } = request.query;
      const size = request.query.size ?? (await signed(stream)).size;
      const proof = await proveInclusion(await tree(stream), seq - 1, size);
      if (!proof.ok) rejectTree(proof.code, proof.message, { stream, seq, size });
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
      onRequest: anyInspector,
      schema: {
        summary:
          'Consistency proof: the log at size `from` is a prefix of the log at `to` (default: latest checkpoint)',
        tags: ['proofs'],
        security: [{ bearerAuth: [] }],
        params: z.object({ stream: streamParam }),
        querystring: z.object({ from: sizeQuery, to: sizeQuery.optional() }),
        response: {
          200: z.object({
            stream: z.string(),
            from: z.number().int(),
            to: z.number().int(),
            oldRoot: base64Hash,
            newRoot: base64Hash,
            proof: z.array(base64Hash),
          }),
          404: errorResponseSchema,
          422: errorResponseSchema,
        },
      },
    },
    async (request) => {
      const { stream } = request.params;
      const { from } = request.query;
      const to = request.query.to ?? (await signed(stream)).size;
      const proof = await proveConsistency(await tree(stream), from, to);
      if (!proof.ok) rejectTree(proof.code, proof.message, { stream, from, to });
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

  const bundleSchema = z.object({
    format: z.string(),
    kind: z.enum(['inclusion', 'consistency']),
    checkpoint: z.string().optional(),
    leafIndex: z.number().int().optional(),
    event: z.string().optional(),
    oldCheckpoint: z.string().optional(),
    newCheckpoint: z.string().optional(),
    proof: z.array(z.string()),
  });

  app.get(
    '/v1/streams/:stream/bundles/inclusion',
    {
      onRequest: inspectorOfStream,
      schema: {
        summary:
          'Evidence bundle for one event (the event, the latest signed checkpoint, the proof): `fundtrace verify` checks it offline',
        tags: ['proofs'],
        security: [{ bearerAuth: [] }],
        params: z.object({ stream: streamParam }),
        querystring: z.object({ seq: seqQuery }),
        response: { 200: bundleSchema, 404: errorResponseSchema, 422: errorResponseSchema },
      },
    },
    async (request) => {
      const { stream } = request.params;
      const { seq } = request.query;
      const checkpoint = await signed(stream);
      if (seq > checkpoint.size) {
        throw auditRejections.reject(
          'seq_out_of_range',
          `${stream} sequence ${seq} is after the latest checkpoint (${checkpoint.size})`,
          {
            stream,
            seq,
            size: checkpoint.size,
          },
        );
      }
      const { proven } = await proveCited(deps, [{ stream, seq, why: 'requested' }]);
      const bundle = proven[0]!.bundle;
      return { ...bundle, proof: [...bundle.proof] };
    },
  );

  app.get(
    '/v1/streams/:stream/bundles/consistency',
    {
      onRequest: anyInspector,
      schema: {
        summary:
          'Evidence bundle: two signed checkpoints and the consistency proof between them (`to` default: latest)',
        tags: ['proofs'],
        security: [{ bearerAuth: [] }],
        params: z.object({ stream: streamParam }),
        querystring: z.object({ from: sizeQuery, to: sizeQuery.optional() }),
        response: { 200: bundleSchema, 404: errorResponseSchema, 422: errorResponseSchema },
      },
    },
    async (request) => {
      const { stream } = request.params;
      const older = await signed(stream, request.query.from);
      const newer = await signed(stream, request.query.to);
      const proof = await proveConsistency(await tree(stream), older.size, newer.size);
      if (!proof.ok) rejectTree(proof.code, proof.message, { stream, from: older.size, to: newer.size });
      const bundle = consistencyBundle({
        oldCheckpoint: older.note,
        newCheckpoint: newer.note,
        proof: proof.value.proof,
      });
      return { ...bundle, proof: [...bundle.proof] };
    },
  );
}
