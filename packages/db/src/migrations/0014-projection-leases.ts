import { type Kysely, sql } from 'kysely';

// Frozen: never edit after it has run anywhere; add a new migration instead. Imports only
// 'kysely' and never names a schema: the runner sets search_path to the target schema.
//
// Decision 0136: a projection that prepares its next batch while the current one commits holds
// two batches unacknowledged, and two instances pulling from one durable would then split the
// stream between them. One instance at a time pulls: the holder of the (consumer, stream) lease,
// which it renews as it works and which runs out `expires_at` (PostgreSQL's clock) if it dies.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('projection_leases')
    .addColumn('consumer', 'text', (col) => col.notNull())
    .addColumn('stream', 'text', (col) => col.notNull())
    .addColumn('holder', 'text', (col) => col.notNull())
    .addColumn('expires_at', 'timestamptz', (col) => col.notNull())
    .addPrimaryKeyConstraint('projection_leases_pkey', ['consumer', 'stream'])
    .execute();
  await sql`comment on table projection_leases is 'which projector instance pulls a stream for a consumer, until when'`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('projection_leases').execute();
}
