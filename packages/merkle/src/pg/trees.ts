import { sql } from 'kysely';
import { emptyRootHash } from '../hash';
import {
  type AppendResult,
  appendLeaves,
  type ConsistencyProof,
  type InclusionProof,
  proveConsistency,
  proveInclusion,
  type StoredTree,
  type TreeQueryResult,
} from '../tree';
import { PgNodeStore, type Queryable } from './node-store';

export interface TreeHead {
  readonly stream: string;
  readonly size: number;
  readonly rootHash: Uint8Array;
}

interface TreeRow {
  size: bigint | string;
  root_hash: Uint8Array;
}

function toSize(value: bigint | string, what: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${what} is not a valid tree size: ${value}`);
  return n;
}

/** The stream's tree head, or the empty tree when nothing was appended yet. */
export async function readTreeHead(
  db: Queryable,
  stream: string,
  options: { forUpdate?: boolean } = {},
): Promise<TreeHead> {
  const lock = options.forUpdate === true ? sql`for update` : sql``;
  const { rows } =
    await sql<TreeRow>`select size, root_hash from merkle_trees where stream = ${stream} ${lock}`.execute(db);
  const row = rows[0];
  if (row === undefined) return { stream, size: 0, rootHash: emptyRootHash() };
  return { stream, size: toSize(row.size, `tree of ${stream}`), rootHash: new Uint8Array(row.root_hash) };
}

/** The stream's tree as a StoredTree for the pure query functions of @fundtrace/merkle. */
export async function storedTree(
  db: Queryable,
  stream: string,
): Promise<StoredTree & { readonly rootHash: Uint8Array }> {
  const head = await readTreeHead(db, stream);
  return { store: new PgNodeStore(db, stream), size: head.size, rootHash: head.rootHash };
}

/**
 * Append leaves that follow the tree's last one, inside the caller's transaction
 * (the log-keeper's projection batch). `firstLeafIndex` is what the caller
 * believes comes next (stream sequence − 1); a mismatch means events were skipped
 * or applied twice, which must stop the process rather than fork the tree.
 */
export async function appendToTree(
  trx: Queryable,
  stream: string,
  firstLeafIndex: number,
  leafHashes: readonly Uint8Array[],
): Promise<AppendResult> {
  const head = await readTreeHead(trx, stream, { forUpdate: true });
  if (head.size !== firstLeafIndex) {
    throw new Error(
      `merkle tree of ${stream} has ${head.size} leaves but the next leaf given is ${firstLeafIndex}`,
    );
  }
  const result = await appendLeaves({ store: new PgNodeStore(trx, stream), size: head.size }, leafHashes);
  const rootHash = Buffer.from(result.rootHash);
  await sql`
    insert into merkle_trees (stream, size, root_hash, updated_at)
    values (${stream}, ${String(result.size)}::int8, ${rootHash}, now())
    on conflict (stream) do update set size = excluded.size, root_hash = excluded.root_hash, updated_at = now()`.execute(
    trx,
  );
  return result;
}

/** Inclusion proof of the event at stream sequence `seq` in the tree of `size` leaves (default: current). */
export async function inclusionProofForSeq(
  db: Queryable,
  stream: string,
  seq: number,
  size?: number,
): Promise<TreeQueryResult<InclusionProof>> {
  const tree = await storedTree(db, stream);
  return proveInclusion(tree, seq - 1, size ?? tree.size);
}

/** Consistency proof between two sizes of the stream's tree. */
export async function consistencyProofFor(
  db: Queryable,
  stream: string,
  oldSize: number,
  newSize: number,
): Promise<TreeQueryResult<ConsistencyProof>> {
  return proveConsistency(await storedTree(db, stream), oldSize, newSize);
}
