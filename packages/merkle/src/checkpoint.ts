import { decodeBase64, encodeBase64, hashBytes } from './hash';
import { NoteError, type NoteSigner, type NoteVerifier, openNote, parseVerifierKey, signNote } from './note';

/**
 * C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint): the signed-note body
 *
 *   <origin>\n<tree size>\n<base64 root hash>\n[<extension line>\n…]
 *
 * committing a log to its root hash at a size.
 */
export interface Checkpoint {
  /** Unique identity of the log, e.g. `fundtrace.example/LEDGER_411325`. */
  readonly origin: string;
  readonly size: number;
  readonly rootHash: Uint8Array;
  /** Opaque extra lines; the spec discourages them, fundtrace writes none but accepts them. */
  readonly extensions: readonly string[];
}

/** Default origin prefix; deployments set their own (LOG_ORIGIN_PREFIX), e.g. a county finance bureau's domain. */
export const defaultOriginPrefix = 'fundtrace.example';

/** The origin of one stream's log: `<prefix>/<stream>`, e.g. `fundtrace.example/LEDGER_411325`. */
export function checkpointOrigin(prefix: string, stream: string): string {
  const origin = `${prefix}/${stream}`;
  if (!/^[^\s+]+$/u.test(origin)) throw new RangeError(`invalid checkpoint origin ${JSON.stringify(origin)}`);
  return origin;
}

export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
  readonly code = 'malformed_checkpoint' as const;
}

export function formatCheckpoint(checkpoint: Checkpoint): string {
  const { origin, size, rootHash, extensions } = checkpoint;
  if (origin.length === 0 || /[\n\r]/.test(origin))
    throw new CheckpointError('origin must be one non-empty line');
  if (!Number.isSafeInteger(size) || size < 0) throw new CheckpointError(`invalid tree size ${size}`);
  if (rootHash.length !== hashBytes) throw new CheckpointError(`root hash must be ${hashBytes} bytes`);
  for (const line of extensions) {
    if (line.length === 0 || line.includes('\n'))
      throw new CheckpointError('extension lines must be non-empty single lines');
  }
  return [origin, String(size), encodeBase64(rootHash), ...extensions].map((l) => `${l}\n`).join('');
}

export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith('\n')) throw new CheckpointError('checkpoint text must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3)
    throw new CheckpointError('a checkpoint has at least three lines: origin, size, root hash');
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin.length === 0) throw new CheckpointError('empty origin');
  // "no leading zeroes (unless the tree is empty)": one spelling per size.
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText))
    throw new CheckpointError(`invalid tree size ${JSON.stringify(sizeText)}`);
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) throw new CheckpointError(`tree size ${sizeText} is beyond 2^53`);
  const rootHash = decodeBase64(rootText);
  if (rootHash === null || rootHash.length !== hashBytes) {
    throw new CheckpointError(`root hash must be the base64 of ${hashBytes} bytes`);
  }
  if (extensions.some((l) => l.length === 0)) throw new CheckpointError('extension lines must be non-empty');
  return { origin, size, rootHash, extensions };
}

/** Sign a checkpoint: the result is the signed note text, what the log publishes and bundles carry. */
export function signCheckpoint(checkpoint: Checkpoint, signer: NoteSigner): string {
  return signNote(formatCheckpoint(checkpoint), [signer]);
}

export type CheckpointFailure = NoteError['code'] | CheckpointError['code'];

/**
 * Verify a signed checkpoint with the log's verifier key (the string or a parsed
 * verifier) and return its contents. Throws NoteError (unknown_key,
 * bad_signature, malformed_note, malformed_verifier_key) or CheckpointError.
 */
export function openCheckpoint(note: string, verifierKey: string | NoteVerifier): Checkpoint {
  const verifier = typeof verifierKey === 'string' ? parseVerifierKey(verifierKey) : verifierKey;
  const { text } = openNote(note, [verifier]);
  return parseCheckpoint(text);
}

/** The failure code of an error thrown by openCheckpoint, or undefined for anything unexpected. */
export function checkpointFailureOf(error: unknown): CheckpointFailure | undefined {
  if (error instanceof NoteError || error instanceof CheckpointError) return error.code;
  return undefined;
}
