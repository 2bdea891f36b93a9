import { createHash, generateKeyPairSync } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@fundtrace/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appendLeaves,
  checkpointOrigin,
  hashLeaf,
  MemoryNodeStore,
  type NodeKey,
  type NodeStore,
  openCheckpoint,
  proveInclusion,
  proveInclusionMany,
  signerFromKey,
  type TreeNode,
  verifyConsistency,
  verifyInclusion,
} from '../src/index';
import {
  appendToTree,
  checkpointAtSize,
  consistencyProofFor,
  inclusionProofForSeq,
  latestCheckpoint,
  listCheckpoints,
  PgNodeStore,
  readTreeHead,
  signTreeHead,
  storedTree,
} from '../src/pg/index';

/**
 * The PostgreSQL store at the scale of a county's year: 100,000 events. Every
 * event's inclusion proof, generated from PostgreSQL, verifies against the root;
 * every proof is one query of O(log n) nodes.
 */
const stream = 'LEDGER_411325';
const eventCount = 100_000;
/** Leaves per append transaction: the projection's batches are smaller; larger ones keep the setup quick. */
const appendChunk = 10_000;
/** Proofs per query when checking all 100,000. */
const proofChunk = 2_000;

let testDb: TestDatabase;
const leafHashes: Uint8Array[] = [];

class CountingStore implements NodeStore {
  calls = 0;
  reads = 0;
  constructor(private readonly inner: NodeStore) {}
  readNodes(keys: readonly NodeKey[]) {
    this.calls += 1;
    this.reads += keys.length;
    return this.inner.readNodes(keys);
  }
  writeNodes(nodes: readonly TreeNode[]) {
    return this.inner.writeNodes(nodes);
  }
}

beforeAll(async () => {
  testDb = await createTestDatabase();
  // Stand-in for canonical event bytes: distinct, cheap to make; hashing is what is under test.
  for (let i = 0; i < eventCount; i++) leafHashes.push(hashLeaf(Buffer.from(`411325:${i + 1}`)));
  for (let start = 0; start < eventCount; start += appendChunk) {
    await testDb.db
      .transaction()
      .execute((trx) => appendToTree(trx, stream, start, leafHashes.slice(start, start + appendChunk)));
  }
});

afterAll(async () => {
  await testDb?.drop();
});

describe('merkle trees in PostgreSQL', () => {
  it('holds the same root as an in-memory tree built in one go', async () => {
    const memory = await appendLeaves({ store: new MemoryNodeStore(), size: 0 }, leafHashes);
    const head = await readTreeHead(testDb.db, stream);
    expect(head.size).toBe(eventCount);
    expect(Buffer.from(head.rootHash).toString('hex')).toBe(Buffer.from(memory.rootHash).toString('hex'));
  });

  // 1.7 million SHA-256 computations to verify: allow minutes on a busy 2-core machine (not a timing assertion).
  it('proves the inclusion of every one of the 100,000 events', { timeout: 600_000 }, async () => {
    const tree = await storedTree(testDb.db, stream);
    let verified = 0;
    for (let start = 0; start < eventCount; start += proofChunk) {
      const indices = Array.from({ length: Math.min(proofChunk, eventCount - start) }, (_, i) => start + i);
      const result = await proveInclusionMany(tree, indices, eventCount);
      if (!result.ok) throw new Error(result.message);
      // Plain checks in the loop: 100,000 expect() calls would cost more than the proofs.
      for (const proof of result.value) {
        if (Buffer.compare(proof.leafHash, leafHashes[proof.leafIndex]!) !== 0) {
          throw new Error(`event ${proof.leafIndex + 1}: the store holds another leaf hash`);
        }
        const check = verifyInclusion({ ...proof, rootHash: tree.rootHash });
        if (!check.ok) throw new Error(`event ${proof.leafIndex + 1}: ${check.message}`);
        verified += 1;
      }
    }
    expect(verified).toBe(eventCount);
  });

  it('answers one proof with one query of at most 2·log2(n) + 3 nodes, at any size', async () => {
    const bound = 2 * Math.ceil(Math.log2(eventCount)) + 3;
    for (const [index, size] of [
      [0, eventCount],
      [eventCount - 1, eventCount],
      [65_535, 65_537],
      [31_337, 99_999],
      [0, 1],
    ] as const) {
      const store = new CountingStore(new PgNodeStore(testDb.db, stream));
      const result = await proveInclusion({ store, size: eventCount }, index, size);
      if (!result.ok) throw new Error(result.message);
      expect(store.calls).toBe(1);
      expect(store.reads).toBeLessThanOrEqual(bound);
      expect(verifyInclusion(result.value).ok).toBe(true);
    }
  });

  it('proves consistency between earlier sizes and today', async () => {
    for (const [from, to] of [
      [1, eventCount],
      [4096, 4097],
      [12_345, 67_890],
      [65_536, eventCount],
      [99_999, eventCount],
      [777, 777],
    ] as const) {
      const result = await consistencyProofFor(testDb.db, stream, from, to);
      if (!result.ok) throw new Error(result.message);
      expect(verifyConsistency(result.value), `${from} → ${to}`).toEqual({ ok: true });
    }
    expect(await consistencyProofFor(testDb.db, stream, 10, eventCount + 1)).toMatchObject({
      ok: false,
      code: 'size_beyond_tree',
    });
  });

  it('finds events by stream sequence (leaf index = seq − 1)', async () => {
    const result = await inclusionProofForSeq(testDb.db, stream, 1, 10);
    if (!result.ok) throw new Error(result.message);
    expect(result.value.leafIndex).toBe(0);
    expect(Buffer.compare(result.value.leafHash, hashLeaf(Buffer.from('411325:1')))).toBe(0);
    expect(await inclusionProofForSeq(testDb.db, stream, eventCount + 1)).toMatchObject({ ok: false });
  });

  it('refuses an append that does not continue the tree, and a node written twice', async () => {
    const next = hashLeaf(Buffer.from('next'));
    await expect(
      testDb.db.transaction().execute((trx) => appendToTree(trx, stream, eventCount - 1, [next])),
    ).rejects.toThrow(/has 100000 leaves/);
    await expect(
      testDb.db.transaction().execute((trx) => appendToTree(trx, stream, eventCount + 1, [next])),
    ).rejects.toThrow(/has 100000 leaves/);
    await expect(
      new PgNodeStore(testDb.db, stream).writeNodes([{ level: 0, index: 5, hash: next }]),
    ).rejects.toThrow(/duplicate key/);
    expect((await readTreeHead(testDb.db, stream)).size).toBe(eventCount);
  });

  it('reports a missing node as a broken invariant', async () => {
    await expect(
      new PgNodeStore(testDb.db, 'LEDGER_000000').readNodes([{ level: 0, index: 0 }]),
    ).rejects.toThrow(/missing/);
  });
});

describe('signed checkpoints in PostgreSQL', () => {
  const signer = signerFromKey('fundtrace.example', generateKeyPairSync('ed25519').privateKey);
  const other = 'REGISTRY_411325';

  it('signs the tree head once per size, and returns the same note when asked again', async () => {
    await testDb.db
      .transaction()
      .execute((trx) =>
        appendToTree(trx, other, 0, [hashLeaf(Buffer.from('a')), hashLeaf(Buffer.from('b'))]),
      );
    const first = await testDb.db
      .transaction()
      .execute((trx) =>
        signTreeHead(trx, { stream: other, origin: checkpointOrigin('fundtrace.example', other), signer }),
      );
    expect(first.created).toBe(true);
    const cp = openCheckpoint(first.checkpoint.note, signer.verifierKey);
    expect(cp).toMatchObject({ origin: 'fundtrace.example/REGISTRY_411325', size: 2 });
    const again = await testDb.db
      .transaction()
      .execute((trx) =>
        signTreeHead(trx, { stream: other, origin: checkpointOrigin('fundtrace.example', other), signer }),
      );
    expect(again).toMatchObject({ created: false, checkpoint: { note: first.checkpoint.note } });

    await testDb.db.transaction().execute((trx) => appendToTree(trx, other, 2, [hashLeaf(Buffer.from('c'))]));
    const third = await testDb.db
      .transaction()
      .execute((trx) =>
        signTreeHead(trx, { stream: other, origin: checkpointOrigin('fundtrace.example', other), signer }),
      );
    expect(third.checkpoint.size).toBe(3);
    expect((await latestCheckpoint(testDb.db, other))?.size).toBe(3);
    expect((await checkpointAtSize(testDb.db, other, 2))?.note).toBe(first.checkpoint.note);
    expect(await checkpointAtSize(testDb.db, other, 1)).toBeUndefined();
    expect((await listCheckpoints(testDb.db, other, 10)).map((c) => c.size)).toEqual([3, 2]);
  });

  it('signs the empty tree of a stream with no events yet', async () => {
    const { checkpoint } = await testDb.db
      .transaction()
      .execute((trx) =>
        signTreeHead(trx, { stream: 'AUDIT_411325', origin: 'fundtrace.example/AUDIT_411325', signer }),
      );
    const cp = openCheckpoint(checkpoint.note, signer.verifierKey);
    expect(cp.size).toBe(0);
    expect(Buffer.from(cp.rootHash).toString('hex')).toBe(createHash('sha256').digest('hex'));
  });

  it('two signers racing on a stream without events agree on one checkpoint', async () => {
    const race = 'LEDGER_430626';
    const sign = () =>
      testDb.db
        .transaction()
        .execute((trx) => signTreeHead(trx, { stream: race, origin: `fundtrace.example/${race}`, signer }));
    const [a, b] = await Promise.all([sign(), sign()]);
    expect([a.created, b.created].sort()).toEqual([false, true]);
    expect(a.checkpoint.note).toBe(b.checkpoint.note);
    expect(await listCheckpoints(testDb.db, race, 10)).toHaveLength(1);
  });
});
