import { bytesEqual, hashBytes, hashChildren } from './hash';

/**
 * Why a proof was rejected. A closed set so that callers (the CLI, the HTTP
 * edge, a notice-board reader) can say precisely what failed.
 */
export type ProofFailure =
  /** The leaf index is not below the tree size (including any index in an empty tree). */
  | 'leaf_index_out_of_range'
  /** A size or index is negative, fractional or beyond 2^53. */
  | 'invalid_size'
  /** The old tree is larger than the new one: a log never shrinks. */
  | 'old_size_greater'
  /** Consistency with the empty tree proves nothing, so it is refused rather than vacuously accepted. */
  | 'old_size_zero'
  /** Equal sizes need no proof; a non-empty one means the prover and verifier disagree on the question. */
  | 'proof_not_empty'
  | 'proof_empty'
  /** The proof has more hashes than the tree shape allows. */
  | 'proof_too_long'
  /** The proof has fewer hashes than the tree shape needs. */
  | 'proof_too_short'
  /** A proof hash or leaf hash is not 32 bytes. */
  | 'malformed_hash'
  /** The recomputed root differs from the claimed one. */
  | 'root_mismatch'
  /** Consistency: the proof does not rebuild the old root. */
  | 'old_root_mismatch'
  /** Consistency: the proof does not rebuild the new root. */
  | 'new_root_mismatch';

export type Verification =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: ProofFailure; readonly message: string };

const verified: Verification = Object.freeze({ ok: true });

function fail(reason: ProofFailure, message: string): Verification {
  return { ok: false, reason, message };
}

function isSize(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

const half = (x: number): number => Math.floor(x / 2);
const odd = (x: number): boolean => x % 2 === 1;

function malformedHashAt(hashes: readonly Uint8Array[]): number {
  return hashes.findIndex((h) => h.length !== hashBytes);
}

/**
 * RFC 9162 §2.1.3.2: does `leafHash` sit at `leafIndex` in the tree of
 * `treeSize` leaves whose root is `rootHash`?
 */
export function verifyInclusion(input: {
  readonly leafIndex: number;
  readonly treeSize: number;
  readonly leafHash: Uint8Array;
  readonly proof: readonly Uint8Array[];
  readonly rootHash: Uint8Array;
}): Verification {
  const { leafIndex, treeSize, leafHash, proof, rootHash } = input;
  if (!isSize(leafIndex) || !isSize(treeSize)) {
    return fail(
      'invalid_size',
      `leaf index ${leafIndex} and tree size ${treeSize} must be safe non-negative integers`,
    );
  }
  if (leafIndex >= treeSize) {
    return fail('leaf_index_out_of_range', `leaf index ${leafIndex} is not below tree size ${treeSize}`);
  }
  if (leafHash.length !== hashBytes) {
    return fail('malformed_hash', `leaf hash has ${leafHash.length} bytes, expected ${hashBytes}`);
  }
  const bad = malformedHashAt(proof);
  if (bad >= 0) {
    return fail('malformed_hash', `proof hash ${bad} has ${proof[bad]!.length} bytes, expected ${hashBytes}`);
  }
  let fn = leafIndex;
  let sn = treeSize - 1;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0)
      return fail(
        'proof_too_long',
        `proof has more than the needed hashes for leaf ${leafIndex} of ${treeSize}`,
      );
    if (odd(fn) || fn === sn) {
      r = hashChildren(p, r);
      while (!odd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = hashChildren(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0)
    return fail(
      'proof_too_short',
      `proof of ${proof.length} hashes is too short for leaf ${leafIndex} of ${treeSize}`,
    );
  if (!bytesEqual(r, rootHash))
    return fail('root_mismatch', 'the proof does not lead to the claimed root hash');
  return verified;
}

/**
 * RFC 9162 §2.1.4.2: is the tree of `oldSize` leaves with root `oldRoot` a
 * prefix of the tree of `newSize` leaves with root `newRoot`?
 *
 * The RFC defines the check for 0 < old < new. Equal sizes are consistent iff the
 * roots are equal and the proof is empty. Old size 0 is refused
 * (`old_size_zero`): it is trivially consistent with anything, so a caller asking
 * is checking the wrong thing (the transparency-dev test vectors agree).
 */
export function verifyConsistency(input: {
  readonly oldSize: number;
  readonly newSize: number;
  readonly oldRoot: Uint8Array;
  readonly newRoot: Uint8Array;
  readonly proof: readonly Uint8Array[];
}): Verification {
  const { oldSize, newSize, oldRoot, newRoot, proof } = input;
  if (!isSize(oldSize) || !isSize(newSize)) {
    return fail('invalid_size', `sizes ${oldSize} and ${newSize} must be safe non-negative integers`);
  }
  if (oldSize > newSize)
    return fail('old_size_greater', `old size ${oldSize} is greater than new size ${newSize}`);
  if (oldSize === 0) return fail('old_size_zero', 'consistency with the empty tree proves nothing');
  if (oldSize === newSize) {
    if (proof.length > 0)
      return fail('proof_not_empty', `sizes are equal (${oldSize}) but the proof is not empty`);
    if (!bytesEqual(oldRoot, newRoot))
      return fail('root_mismatch', `sizes are equal (${oldSize}) but the roots differ`);
    return verified;
  }
  if (proof.length === 0) return fail('proof_empty', `a proof from ${oldSize} to ${newSize} cannot be empty`);
  const bad = malformedHashAt(proof);
  if (bad >= 0) {
    return fail('malformed_hash', `proof hash ${bad} has ${proof[bad]!.length} bytes, expected ${hashBytes}`);
  }

  // Step 2: when the old tree is a complete subtree, its root is the proof's implicit first hash.
  const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : [...proof];
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (odd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0)
      return fail('proof_too_long', `proof has more than the needed hashes for ${oldSize} → ${newSize}`);
    if (odd(fn) || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      while (!odd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = hashChildren(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0)
    return fail(
      'proof_too_short',
      `proof of ${proof.length} hashes is too short for ${oldSize} → ${newSize}`,
    );
  if (!bytesEqual(fr, oldRoot))
    return fail('old_root_mismatch', 'the proof does not rebuild the old root hash');
  if (!bytesEqual(sr, newRoot))
    return fail('new_root_mismatch', 'the proof does not rebuild the new root hash');
  return verified;
}

function isPowerOfTwo(n: number): boolean {
  let x = n;
  while (x > 1 && x % 2 === 0) x /= 2;
  return x === 1;
}
