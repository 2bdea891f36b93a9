import { createHash, createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { decodeBase64, encodeBase64, toHex } from './hash';

/**
 * C2SP signed-note (https://c2sp.org/signed-note) with Ed25519 keys, the format
 * Go's sumdb/note, transparency-dev and sigstore use, so that any of their
 * verifiers can check a fundtrace checkpoint.
 *
 *   <text ending in \n>
 *   <blank line>
 *   — <key name> <base64(4-byte key id ‖ 64-byte Ed25519 signature)>
 */

/** Signature type byte for Ed25519 (signed-note §Signature types). */
export const ed25519SignatureType = 0x01;

/** Ed25519 public keys and seeds are 32 bytes, signatures 64 (RFC 8032). */
const ed25519KeyBytes = 32;
const ed25519SignatureBytes = 64;
const keyIdBytes = 4;

/**
 * The spec asks verifiers to cap signatures but accept at least 16; 100 is Go's
 * sumdb/note cap, room for the log's key plus many witnesses.
 */
export const noteSignaturesMax = 100;

/**
 * A checkpoint is ~150 bytes and a signature line ~110; 1 MiB leaves room for 100
 * post-quantum signatures (~5 kB each) while refusing to parse arbitrary uploads.
 */
export const noteBytesMax = 1024 * 1024;

const signaturePrefix = '\u2014 ';

export type NoteFailure =
  /** Not a signed note: bad structure, control characters, bad signature line. */
  | 'malformed_note'
  /** The verifier key string is not `<name>+<hex key id>+<base64(0x01 ‖ key)>` or its id does not match. */
  | 'malformed_verifier_key'
  /** The signing key material is not an Ed25519 PKCS#8 key or 32-byte seed. */
  | 'malformed_signing_key'
  /** No signature line comes from a key we trust. */
  | 'unknown_key'
  /** A signature line from a trusted key does not verify: the text was changed or forged. */
  | 'bad_signature';

export class NoteError extends Error {
  override readonly name = 'NoteError';
  constructor(
    readonly code: NoteFailure,
    message: string,
  ) {
    super(message);
  }
}

export interface NoteVerifier {
  readonly name: string;
  readonly keyId: Uint8Array;
  readonly publicKey: Uint8Array;
  verify(text: Uint8Array, signature: Uint8Array): boolean;
}

export interface NoteSigner {
  readonly name: string;
  readonly keyId: Uint8Array;
  readonly publicKey: Uint8Array;
  /** `<name>+<hex key id>+<base64(0x01 ‖ public key)>`: what a verifier needs, and all it needs. */
  readonly verifierKey: string;
  sign(text: Uint8Array): Uint8Array;
}

/** Key names are non-empty, without Unicode spaces or '+' (signed-note §Format). */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !/[\s+]/u.test(name) && !hasForbiddenControl(name, false);
}

function hasForbiddenControl(text: string, allowNewline: boolean): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 && !(allowNewline && c === 0x0a)) return true;
  }
  return false;
}

/** key ID = SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ 32-byte Ed25519 public key)[:4]. */
export function noteKeyId(name: string, publicKey: Uint8Array): Uint8Array {
  const digest = createHash('sha256')
    .update(Buffer.from(name, 'utf8'))
    .update(Uint8Array.of(0x0a, ed25519SignatureType))
    .update(publicKey)
    .digest();
  return new Uint8Array(digest.subarray(0, keyIdBytes));
}

export function formatVerifierKey(name: string, publicKey: Uint8Array): string {
  if (!isValidKeyName(name))
    throw new NoteError('malformed_verifier_key', `invalid key name ${JSON.stringify(name)}`);
  if (publicKey.length !== ed25519KeyBytes)
    throw new NoteError('malformed_verifier_key', 'Ed25519 keys are 32 bytes');
  const typed = new Uint8Array(1 + ed25519KeyBytes);
  typed[0] = ed25519SignatureType;
  typed.set(publicKey, 1);
  return `${name}+${toHex(noteKeyId(name, publicKey))}+${encodeBase64(typed)}`;
}

function publicKeyObject(raw: Uint8Array): KeyObject {
  return createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') },
    format: 'jwk',
  });
}

function rawPublicKey(key: KeyObject): Uint8Array {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.x === undefined) throw new Error('Ed25519 key without public component');
  return new Uint8Array(Buffer.from(jwk.x, 'base64url'));
}

/** Parse `<name>+<8 hex digits>+<base64(0x01 ‖ 32-byte key)>`, checking the key id against the key. */
export function parseVerifierKey(text: string): NoteVerifier {
  const bad = (why: string): never => {
    throw new NoteError('malformed_verifier_key', `verifier key: ${why}`);
  };
  const trimmed = text.trim();
  // Split at the first two '+' only: names cannot contain '+', base64 keys can.
  const first = trimmed.indexOf('+');
  const second = first < 0 ? -1 : trimmed.indexOf('+', first + 1);
  if (second < 0) bad('expected <name>+<key id>+<key>');
  const name = trimmed.slice(0, first);
  const idHex = trimmed.slice(first + 1, second);
  const keyText = trimmed.slice(second + 1);
  if (!isValidKeyName(name)) bad(`invalid key name ${JSON.stringify(name)}`);
  if (!/^[0-9a-f]{8}$/.test(idHex)) bad('key id must be 8 lowercase hex digits');
  const typed = decodeBase64(keyText) ?? bad('key is not valid base64');
  if (typed.length !== 1 + ed25519KeyBytes) bad(`key must be 33 bytes, got ${typed.length}`);
  if (typed[0] !== ed25519SignatureType) bad(`unsupported signature type 0x${typed[0]!.toString(16)}`);
  const publicKey = typed.slice(1);
  const keyId = noteKeyId(name, publicKey);
  if (toHex(keyId) !== idHex) bad('key id does not match the name and key');
  let keyObject: KeyObject;
  try {
    keyObject = publicKeyObject(publicKey);
  } catch {
    return bad('not a valid Ed25519 public key');
  }
  return {
    name,
    keyId,
    publicKey,
    verify: (message, signature) =>
      signature.length === ed25519SignatureBytes && verify(null, message, keyObject, signature),
  };
}

// RFC 8410 PKCS#8 wrapping of a raw Ed25519 seed.
const pkcs8Ed25519Prefix = Buffer.from('302e020100300506032b657004220420', 'hex');

/** A signer from a 32-byte Ed25519 seed. */
export function signerFromSeed(name: string, seed: Uint8Array): NoteSigner {
  if (seed.length !== ed25519KeyBytes)
    throw new NoteError('malformed_signing_key', 'an Ed25519 seed is 32 bytes');
  const key = createPrivateKey({
    key: Buffer.concat([pkcs8Ed25519Prefix, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  return signerFromKey(name, key);
}

/** A signer from a node:crypto Ed25519 private key. */
export function signerFromKey(name: string, privateKey: KeyObject): NoteSigner {
  if (!isValidKeyName(name))
    throw new NoteError('malformed_signing_key', `invalid key name ${JSON.stringify(name)}`);
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
    throw new NoteError('malformed_signing_key', 'the signing key must be an Ed25519 private key');
  }
  const publicKey = rawPublicKey(createPublicKey(privateKey));
  const keyId = noteKeyId(name, publicKey);
  return {
    name,
    keyId,
    publicKey,
    verifierKey: formatVerifierKey(name, publicKey),
    sign: (text) => new Uint8Array(sign(null, text, privateKey)),
  };
}

/**
 * A signer from configuration text: base64 of either a PKCS#8 DER Ed25519 key
 * (what `openssl genpkey -algorithm ed25519 -outform DER` writes) or a 32-byte seed.
 */
export function parseSigningKey(name: string, base64Text: string): NoteSigner {
  const bytes = decodeBase64(base64Text.trim());
  if (bytes === null) throw new NoteError('malformed_signing_key', 'the signing key is not valid base64');
  if (bytes.length === ed25519KeyBytes) return signerFromSeed(name, bytes);
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: Buffer.from(bytes), format: 'der', type: 'pkcs8' });
  } catch {
    throw new NoteError('malformed_signing_key', 'the signing key is neither a 32-byte seed nor PKCS#8 DER');
  }
  return signerFromKey(name, key);
}

function assertNoteText(text: string): void {
  if (!text.endsWith('\n')) throw new NoteError('malformed_note', 'note text must end with a newline');
  if (hasForbiddenControl(text, true))
    throw new NoteError('malformed_note', 'note text contains control characters');
}

/** Sign `text` (which must end in a newline) with one or more keys, producing the note. */
export function signNote(text: string, signers: readonly NoteSigner[]): string {
  assertNoteText(text);
  if (signers.length === 0 || signers.length > noteSignaturesMax) {
    throw new NoteError('malformed_note', `a note needs 1 to ${noteSignaturesMax} signatures`);
  }
  const message = Buffer.from(text, 'utf8');
  const lines = signers.map((signer) => {
    const signature = signer.sign(message);
    const blob = new Uint8Array(keyIdBytes + signature.length);
    blob.set(signer.keyId, 0);
    blob.set(signature, keyIdBytes);
    return `${signaturePrefix}${signer.name} ${encodeBase64(blob)}\n`;
  });
  const note = `${text}\n${lines.join('')}`;
  if (Buffer.byteLength(note, 'utf8') > noteBytesMax) throw new NoteError('malformed_note', 'note too large');
  return note;
}

export interface OpenedNote {
  /** The signed text, final newline included. */
  readonly text: string;
  /** Names of the trusted keys whose signatures verified. */
  readonly verifiedBy: readonly string[];
}

interface SignatureLine {
  readonly name: string;
  readonly keyId: Uint8Array;
  readonly signature: Uint8Array;
}

function parseSignatureLine(line: string): SignatureLine {
  const bad = (why: string): never => {
    throw new NoteError('malformed_note', `signature line: ${why}`);
  };
  if (!line.startsWith(signaturePrefix)) bad('must start with an em dash and a space');
  const rest = line.slice(signaturePrefix.length);
  const space = rest.indexOf(' ');
  if (space < 0) bad('expected a key name and a signature');
  const name = rest.slice(0, space);
  const blob = decodeBase64(rest.slice(space + 1)) ?? bad('signature is not valid base64');
  if (!isValidKeyName(name)) bad(`invalid key name ${JSON.stringify(name)}`);
  if (blob.length <= keyIdBytes) bad('signature too short');
  return { name, keyId: blob.slice(0, keyIdBytes), signature: blob.slice(keyIdBytes) };
}

/**
 * Verify a signed note against trusted keys and return its text. Following the
 * spec: signatures from unknown keys (name and id not both matching) are
 * ignored; a failing signature from a trusted key rejects the whole note; at
 * least one trusted signature must verify.
 */
export function openNote(note: string, verifiers: readonly NoteVerifier[]): OpenedNote {
  if (Buffer.byteLength(note, 'utf8') > noteBytesMax) throw new NoteError('malformed_note', 'note too large');
  if (hasForbiddenControl(note, true))
    throw new NoteError('malformed_note', 'note contains control characters');
  const split = note.lastIndexOf('\n\n');
  if (split < 0)
    throw new NoteError('malformed_note', 'no blank line separates the text from the signatures');
  const text = note.slice(0, split + 1);
  const signatureBlock = note.slice(split + 2);
  if (!signatureBlock.endsWith('\n'))
    throw new NoteError('malformed_note', 'signatures must end with a newline');
  const lines = signatureBlock.slice(0, -1).split('\n');
  if (lines.length > noteSignaturesMax)
    throw new NoteError('malformed_note', `more than ${noteSignaturesMax} signatures`);
  const signatures = lines.map(parseSignatureLine);
  const message = Buffer.from(text, 'utf8');
  const verifiedBy: string[] = [];
  for (const line of signatures) {
    const verifier = verifiers.find(
      (v) => v.name === line.name && Buffer.compare(Buffer.from(v.keyId), Buffer.from(line.keyId)) === 0,
    );
    if (verifier === undefined) continue;
    if (!verifier.verify(message, line.signature)) {
      throw new NoteError(
        'bad_signature',
        `the signature of ${line.name} does not verify: the note was altered`,
      );
    }
    if (!verifiedBy.includes(line.name)) verifiedBy.push(line.name);
  }
  if (verifiedBy.length === 0) {
    const names = signatures.map((s) => s.name).join(', ');
    throw new NoteError('unknown_key', `the note is not signed by a trusted key (signed by: ${names})`);
  }
  return { text, verifiedBy };
}
