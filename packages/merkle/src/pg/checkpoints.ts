import { sql } from 'kysely';
import { type Checkpoint, signCheckpoint } from '../checkpoint';
import { toHex } from '../hash';
import type { NoteSigner } from '../note';
import type { Queryable } from './node-store';
import { readTreeHead } from './trees';

export interface StoredCheckpoint {
  readonly stream: string;
  readonly size: number;
  readonly rootHash: Uint8Array;
  readonly keyId: string;
  /** The signed note, exactly as published. */
  readonly note: string;
  readonly signedAt: Date;
}

interface CheckpointRow {
  stream: string;
  size: bigint | string;
  key_id: string;
  root_hash: Uint8Array;
  note: string;
  signed_at: Date;
}

function fromRow(row: CheckpointRow): StoredCheckpoint {
  return {
    stream: row.stream,
    size: Number(row.size),
    rootHash: new Uint8Array(row.root_hash),
    keyId: row.key_id,
    note: row.note,
    signedAt: row.signed_at,
  };
}

/**
 * Sign the stream's current tree head, unless a checkpoint of that size by this
 * key exists already (then that one is returned: Ed25519 is deterministic, so it
 * is the very same note). Runs in the caller's transaction; the tree row is
 * locked so the head cannot move between reading and storing.
 */
export async function signTreeHead(
  trx: Queryable,
  input: {
    /** The tree's key in the tables (the JetStream stream name, namespace included). */
    readonly stream: string;
    /** The checkpoint origin, e.g. `fundtrace.example/LEDGER_411325` (see checkpointOrigin). */
    readonly origin: string;
    readonly signer: NoteSigner;
  },
): Promise<{ readonly checkpoint: StoredCheckpoint; readonly created: boolean }> {
  const { stream, origin, signer } = input;
  const head = await readTreeHead(trx, stream, { forUpdate: true });
  const keyId = toHex(signer.keyId);
  const existing = await checkpointAtSize(trx, stream, head.size, keyId);
  if (existing !== undefined) {
    if (Buffer.compare(existing.rootHash, head.rootHash) !== 0) {
      throw new Error(
        `a checkpoint of ${stream} at size ${head.size} has a different root: the tree was rewritten`,
      );
    }
    return { checkpoint: existing, created: false };
  }
  const checkpoint: Checkpoint = {
    origin,
    size: head.size,
    rootHash: head.rootHash,
    extensions: [],
  };
  const note = signCheckpoint(checkpoint, signer);
  // A stream with no events has no tree row to lock, so two signers can race here; the
  // note they produce is identical (deterministic Ed25519), and the loser reads the winner's.
  const { rows } = await sql<CheckpointRow>`
    insert into merkle_checkpoints (stream, size, key_id, root_hash, note)
    values (${stream}, ${String(head.size)}::int8, ${keyId}, ${Buffer.from(head.rootHash)}, ${note})
    on conflict (stream, size, key_id) do nothing
    returning stream, size, key_id, root_hash, note, signed_at`.execute(trx);
  if (rows[0] !== undefined) return { checkpoint: fromRow(rows[0]), created: true };
  const raced = await checkpointAtSize(trx, stream, head.size, keyId);
  if (raced === undefined || raced.note !== note)
    throw new Error(`checkpoint of ${stream} at ${head.size} vanished or differs`);
  return { checkpoint: raced, created: false };
}

/** The newest checkpoint of a stream (largest size; for equal sizes the latest signed). */
export async function latestCheckpoint(
  db: Queryable,
  stream: string,
  keyId?: string,
): Promise<StoredCheckpoint | undefined> {
  const byKey = keyId === undefined ? sql`` : sql`and key_id = ${keyId}`;
  const { rows } = await sql<CheckpointRow>`
    select stream, size, key_id, root_hash, note, signed_at from merkle_checkpoints
    where stream = ${stream} ${byKey}
    order by size desc, signed_at desc limit 1`.execute(db);
  return rows[0] === undefined ? undefined : fromRow(rows[0]);
}

/** The checkpoint of a stream at exactly `size` leaves, if one was signed. */
export async function checkpointAtSize(
  db: Queryable,
  stream: string,
  size: number,
  keyId?: string,
): Promise<StoredCheckpoint | undefined> {
  const byKey = keyId === undefined ? sql`` : sql`and key_id = ${keyId}`;
  const { rows } = await sql<CheckpointRow>`
    select stream, size, key_id, root_hash, note, signed_at from merkle_checkpoints
    where stream = ${stream} and size = ${String(size)}::int8 ${byKey}
    order by signed_at desc limit 1`.execute(db);
  return rows[0] === undefined ? undefined : fromRow(rows[0]);
}

/** Checkpoints of a stream, newest first, at most `limit` (for listings; bounded by the caller). */
export async function listCheckpoints(
  db: Queryable,
  stream: string,
  limit: number,
): Promise<StoredCheckpoint[]> {
  const { rows } = await sql<CheckpointRow>`
    select stream, size, key_id, root_hash, note, signed_at from merkle_checkpoints
    where stream = ${stream} order by size desc, signed_at desc limit ${limit}`.execute(db);
  return rows.map(fromRow);
}
