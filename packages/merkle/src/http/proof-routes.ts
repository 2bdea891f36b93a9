import { type App, errorResponseSchema, type requireRole } from '@fundtrace/service-kit';
import { z } from 'zod';
import { bundleFormat, consistencyBundle } from '../bundle';
import { encodeBase64 } from '../hash';
import { checkpointAtSize, latestCheckpoint, type StoredCheckpoint } from '../pg/checkpoints';
import type { Queryable } from '../pg/node-store';
import { readTreeHead, storedTree } from '../pg/trees';
import { proveConsistency, proveInclusion, type TreeQueryRejection } from '../tree';

/**
 * The HTTP face of the verifiable log, served by the log-keeper (public) and by audit-api (for
 * inspectors) from the same tree in PostgreSQL: inclusion and consistency proofs and the
 * consistency evidence bundle, with one response contract. Each service passes what differs: who
 * may call (`guard`), which stream names it accepts, whether an unsigned tree head may stand in
 * for a checkpoint, how signed notes are checked, and its own closed union of refusal codes.
 */

export const base64HashSchema = z.string().meta({ description: 'base64 SHA-256 hash (32 bytes)' });
export const sizeQuerySchema = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
export const seqQuerySchema = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

export const inclusionProofResponse = z.object({
  stream: z.string(),
  seq: z.number().int(),
  leafIndex: z.number().int(),
  treeSize: z.number().int(),
  leafHash: base64HashSchema,
  rootHash: base64HashSchema,
  proof: z.array(base64HashSchema),
});

export const consistencyProofResponse = z.object({
  stream: z.string(),
  from: z.number().int(),
  to: z.number().int(),
  oldRoot: base64HashSchema,
  newRoot: base64HashSchema,
  proof: z.array(base64HashSchema),
});

/** The consistency bundle of ../bundle as a response contract (check it with `fundtrace verify`). */
export const consistencyBundleResponse = z.object({
  format: z.literal(bundleFormat),
  kind: z.literal('consistency'),
  oldCheckpoint: z.string(),
  newCheckpoint: z.string(),
  proof: z.array(base64HashSchema),
});

/** Why a request about the log is refused: no signed checkpoint there, or a tree query's refusal. */
export type ProofRejection = 'checkpoint_not_found' | TreeQueryRejection;

export interface ProofRoutesOptions {
  /** Where the log-keeper's merkle tables are. */
  readonly db: Queryable;
  /** The tree key (the JetStream stream name, namespace included) of a stream name in the URL. */
  readonly treeKey: (stream: string) => string;
  /** Stream names this service accepts in the URL. */
  readonly streamParam: z.ZodType<string>;
  /** Hex id of the key whose checkpoints are served; others' are never shown. */
  readonly keyId: string;
  /** Who may call; absent: public. */
  readonly guard?: ReturnType<typeof requireRole>;
  /** A proof without `size`/`to`: at the latest checkpoint, or (true) the tree head when none is signed yet. */
  readonly unsignedHeadAsDefault: boolean;
  /** Checks a stored note before it is served (audit-api: against the key inspectors trust). */
  readonly verifyNote?: (note: string) => void;
  /** Answers a refusal in the service's own error codes; must throw. */
  readonly reject: (code: ProofRejection, message: string, details: Record<string, unknown>) => never;
  /** OpenAPI tag of the routes. */
  readonly tag: string;
}

export interface ProofLog {
  /** A signed checkpoint of `stream`: the latest, or the one at `size`; refused when there is none. */
  signed(stream: string, size?: number): Promise<StoredCheckpoint>;
}

/** Registers the proof routes and returns the checkpoint lookup, for a service's own routes. */
export function registerProofRoutes(app: App, o: ProofRoutesOptions): ProofLog {
  const params = z.object({ stream: o.streamParam });
  const secured = o.guard === undefined ? {} : { onRequest: o.guard };
  const security = o.guard === undefined ? {} : { security: [{ bearerAuth: [] }] };
  const tree = (stream: string) => storedTree(o.db, o.treeKey(stream));

  async function signed(stream: string, size?: number): Promise<StoredCheckpoint> {
    const checkpoint =
      size === undefined
        ? await latestCheckpoint(o.db, o.treeKey(stream), o.keyId)
        : await checkpointAtSize(o.db, o.treeKey(stream), size, o.keyId);
    if (checkpoint === undefined) {
      return o.reject(
        'checkpoint_not_found',
        size === undefined
          ? `No checkpoint of ${stream} has been signed yet`
          : `No checkpoint of ${stream} at size ${size}`,
        { stream, ...(size === undefined ? {} : { size }) },
      );
    }
    o.verifyNote?.(checkpoint.note);
    return checkpoint;
  }

  async function defaultSize(stream: string): Promise<number> {
    if (!o.unsignedHeadAsDefault) return (await signed(stream)).size;
    const checkpoint = await latestCheckpoint(o.db, o.treeKey(stream), o.keyId);
    return checkpoint?.size ?? (await readTreeHead(o.db, o.treeKey(stream))).size;
  }

  app.get(
    '/v1/streams/:stream/proof/inclusion',
    {
      ...secured,
      schema: {
        summary:
          'Inclusion proof: the event at stream sequence `seq` is in the log of `size` events (default: latest checkpoint)',
        tags: [o.tag],
        ...security,
        params,
        querystring: z.object({ seq: seqQuerySchema, size: sizeQuerySchema.optional() }),
        response: { 200: inclusionProofResponse, 404: errorResponseSchema, 422: errorResponseSchema },
      },
    },
    async (request) => {
      const { stream } = request.params;
      const { seq } = request.query;
      const size = request.query.size ?? (await defaultSize(stream));
      const proof = await proveInclusion(await tree(stream), seq - 1, size);
      if (!proof.ok) return o.reject(proof.code, proof.message, { stream, seq, size });
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
      ...secured,
      schema: {
        summary:
          'Consistency proof: the log at size `from` is a prefix of the log at `to` (default: latest checkpoint)',
        tags: [o.tag],
        ...security,
        params,
        querystring: z.object({ from: sizeQuerySchema, to: sizeQuerySchema.optional() }),
        response: { 200: consistencyProofResponse, 404: errorResponseSchema, 422: errorResponseSchema },
      },
    },
    async (request) => {
      const { stream } = request.params;
      const { from } = request.query;
      const to = request.query.to ?? (await defaultSize(stream));
      const proof = await proveConsistency(await tree(stream), from, to);
      if (!proof.ok) return o.reject(proof.code, proof.message, { stream, from, to });
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

  app.get(
    '/v1/streams/:stream/bundles/consistency',
    {
      ...secured,
      schema: {
        summary:
          'Evidence bundle: two signed checkpoints (`to` default: latest) and the consistency proof between them',
        tags: [o.tag],
        ...security,
        params,
        querystring: z.object({ from: sizeQuerySchema, to: sizeQuerySchema.optional() }),
        response: { 200: consistencyBundleResponse, 404: errorResponseSchema, 422: errorResponseSchema },
      },
    },
    async (request) => {
      const { stream } = request.params;
      const older = await signed(stream, request.query.from);
      const newer = await signed(stream, request.query.to);
      const proof = await proveConsistency(await tree(stream), older.size, newer.size);
      if (!proof.ok) return o.reject(proof.code, proof.message, { stream, from: older.size, to: newer.size });
      const bundle = consistencyBundle({
        oldCheckpoint: older.note,
        newCheckpoint: newer.note,
        proof: proof.value.proof,
      });
      return { ...bundle, proof: [...bundle.proof] };
    },
  );

  return { signed };
}
