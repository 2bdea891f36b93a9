import { type Kysely, sql } from 'kysely';

// Frozen: never edit after it has run anywhere; add a new migration instead. Imports only
// 'kysely' and never names a schema: the runner sets search_path to the target schema.
//
// The log-keeper's Merkle trees (docs/decisions/0005-merkle-log.md): one tree per stream,
// stored as the hashes of its perfect subtrees, and every checkpoint it signed.

export async function up(db: Kysely<unknown>): Promise<void> {
  // One row per stream: how many leaves the tree holds and its root at that size.
  await db.schema
    .createTable('merkle_trees')
    .addColumn('stream', 'text', (col) => col.primaryKey())
    .addColumn('size', 'bigint', (col) => col.notNull().check(sql`size >= 0`))
    .addColumn('root_hash', 'bytea', (col) => col.notNull().check(sql`octet_length(root_hash) = 32`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();

  // The hash of leaves [idx·2^level, (idx+1)·2^level) of a stream's tree. Immutable once written.
  await db.schema
    .createTable('merkle_nodes')
    .addColumn('stream', 'text', (col) => col.notNull())
    .addColumn('level', 'smallint', (col) => col.notNull().check(sql`level between 0 and 63`))
    .addColumn('idx', 'bigint', (col) => col.notNull().check(sql`idx >= 0`))
    .addColumn('hash', 'bytea', (col) => col.notNull().check(sql`octet_length(hash) = 32`))
    .addPrimaryKeyConstraint('merkle_nodes_pkey', ['stream', 'level', 'idx'])
    .execute();

  // Every signed checkpoint (C2SP signed note), so any earlier one can be served and a reader's
  // saved checkpoint can be proven consistent with today's.
  await db.schema
    .createTable('merkle_checkpoints')
    .addColumn('stream', 'text', (col) => col.notNull())
    .addColumn('size', 'bigint', (col) => col.notNull().check(sql`size >= 0`))
    .addColumn('key_id', 'text', (col) => col.notNull().check(sql`key_id ~ '^[0-9a-f]{8}$'`))
    .addColumn('root_hash', 'bytea', (col) => col.notNull().check(sql`octet_length(root_hash) = 32`))
    .addColumn('note', 'text', (col) => col.notNull())
    .addColumn('signed_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('merkle_checkpoints_pkey', ['stream', 'size', 'key_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('merkle_checkpoints').execute();
  await db.schema.dropTable('merkle_nodes').execute();
  await db.schema.dropTable('merkle_trees').execute();
}
