import { parseStreamName, streamName } from '@fundtrace/events';
import { encodeBase64, type NoteVerifier, openCheckpoint, toHex } from '@fundtrace/merkle';
import {
  base64HashSchema,
  type ProofRejection,
  registerProofRoutes,
  seqQuerySchema,
} from '@fundtrace/merkle/http';
import type { Queryable } from '@fundtrace/merkle/pg';
import { type App, errorResponseSchema, requireRole } from '@fundtrace/service-kit';
import { z } from 'zod';
import { type EvidenceDeps, proveCited } from '../evidence';
import { auditRejections } from './shared';

/**
 * The verifiable log as inspectors read it: the latest signed checkpoint of a stream, inclusion and
 * consistency proofs and evidence bundles. Nothing is computed here that the log-keeper did not
 * store: the proof routes are the log-keeper's own (@fundtrace/merkle/http) over its tree in
 * PostgreSQL, behind the inspector role, and only checkpoints signed by the configured key and
 * verifying with it are served.
 */

const streamParam = z
  .string()
  .max(32)
  .refine(
    (name) => parseStreamName(name)?.namespace === '',
    'must be LEDGER_<code>, REGISTRY_<code> or AUDIT_<code>',
  );

const checkpointSchema = z.object({
  stream: z.string(),
  origin: z.string(),
  size: z.number().int(),
  rootHash: base64HashSchema,
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

/** audit-api's refusal codes for the log: a missing checkpoint, a sequence or size out of range. */
function reject(code: ProofRejection, message: string, details: Record<string, unknown>): never {
  const mapped =
    code === 'checkpoint_not_found'
      ? code
      : code === 'leaf_index_out_of_range'
        ? 'seq_out_of_range'
        : code === 'size_beyond_tree'
          ? 'size_out_of_range'
          : 'invalid_range';
  throw auditRejections.reject(mapped, message, details);
}

export function proofRoutes(app: App, deps: ProofDeps): void {
  const keyId = toHex(deps.verifier.keyId);
  const log = registerProofRoutes(app, {
    db: deps.logDb,
    // The log-keeper keys trees and checkpoints by the JetStream name (namespace included).
    treeKey: (stream) => {
      const ref = parseStreamName(stream)!;
      return streamName(ref.context, ref.partition, deps.ns);
    },
    streamParam,
    keyId,
    guard: anyInspector,
    unsignedHeadAsDefault: false,
    // What is served must verify with the key inspectors are told to trust.
    verifyNote: (note) => openCheckpoint(note, deps.verifier),
    reject,
    tag: 'proofs',
  });
  const signed = (stream: string) => log.signed(stream);

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
        querystring: z.object({ seq: seqQuerySchema }),
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
}
