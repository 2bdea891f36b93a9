import { type CheckpointFailure, checkpointFailureOf, openCheckpoint } from './checkpoint';
import { decodeBase64, encodeBase64, hashLeaf } from './hash';
import { type NoteVerifier, parseVerifierKey } from './note';
import { type ProofFailure, verifyConsistency, verifyInclusion } from './verify';

/**
 * Evidence bundles: everything a reader needs to check, offline and with nothing
 * but the log's verifier key, that an event is in the log (inclusion) or that
 * the log was only appended to between two checkpoints (consistency).
 *
 * The tree size is never a separate field: it is the signed checkpoint's size,
 * so a bundle cannot claim one size and prove against another.
 */
export const bundleFormat = 'fundtrace-evidence/v1';

/**
 * A proof has at most one hash per tree level plus one; 2^64 leaves need 65.
 * Anything longer is not a proof, whatever it hashes to.
 */
export const bundleProofHashesMax = 65;

/** The largest event fundtrace writes is a few kB; 1 MiB bounds what a verifier will hash. */
export const bundleEventBytesMax = 1024 * 1024;

/** A bundle file is the event (base64, ×4/3), two checkpoints and a proof: 2 MiB bounds the whole JSON. */
export const bundleJsonBytesMax = 2 * 1024 * 1024;

export interface InclusionBundle {
  readonly format: typeof bundleFormat;
  readonly kind: 'inclusion';
  /** Signed checkpoint note; its size is the tree size the proof is for. */
  readonly checkpoint: string;
  /** Leaf index in the stream's log: the event's stream sequence − 1. */
  readonly leafIndex: number;
  /** Base64 of the event's canonical bytes; the verifier hashes it itself. */
  readonly event?: string;
  /** Base64 leaf hash, for evidence that must not reveal the event itself. */
  readonly leafHash?: string;
  readonly proof: readonly string[];
}

export interface ConsistencyBundle {
  readonly format: typeof bundleFormat;
  readonly kind: 'consistency';
  readonly oldCheckpoint: string;
  readonly newCheckpoint: string;
  readonly proof: readonly string[];
}

export type EvidenceBundle = InclusionBundle | ConsistencyBundle;

export type BundleFailure =
  /** Not a bundle: wrong JSON shape, bad base64, limits exceeded. */
  | 'malformed_bundle'
  /** A bundle of a format version this verifier does not know. */
  | 'unsupported_format'
  /** Old and new checkpoints are from different logs. */
  | 'origin_mismatch'
  /** The bundle carries both the event and a leaf hash, and they disagree. */
  | 'leaf_hash_mismatch'
  | CheckpointFailure
  | ProofFailure;

export type BundleVerification =
  | {
      readonly ok: true;
      readonly kind: 'inclusion';
      readonly origin: string;
      readonly treeSize: number;
      readonly leafIndex: number;
      readonly leafHash: Uint8Array;
      readonly rootHash: Uint8Array;
    }
  | {
      readonly ok: true;
      readonly kind: 'consistency';
      readonly origin: string;
      readonly oldSize: number;
      readonly newSize: number;
      readonly newRoot: Uint8Array;
    }
  | { readonly ok: false; readonly reason: BundleFailure; readonly message: string };

export function inclusionBundle(input: {
  readonly checkpoint: string;
  readonly leafIndex: number;
  readonly proof: readonly Uint8Array[];
  /** Give the event bytes (preferred) or only its leaf hash. */
  readonly event?: Uint8Array;
  readonly leafHash?: Uint8Array;
}): InclusionBundle {
  if ((input.event === undefined) === (input.leafHash === undefined)) {
    throw new TypeError('an inclusion bundle carries either the event bytes or the leaf hash');
  }
  return {
    format: bundleFormat,
    kind: 'inclusion',
    checkpoint: input.checkpoint,
    leafIndex: input.leafIndex,
    ...(input.event !== undefined ? { event: encodeBase64(input.event) } : {}),
    ...(input.leafHash !== undefined ? { leafHash: encodeBase64(input.leafHash) } : {}),
    proof: input.proof.map(encodeBase64),
  };
}

export function consistencyBundle(input: {
  readonly oldCheckpoint: string;
  readonly newCheckpoint: string;
  readonly proof: readonly Uint8Array[];
}): ConsistencyBundle {
  return {
    format: bundleFormat,
    kind: 'consistency',
    oldCheckpoint: input.oldCheckpoint,
    newCheckpoint: input.newCheckpoint,
    proof: input.proof.map(encodeBase64),
  };
}

class Malformed extends Error {}

function field<T>(
  object: Record<string, unknown>,
  key: string,
  check: (v: unknown) => v is T,
  what: string,
): T {
  const value = object[key];
  if (!check(value)) throw new Malformed(`${key} must be ${what}`);
  return value;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isIndex = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);

function onlyKeys(object: Record<string, unknown>, allowed: readonly string[]): void {
  const extra = Object.keys(object).filter((k) => !allowed.includes(k));
  // Evidence has one reading: fields this verifier would ignore are refused, not skipped.
  if (extra.length > 0) throw new Malformed(`unknown fields: ${extra.join(', ')}`);
}

function decodeProof(proof: readonly string[]): Uint8Array[] {
  if (proof.length > bundleProofHashesMax)
    throw new Malformed(`proof has more than ${bundleProofHashesMax} hashes`);
  return proof.map((p, i) => {
    const bytes = decodeBase64(p);
    if (bytes === null) throw new Malformed(`proof[${i}] is not valid base64`);
    return bytes;
  });
}

function failure(reason: BundleFailure, message: string): BundleVerification {
  return { ok: false, reason, message };
}

/** Parse bundle JSON text (bounded) and verify it. */
export function verifyBundleJson(json: string, verifierKey: string | NoteVerifier): BundleVerification {
  if (Buffer.byteLength(json, 'utf8') > bundleJsonBytesMax) {
    return failure('malformed_bundle', `bundle larger than ${bundleJsonBytesMax} bytes`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    return failure('malformed_bundle', `not JSON: ${(error as Error).message}`);
  }
  return verifyBundle(parsed, verifierKey);
}

/**
 * Verify an evidence bundle with the log's verifier key. Never throws for bad
 * input: every way a bundle can be wrong is a named reason.
 */
export function verifyBundle(bundle: unknown, verifierKey: string | NoteVerifier): BundleVerification {
  let verifier: NoteVerifier;
  try {
    verifier = typeof verifierKey === 'string' ? parseVerifierKey(verifierKey) : verifierKey;
  } catch (error) {
    return failure('malformed_verifier_key', (error as Error).message);
  }
  try {
    if (typeof bundle !== 'object' || bundle === null || Array.isArray(bundle))
      throw new Malformed('not a JSON object');
    const object = bundle as Record<string, unknown>;
    if (object.format !== bundleFormat) {
      return failure(
        'unsupported_format',
        `expected format ${bundleFormat}, got ${JSON.stringify(object.format)}`,
      );
    }
    if (object.kind === 'inclusion') return verifyInclusionBundle(object, verifier);
    if (object.kind === 'consistency') return verifyConsistencyBundle(object, verifier);
    throw new Malformed(`kind must be "inclusion" or "consistency"`);
  } catch (error) {
    if (error instanceof Malformed) return failure('malformed_bundle', error.message);
    const code = checkpointFailureOf(error);
    if (code !== undefined) return failure(code, (error as Error).message);
    throw error;
  }
}

function verifyInclusionBundle(object: Record<string, unknown>, verifier: NoteVerifier): BundleVerification {
  onlyKeys(object, ['format', 'kind', 'checkpoint', 'leafIndex', 'event', 'leafHash', 'proof']);
  const note = field(object, 'checkpoint', isString, 'a signed checkpoint note');
  const leafIndex = field(object, 'leafIndex', isIndex, 'a non-negative integer');
  const proof = decodeProof(field(object, 'proof', isStringArray, 'an array of base64 hashes'));
  const eventText = object.event === undefined ? undefined : field(object, 'event', isString, 'base64 text');
  const hashText =
    object.leafHash === undefined ? undefined : field(object, 'leafHash', isString, 'base64 text');
  if (eventText === undefined && hashText === undefined)
    throw new Malformed('needs the event or its leaf hash');

  let leafHash: Uint8Array | undefined;
  if (eventText !== undefined) {
    // base64 is 4/3 of the bytes: check the bound before decoding.
    if (eventText.length > Math.ceil(bundleEventBytesMax / 3) * 4) throw new Malformed('event too large');
    const event = decodeBase64(eventText);
    if (event === null) throw new Malformed('event is not valid base64');
    leafHash = hashLeaf(event);
  }
  if (hashText !== undefined) {
    const given = decodeBase64(hashText);
    if (given === null) throw new Malformed('leafHash is not valid base64');
    if (leafHash !== undefined && Buffer.compare(leafHash, given) !== 0) {
      return failure('leaf_hash_mismatch', 'the leaf hash does not match the event bytes');
    }
    leafHash = given;
  }

  const checkpoint = openCheckpoint(note, verifier);
  const result = verifyInclusion({
    leafIndex,
    treeSize: checkpoint.size,
    leafHash: leafHash!,
    proof,
    rootHash: checkpoint.rootHash,
  });
  if (!result.ok) return result;
  return {
    ok: true,
    kind: 'inclusion',
    origin: checkpoint.origin,
    treeSize: checkpoint.size,
    leafIndex,
    leafHash: leafHash!,
    rootHash: checkpoint.rootHash,
  };
}

function verifyConsistencyBundle(
  object: Record<string, unknown>,
  verifier: NoteVerifier,
): BundleVerification {
  onlyKeys(object, ['format', 'kind', 'oldCheckpoint', 'newCheckpoint', 'proof']);
  const oldNote = field(object, 'oldCheckpoint', isString, 'a signed checkpoint note');
  const newNote = field(object, 'newCheckpoint', isString, 'a signed checkpoint note');
  const proof = decodeProof(field(object, 'proof', isStringArray, 'an array of base64 hashes'));
  const older = openCheckpoint(oldNote, verifier);
  const newer = openCheckpoint(newNote, verifier);
  if (older.origin !== newer.origin) {
    return failure(
      'origin_mismatch',
      `checkpoints are from different logs: ${older.origin} and ${newer.origin}`,
    );
  }
  const result = verifyConsistency({
    oldSize: older.size,
    newSize: newer.size,
    oldRoot: older.rootHash,
    newRoot: newer.rootHash,
    proof,
  });
  if (!result.ok) return result;
  return {
    ok: true,
    kind: 'consistency',
    origin: newer.origin,
    oldSize: older.size,
    newSize: newer.size,
    newRoot: newer.rootHash,
  };
}
