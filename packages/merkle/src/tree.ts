import { emptyRootHash, hashBytes, hashChildren } from './hash';
import type { NodeStore, TreeNode } from './node-store';
import {
  assertSize,
  consistencyRanges,
  inclusionRanges,
  type LeafRange,
  type NodeKey,
  perfectPieces,
} from './tree-math';

/**
 * Query and append functions over a NodeStore. Every query reads O(log n) node
 * hashes in exactly one `readNodes` call (one round trip to PostgreSQL), because
 * each range a proof needs is a node of the RFC 6962 tree and so decomposes into
 * at most log2(n) + 1 perfect subtrees, all stored.
 */

/** Why a query cannot be answered; the HTTP edge maps these to 4xx. */
export type TreeQueryRejection =
  /** Asked about a tree size the log has not reached yet. */
  | 'size_beyond_tree'
  /** The leaf index is not below the tree size asked about. */
  | 'leaf_index_out_of_range'
  /** Consistency from an older size that is larger than the newer one. */
  | 'old_size_greater'
  /** Consistency from the empty tree: nothing to prove, and the verifier refuses it. */
  | 'old_size_zero';

export type TreeQueryResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly code: TreeQueryRejection; readonly message: string };

/** A tree as stored: its node store and how many leaves it holds now. */
export interface StoredTree {
  readonly store: NodeStore;
  readonly size: number;
}

export interface InclusionProof {
  readonly leafIndex: number;
  readonly treeSize: number;
  readonly leafHash: Uint8Array;
  readonly proof: Uint8Array[];
  readonly rootHash: Uint8Array;
}

export interface ConsistencyProof {
  readonly oldSize: number;
  readonly newSize: number;
  readonly oldRoot: Uint8Array;
  readonly newRoot: Uint8Array;
  readonly proof: Uint8Array[];
}

function reject<T>(code: TreeQueryRejection, message: string): TreeQueryResult<T> {
  return { ok: false, code, message };
}

/** Fold a range's perfect pieces from the right: MTH(D[k:n]) = H(MTH(D[k:k+p1]), MTH(rest)). */
function foldRight(hashes: readonly Uint8Array[]): Uint8Array {
  let acc = hashes.at(-1);
  if (acc === undefined) throw new Error('cannot hash an empty range');
  for (let i = hashes.length - 2; i >= 0; i--) acc = hashChildren(hashes[i]!, acc);
  return acc;
}

/** Hash many ranges with a single store read. */
async function hashRanges(store: NodeStore, ranges: readonly LeafRange[]): Promise<Uint8Array[]> {
  const pieces = ranges.map(perfectPieces);
  // Proofs of neighbouring leaves share most of their nodes: ask for each node once.
  const unique = new Map<string, NodeKey>();
  for (const key of pieces.flat()) unique.set(`${key.level}/${key.index}`, key);
  if (unique.size === 0) return [];
  const keys = [...unique.values()];
  const hashes = await store.readNodes(keys);
  if (hashes.length !== keys.length) {
    throw new Error(`store returned ${hashes.length} hashes for ${keys.length} keys`);
  }
  const byKey = new Map<string, Uint8Array>(keys.map((key, i) => [`${key.level}/${key.index}`, hashes[i]!]));
  return pieces.map((p) => foldRight(p.map((key) => byKey.get(`${key.level}/${key.index}`)!)));
}

/** Root hash of the first `size` leaves (size ≤ the tree's size). */
export async function rootAt(tree: StoredTree, size: number): Promise<TreeQueryResult<Uint8Array>> {
  assertSize(size, 'tree size');
  if (size > tree.size)
    return reject('size_beyond_tree', `size ${size} is beyond the tree's ${tree.size} leaves`);
  if (size === 0) return { ok: true, value: emptyRootHash() };
  const [root] = await hashRanges(tree.store, [{ start: 0, end: size }]);
  return { ok: true, value: root! };
}

/** Inclusion proof of leaf `leafIndex` in the tree of `size` leaves, with the leaf hash and root it leads to. */
export async function proveInclusion(
  tree: StoredTree,
  leafIndex: number,
  size: number,
): Promise<TreeQueryResult<InclusionProof>> {
  assertSize(leafIndex, 'leaf index');
  assertSize(size, 'tree size');
  if (size > tree.size)
    return reject('size_beyond_tree', `size ${size} is beyond the tree's ${tree.size} leaves`);
  if (leafIndex >= size)
    return reject('leaf_index_out_of_range', `leaf index ${leafIndex} is not below size ${size}`);
  const path = inclusionRanges(leafIndex, size);
  const [leafHash, root, ...proof] = await hashRanges(tree.store, [
    { start: leafIndex, end: leafIndex + 1 },
    { start: 0, end: size },
    ...path,
  ]);
  return { ok: true, value: { leafIndex, treeSize: size, leafHash: leafHash!, proof, rootHash: root! } };
}

/**
 * Proofs for many leaves of one tree size with a single store read: a roster of
 * thousands of payments gets its evidence in one round trip instead of thousands.
 */
export async function proveInclusionMany(
  tree: StoredTree,
  leafIndices: readonly number[],
  size: number,
): Promise<TreeQueryResult<InclusionProof[]>> {
  assertSize(size, 'tree size');
  if (size > tree.size)
    return reject('size_beyond_tree', `size ${size} is beyond the tree's ${tree.size} leaves`);
  for (const leafIndex of leafIndices) {
    assertSize(leafIndex, 'leaf index');
    if (leafIndex >= size)
      return reject('leaf_index_out_of_range', `leaf index ${leafIndex} is not below size ${size}`);
  }
  const paths = leafIndices.map((leafIndex) => inclusionRanges(leafIndex, size));
  const hashes = await hashRanges(tree.store, [
    { start: 0, end: size },
    ...leafIndices.map((i) => ({ start: i, end: i + 1 })),
    ...paths.flat(),
  ]);
  const rootHash = hashes[0]!;
  let offset = 1 + leafIndices.length;
  const proofs = leafIndices.map((leafIndex, i) => {
    const proof = hashes.slice(offset, offset + paths[i]!.length);
    offset += paths[i]!.length;
    return { leafIndex, treeSize: size, leafHash: hashes[1 + i]!, proof, rootHash };
  });
  return { ok: true, value: proofs };
}

/** Consistency proof that the tree of `oldSize` leaves is a prefix of the tree of `newSize` leaves. */
export async function proveConsistency(
  tree: StoredTree,
  oldSize: number,
  newSize: number,
): Promise<TreeQueryResult<ConsistencyProof>> {
  assertSize(oldSize, 'old size');
  assertSize(newSize, 'new size');
  if (newSize > tree.size)
    return reject('size_beyond_tree', `size ${newSize} is beyond the tree's ${tree.size} leaves`);
  if (oldSize > newSize)
    return reject('old_size_greater', `old size ${oldSize} is greater than new size ${newSize}`);
  if (oldSize === 0) return reject('old_size_zero', 'consistency with the empty tree proves nothing');
  const path = oldSize === newSize ? [] : consistencyRanges(oldSize, newSize);
  const [oldRoot, newRoot, ...proof] = await hashRanges(tree.store, [
    { start: 0, end: oldSize },
    { start: 0, end: newSize },
    ...path,
  ]);
  return { ok: true, value: { oldSize, newSize, oldRoot: oldRoot!, newRoot: newRoot!, proof } };
}

export interface AppendResult {
  readonly size: number;
  readonly rootHash: Uint8Array;
  /** The nodes written, leaves included (for metrics and tests). */
  readonly nodesWritten: number;
}

/**
 * Append leaf hashes to a tree of `tree.size` leaves. Reads the right edge once
 * (at most log2(n) + 1 hashes), computes every new perfect subtree in memory like
 * a binary counter, and writes them in one call: O(log n) reads and amortised
 * O(1) writes per leaf.
 */
export async function appendLeaves(
  tree: StoredTree,
  leafHashes: readonly Uint8Array[],
): Promise<AppendResult> {
  assertSize(tree.size, 'tree size');
  if (!Number.isSafeInteger(tree.size + leafHashes.length))
    throw new RangeError('tree size would exceed 2^53');
  const frontierKeys = tree.size === 0 ? [] : perfectPieces({ start: 0, end: tree.size });
  const frontierHashes = frontierKeys.length === 0 ? [] : await tree.store.readNodes(frontierKeys);
  const stack: TreeNode[] = frontierKeys.map((key, i) => ({ ...key, hash: frontierHashes[i]! }));
  const written: TreeNode[] = [];
  let size = tree.size;
  for (const leafHash of leafHashes) {
    if (leafHash.length !== hashBytes) throw new Error(`leaf ${size} hash is not ${hashBytes} bytes`);
    let node: TreeNode = { level: 0, index: size, hash: leafHash };
    written.push(node);
    // The stack is the perfect decomposition of [0, size): merge equal-sized neighbours.
    for (let top = stack.at(-1); top !== undefined && top.level === node.level; top = stack.at(-1)) {
      stack.pop();
      if (top.index % 2 !== 0) throw new Error(`merkle frontier out of order at ${top.level}/${top.index}`);
      node = { level: node.level + 1, index: top.index / 2, hash: hashChildren(top.hash, node.hash) };
      written.push(node);
    }
    stack.push(node);
    size += 1;
  }
  if (written.length > 0) await tree.store.writeNodes(written);
  const rootHash = stack.length === 0 ? emptyRootHash() : foldRight(stack.map((n) => n.hash));
  return { size, rootHash, nodesWritten: written.length };
}
