import type { ColumnType } from 'kysely';

/** Tables of migration 0004-merkle, written only by the log-keeper (docs/decisions/0005-merkle-log.md). */
export interface MerkleTables {
  merkle_trees: MerkleTreesTable;
  merkle_nodes: MerkleNodesTable;
  merkle_checkpoints: MerkleCheckpointsTable;
}

export interface MerkleTreesTable {
  /** JetStream stream name, e.g. `LEDGER_411325` (`<ns>_LEDGER_411325` under a test namespace). */
  stream: string;
  /** Leaves in the tree = the last stream sequence hashed. */
  size: bigint;
  root_hash: Uint8Array;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface MerkleNodesTable {
  stream: string;
  level: number;
  idx: bigint;
  hash: Uint8Array;
}

export interface MerkleCheckpointsTable {
  stream: string;
  size: bigint;
  /** Hex signed-note key id of the signing key, so a rotated key's checkpoints sit side by side. */
  key_id: string;
  root_hash: Uint8Array;
  /** The signed note text exactly as published. */
  note: string;
  signed_at: ColumnType<Date, Date | string | undefined, Date | string>;
}
