/**
 * Shapes of RFC 6962 trees, as ranges of leaf indices. Everything here is
 * arithmetic on sizes; hashing and storage live elsewhere.
 *
 * Sizes and indices are JavaScript numbers. JetStream sequences are uint64, but a
 * stream would need 2^53 events before that matters, so beyond
 * Number.MAX_SAFE_INTEGER is an invariant violation rather than a case to handle.
 * Bitwise operators are 32-bit in JavaScript, so this file uses arithmetic only.
 */

/** Half-open range [start, end) of leaf indices; always a node of the RFC 6962 tree it came from. */
export interface LeafRange {
  readonly start: number;
  readonly end: number;
}

/** A perfect subtree: 2^level leaves starting at leaf index × 2^level. */
export interface NodeKey {
  readonly level: number;
  readonly index: number;
}

export function assertSize(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${what} must be a non-negative safe integer, got ${value}`);
  }
}

/** The largest power of two strictly less than n (n ≥ 2): RFC 6962's split point k. */
export function splitPoint(n: number): number {
  if (!(n >= 2)) throw new RangeError(`split point needs at least 2 leaves, got ${n}`);
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * The perfect subtrees that make up [start, end), left to right, largest first.
 * For a range that is a node of an RFC 6962 tree (start aligned to a power of two
 * at least end − start) this is the binary decomposition of its size, and its
 * hash is the right fold of the pieces' hashes.
 */
export function perfectPieces(range: LeafRange): NodeKey[] {
  const pieces: NodeKey[] = [];
  let start = range.start;
  while (start < range.end) {
    let size = 1;
    let level = 0;
    while (start % (size * 2) === 0 && start + size * 2 <= range.end) {
      size *= 2;
      level += 1;
    }
    const previous = pieces.at(-1);
    if (previous !== undefined && previous.level <= level) {
      throw new Error(`range [${range.start}, ${range.end}) is not a node of an RFC 6962 tree`);
    }
    pieces.push({ level, index: start / size });
    start += size;
  }
  return pieces;
}

/** RFC 6962 §2.1.1 PATH(m, D[start:end]) as ranges, deepest sibling first. */
export function inclusionRanges(leafIndex: number, treeSize: number): LeafRange[] {
  const ranges: LeafRange[] = [];
  let start = 0;
  let end = treeSize;
  // Walk from the root down, then reverse: the proof lists siblings from the leaf up.
  while (end - start > 1) {
    const k = splitPoint(end - start);
    if (leafIndex - start < k) {
      ranges.push({ start: start + k, end });
      end = start + k;
    } else {
      ranges.push({ start, end: start + k });
      start += k;
    }
  }
  return ranges.reverse();
}

/** RFC 6962 §2.1.2 PROOF(m, D[n]) = SUBPROOF(m, D[n], true) as ranges, for 0 < m < n. */
export function consistencyRanges(oldSize: number, newSize: number): LeafRange[] {
  if (!(oldSize > 0 && oldSize < newSize)) {
    throw new RangeError(`consistency proof needs 0 < old size < new size, got ${oldSize} and ${newSize}`);
  }
  const ranges: LeafRange[] = [];
  let m = oldSize;
  let start = 0;
  let end = newSize;
  let complete = true; // SUBPROOF's b: is the old tree a complete subtree of what we look at?
  while (m !== end - start) {
    const k = splitPoint(end - start);
    if (m <= k) {
      ranges.push({ start: start + k, end });
      end = start + k;
    } else {
      ranges.push({ start, end: start + k });
      m -= k;
      start += k;
      complete = false;
    }
  }
  if (!complete) ranges.push({ start, end });
  return ranges.reverse();
}
