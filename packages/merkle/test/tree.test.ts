import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  appendLeaves,
  emptyRootHash,
  encodeBase64,
  hashLeaf,
  MemoryNodeStore,
  proveConsistency,
  proveInclusion,
  proveInclusionMany,
  rootAt,
  type StoredTree,
  verifyConsistency,
  verifyInclusion,
} from '../src/index';
import { ReferenceTree } from './reference';

function leafData(i: number): Uint8Array {
  return new TextEncoder().encode(`event-${i}`);
}

async function buildTree(leaves: readonly Uint8Array[], batches: readonly number[] = [leaves.length]) {
  const store = new MemoryNodeStore();
  let tree: StoredTree = { store, size: 0 };
  let offset = 0;
  for (const batch of batches) {
    const slice = leaves.slice(offset, offset + batch).map(hashLeaf);
    const result = await appendLeaves(tree, slice);
    tree = { store, size: result.size };
    offset += batch;
  }
  if (offset < leaves.length) {
    const result = await appendLeaves(tree, leaves.slice(offset).map(hashLeaf));
    tree = { store, size: result.size };
  }
  return { store, tree };
}

function unwrap<T>(result: { ok: true; value: T } | { ok: false; message: string }): T {
  if (!result.ok) throw new Error(result.message);
  return result.value;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('storage-backed tree against the RFC 6962 definitions', () => {
  it('reproduces the transparency-dev reference tree of 8 leaves and its published proofs', async () => {
    // The leaves behind testdata/rfc6962 (transparency-dev/merkle testonly.LeafInputs).
    const leaves = [
      '',
      '00',
      '10',
      '2021',
      '3031',
      '40414243',
      '5051525354555657',
      '606162636465666768696a6b6c6d6e6f',
    ].map((h) => new Uint8Array(Buffer.from(h, 'hex')));
    const { tree } = await buildTree(leaves);
    const dir = join(import.meta.dirname, '..', 'testdata', 'rfc6962');
    const inclusion = JSON.parse(readFileSync(join(dir, 'inclusion', '1', 'happy-path.json'), 'utf8'));
    const proof = unwrap(await proveInclusion(tree, inclusion.leafIdx, inclusion.treeSize));
    expect(encodeBase64(proof.rootHash)).toBe(inclusion.root);
    expect(proof.proof.map(encodeBase64)).toEqual(inclusion.proof);
    expect(encodeBase64(proof.leafHash)).toBe(inclusion.leafHash);
    for (const n of [1, 2, 3, 4]) {
      const c = JSON.parse(readFileSync(join(dir, 'consistency', String(n), 'happy-path.json'), 'utf8'));
      const made = unwrap(await proveConsistency(tree, c.size1, c.size2));
      expect(made.proof.map(encodeBase64)).toEqual(c.proof ?? []);
      expect(encodeBase64(made.oldRoot)).toBe(c.root1);
      expect(encodeBase64(made.newRoot)).toBe(c.root2);
    }
  });

  it('the empty tree has root SHA-256("") and no proofs', async () => {
    const { tree } = await buildTree([]);
    expect(hex(unwrap(await rootAt(tree, 0)))).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    expect(hex(emptyRootHash())).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(await proveInclusion(tree, 0, 0)).toMatchObject({ ok: false, code: 'leaf_index_out_of_range' });
  });

  it('roots, inclusion and consistency proofs equal the recursive definitions for random sizes up to 3000', async () => {
    const allLeaves = Array.from({ length: 3000 }, (_, i) => leafData(i));
    const reference = new ReferenceTree(allLeaves);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3000 }),
        fc.array(fc.integer({ min: 1, max: 700 }), { maxLength: 6 }),
        fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat()), { minLength: 1, maxLength: 8 }),
        async (n, batches, picks) => {
          const { tree } = await buildTree(allLeaves.slice(0, n), batches);
          expect(tree.size).toBe(n);
          expect(hex(unwrap(await rootAt(tree, n)))).toBe(hex(reference.root(n)));
          for (const [a, b, c] of picks) {
            const size = 1 + (a % n);
            const index = b % size;
            const inclusion = unwrap(await proveInclusion(tree, index, size));
            expect(inclusion.proof.map(hex)).toEqual(reference.inclusion(index, size).map(hex));
            expect(hex(inclusion.rootHash)).toBe(hex(reference.root(size)));
            expect(verifyInclusion(inclusion)).toEqual({ ok: true });

            const oldSize = 1 + (c % size);
            const consistency = unwrap(await proveConsistency(tree, oldSize, size));
            const expected = oldSize === size ? [] : reference.consistency(oldSize, size);
            expect(consistency.proof.map(hex)).toEqual(expected.map(hex));
            expect(hex(consistency.oldRoot)).toBe(hex(reference.root(oldSize)));
            expect(verifyConsistency(consistency)).toEqual({ ok: true });
          }
        },
      ),
      { numRuns: 120 },
    );
  });

  it('every proof of a small tree verifies, and fails for any other leaf, index or root', async () => {
    const leaves = Array.from({ length: 33 }, (_, i) => leafData(i));
    const { tree } = await buildTree(leaves, [5, 1, 10]);
    for (let size = 1; size <= 33; size++) {
      for (let index = 0; index < size; index++) {
        const p = unwrap(await proveInclusion(tree, index, size));
        expect(verifyInclusion(p).ok).toBe(true);
        expect(verifyInclusion({ ...p, leafHash: hashLeaf(leafData(index + 1000)) })).toMatchObject({
          ok: false,
          reason: 'root_mismatch',
        });
        if (size > 1) {
          const other = (index + 1) % size;
          expect(verifyInclusion({ ...p, leafIndex: other }).ok).toBe(false);
        }
      }
      for (let oldSize = 1; oldSize < size; oldSize++) {
        const c = unwrap(await proveConsistency(tree, oldSize, size));
        expect(verifyConsistency(c).ok).toBe(true);
        expect(verifyConsistency({ ...c, oldRoot: c.newRoot }).ok).toBe(false);
        expect(verifyConsistency({ ...c, proof: c.proof.slice(1) }).ok).toBe(false);
        expect(verifyConsistency({ ...c, proof: [...c.proof, c.newRoot] })).toMatchObject({ ok: false });
      }
    }
  });

  it('answers every query with one store read of at most 2·log2(n) + 3 hashes', async () => {
    const n = 5000;
    const { store, tree } = await buildTree(
      Array.from({ length: n }, (_, i) => leafData(i)),
      [1, 2, 3, 1000, 3994],
    );
    const bound = 2 * Math.ceil(Math.log2(n)) + 3;
    for (const [index, size] of [
      [0, n],
      [n - 1, n],
      [2047, 4097],
      [1234, 3333],
    ] as const) {
      store.reads = 0;
      store.readCalls = 0;
      unwrap(await proveInclusion(tree, index, size));
      expect(store.readCalls).toBe(1);
      expect(store.reads).toBeLessThanOrEqual(bound);
    }
    store.reads = 0;
    store.readCalls = 0;
    unwrap(await proveConsistency(tree, 1537, 4999));
    expect(store.readCalls).toBe(1);
    expect(store.reads).toBeLessThanOrEqual(3 * bound);
  });

  it('appending reads only the right edge of the tree, whatever its size', async () => {
    const { store, tree } = await buildTree(Array.from({ length: 4095 }, (_, i) => leafData(i)));
    store.reads = 0;
    store.readCalls = 0;
    const result = await appendLeaves(tree, [hashLeaf(leafData(4095))]);
    expect(store.readCalls).toBe(1);
    expect(store.reads).toBe(12); // 4095 = 2^12 − 1: twelve perfect subtrees on the right edge
    expect(result.nodesWritten).toBe(13); // the leaf and the twelve merges up to a perfect 4096 tree
  });

  it('batched proofs equal single proofs and read the store once', async () => {
    const { store, tree } = await buildTree(Array.from({ length: 1000 }, (_, i) => leafData(i)));
    const indices = [0, 1, 2, 511, 512, 998, 998, 700];
    store.readCalls = 0;
    const many = unwrap(await proveInclusionMany(tree, indices, 999));
    expect(store.readCalls).toBe(1);
    for (const [i, index] of indices.entries()) {
      const single = unwrap(await proveInclusion(tree, index, 999));
      expect(many[i]!.proof.map(hex)).toEqual(single.proof.map(hex));
      expect(hex(many[i]!.leafHash)).toBe(hex(single.leafHash));
      expect(verifyInclusion(many[i]!)).toEqual({ ok: true });
    }
    expect(unwrap(await proveInclusionMany(tree, [], 10))).toEqual([]);
    expect(await proveInclusionMany(tree, [3, 10], 10)).toMatchObject({
      ok: false,
      code: 'leaf_index_out_of_range',
    });
    expect(await proveInclusionMany(tree, [3], 1001)).toMatchObject({ ok: false, code: 'size_beyond_tree' });
  });

  it('refuses queries beyond the tree and the vacuous ones', async () => {
    const { tree } = await buildTree(Array.from({ length: 10 }, (_, i) => leafData(i)));
    expect(await rootAt(tree, 11)).toMatchObject({ ok: false, code: 'size_beyond_tree' });
    expect(await proveInclusion(tree, 3, 11)).toMatchObject({ ok: false, code: 'size_beyond_tree' });
    expect(await proveInclusion(tree, 10, 10)).toMatchObject({ ok: false, code: 'leaf_index_out_of_range' });
    expect(await proveConsistency(tree, 5, 11)).toMatchObject({ ok: false, code: 'size_beyond_tree' });
    expect(await proveConsistency(tree, 6, 5)).toMatchObject({ ok: false, code: 'old_size_greater' });
    expect(await proveConsistency(tree, 0, 5)).toMatchObject({ ok: false, code: 'old_size_zero' });
    expect(unwrap(await proveConsistency(tree, 7, 7)).proof).toEqual([]);
    await expect(proveInclusion(tree, -1, 5)).rejects.toThrow(RangeError);
    await expect(proveInclusion(tree, 1.5, 5)).rejects.toThrow(RangeError);
  });

  it('treats a rewritten node and a wrong-sized leaf hash as broken invariants', async () => {
    const { store, tree } = await buildTree([leafData(0), leafData(1)]);
    await expect(store.writeNodes([{ level: 0, index: 0, hash: hashLeaf(leafData(9)) }])).rejects.toThrow(
      /different hash/,
    );
    await expect(appendLeaves(tree, [new Uint8Array(31)])).rejects.toThrow(/32 bytes/);
    await expect(proveInclusion({ store: new MemoryNodeStore(), size: 4 }, 1, 4)).rejects.toThrow(/missing/);
  });
});

describe('verifier failure reasons', () => {
  const leaves = Array.from({ length: 7 }, (_, i) => leafData(i));
  const reference = new ReferenceTree(leaves);
  const leaf3 = hashLeaf(leaves[3]!);
  const good = {
    leafIndex: 3,
    treeSize: 7,
    leafHash: leaf3,
    proof: reference.inclusion(3, 7),
    rootHash: reference.root(7),
  };

  it('names each way an inclusion proof can be wrong', () => {
    expect(verifyInclusion(good)).toEqual({ ok: true });
    expect(verifyInclusion({ ...good, leafIndex: 7 })).toMatchObject({ reason: 'leaf_index_out_of_range' });
    expect(verifyInclusion({ ...good, treeSize: 0, leafIndex: 0 })).toMatchObject({
      reason: 'leaf_index_out_of_range',
    });
    expect(verifyInclusion({ ...good, leafIndex: -1 })).toMatchObject({ reason: 'invalid_size' });
    expect(verifyInclusion({ ...good, treeSize: 2 ** 53 })).toMatchObject({ reason: 'invalid_size' });
    expect(verifyInclusion({ ...good, leafHash: leaf3.slice(1) })).toMatchObject({
      reason: 'malformed_hash',
    });
    expect(verifyInclusion({ ...good, proof: [...good.proof, leaf3] })).toMatchObject({
      reason: 'proof_too_long',
    });
    expect(verifyInclusion({ ...good, proof: good.proof.slice(0, -1) })).toMatchObject({
      reason: 'proof_too_short',
    });
    expect(verifyInclusion({ ...good, rootHash: reference.root(6) })).toMatchObject({
      reason: 'root_mismatch',
    });
  });

  it('names each way a consistency proof can be wrong', () => {
    const c = {
      oldSize: 3,
      newSize: 7,
      oldRoot: reference.root(3),
      newRoot: reference.root(7),
      proof: reference.consistency(3, 7),
    };
    expect(verifyConsistency(c)).toEqual({ ok: true });
    expect(verifyConsistency({ ...c, oldSize: 8 })).toMatchObject({ reason: 'old_size_greater' });
    expect(verifyConsistency({ ...c, oldSize: 0 })).toMatchObject({ reason: 'old_size_zero' });
    expect(verifyConsistency({ ...c, proof: [] })).toMatchObject({ reason: 'proof_empty' });
    expect(verifyConsistency({ ...c, oldSize: 7 })).toMatchObject({ reason: 'proof_not_empty' });
    expect(verifyConsistency({ ...c, oldSize: 7, proof: [] })).toMatchObject({ reason: 'root_mismatch' });
    expect(verifyConsistency({ ...c, proof: [...c.proof, leaf3] })).toMatchObject({
      reason: 'proof_too_long',
    });
    expect(verifyConsistency({ ...c, proof: c.proof.slice(0, -1) })).toMatchObject({
      reason: 'proof_too_short',
    });
    expect(verifyConsistency({ ...c, oldRoot: reference.root(2) })).toMatchObject({
      reason: 'old_root_mismatch',
    });
    expect(verifyConsistency({ ...c, newRoot: reference.root(6) })).toMatchObject({
      reason: 'new_root_mismatch',
    });
    expect(verifyConsistency({ ...c, proof: [c.proof[0]!.slice(2), ...c.proof.slice(1)] })).toMatchObject({
      reason: 'malformed_hash',
    });
  });
});
