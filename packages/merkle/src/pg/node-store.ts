import { type Kysely, sql } from 'kysely';
import { hashBytes } from '../hash';
import type { NodeStore, TreeNode } from '../node-store';
import type { NodeKey } from '../tree-math';

/** Anything that runs kysely queries: a Kysely instance or a Transaction. */
// biome-ignore lint/suspicious/noExplicitAny: any Database that holds the merkle tables will do.
export type Queryable = Kysely<any>;

interface NodeRow {
  level: number;
  idx: bigint | string;
  hash: Uint8Array;
}

const keyOf = (level: number, index: number): string => `${level}/${index}`;

/**
 * NodeStore over `merkle_nodes`, scoped to one stream. Reads are one query per
 * call (keys passed as two arrays and joined through unnest), writes one insert
 * per call, whatever the number of nodes: a proof costs one round trip.
 *
 * Writes use the caller's transaction, so nodes, the tree row and the consumer
 * checkpoint commit together. A node written twice violates the primary key and
 * aborts the transaction: the tree size guards against re-appending, so a
 * conflict is a broken invariant, never a case to paper over.
 */
export class PgNodeStore implements NodeStore {
  constructor(
    private readonly db: Queryable,
    private readonly stream: string,
  ) {}

  async readNodes(keys: readonly NodeKey[]): Promise<Uint8Array[]> {
    if (keys.length === 0) return [];
    const levels = keys.map((k) => k.level);
    const indices = keys.map((k) => String(k.index));
    const { rows } = await sql<NodeRow>`
      select n.level, n.idx, n.hash
      from unnest(${levels}::int2[], ${indices}::int8[]) as k(level, idx)
      join merkle_nodes n on n.stream = ${this.stream} and n.level = k.level and n.idx = k.idx`.execute(
      this.db,
    );
    const found = new Map(rows.map((r) => [keyOf(r.level, Number(r.idx)), r.hash]));
    return keys.map((k) => {
      const hash = found.get(keyOf(k.level, k.index));
      if (hash === undefined)
        throw new Error(`merkle node ${k.level}/${k.index} of ${this.stream} is missing`);
      return new Uint8Array(hash);
    });
  }

  async writeNodes(nodes: readonly TreeNode[]): Promise<void> {
    if (nodes.length === 0) return;
    for (const n of nodes) {
      if (n.hash.length !== hashBytes)
        throw new Error(`merkle node ${n.level}/${n.index} hash is not ${hashBytes} bytes`);
    }
    const levels = nodes.map((n) => n.level);
    const indices = nodes.map((n) => String(n.index));
    const hashes = nodes.map((n) => Buffer.from(n.hash.buffer, n.hash.byteOffset, n.hash.byteLength));
    await sql`
      insert into merkle_nodes (stream, level, idx, hash)
      select ${this.stream}, k.level, k.idx, k.hash
      from unnest(${levels}::int2[], ${indices}::int8[], ${hashes}::bytea[]) as k(level, idx, hash)`.execute(
      this.db,
    );
  }
}
