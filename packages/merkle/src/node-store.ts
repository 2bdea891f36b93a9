import { hashBytes } from './hash';
import type { NodeKey } from './tree-math';

/** A stored perfect subtree: the hash of leaves [index × 2^level, (index + 1) × 2^level). */
export interface TreeNode extends NodeKey {
  readonly hash: Uint8Array;
}

/**
 * Where a tree keeps the hashes of its complete (perfect) subtrees. Once written a
 * node never changes: appending leaves only adds nodes, so any tree size up to
 * the current one can be answered from the same store.
 *
 * Implementations: `MemoryNodeStore` (tests, tools) and the PostgreSQL store of
 * @fundtrace/db (`merkle_nodes`), scoped to one stream and, for writes, to the
 * caller's transaction.
 */
export interface NodeStore {
  /**
   * The hashes of the given nodes, in the order asked. A missing node means the
   * caller asked beyond the tree it knows about, or the store lost data: both are
   * broken invariants, so implementations throw rather than return a gap.
   */
  readNodes(keys: readonly NodeKey[]): Promise<Uint8Array[]>;
  /** Store new nodes. Writing an existing node with a different hash is a broken invariant and throws. */
  writeNodes(nodes: readonly TreeNode[]): Promise<void>;
}

const keyOf = (key: NodeKey): string => `${key.level}/${key.index}`;

/** An in-memory NodeStore, counting reads so tests can check the O(log n) access pattern. */
export class MemoryNodeStore implements NodeStore {
  readonly #nodes = new Map<string, Uint8Array>();
  /** How many node hashes have been read, and in how many calls (one call = one round trip for a real store). */
  reads = 0;
  readCalls = 0;

  async readNodes(keys: readonly NodeKey[]): Promise<Uint8Array[]> {
    this.readCalls += 1;
    this.reads += keys.length;
    return keys.map((key) => {
      const hash = this.#nodes.get(keyOf(key));
      if (hash === undefined) throw new Error(`merkle node ${keyOf(key)} is missing from the store`);
      return hash;
    });
  }

  async writeNodes(nodes: readonly TreeNode[]): Promise<void> {
    for (const node of nodes) {
      if (node.hash.length !== hashBytes)
        throw new Error(`merkle node ${keyOf(node)} hash is not ${hashBytes} bytes`);
      const existing = this.#nodes.get(keyOf(node));
      if (existing !== undefined && Buffer.compare(existing, node.hash) !== 0) {
        throw new Error(`merkle node ${keyOf(node)} already stored with a different hash`);
      }
      this.#nodes.set(keyOf(node), node.hash);
    }
  }

  get size(): number {
    return this.#nodes.size;
  }
}
