import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { BooksTables } from './books-schema';
import type { MerkleTables } from './merkle-schema';

/**
 * The one interface that types all SQL in fundtrace (STYLE 8). Each migration in ./migrations
 * that creates or alters a table updates this file in the same commit; the read-model tables
 * the projector owns are added here by its migrations.
 *
 * Conventions: int8 columns are `bigint` (see ./types); a column with a server default is
 * `Generated<…>` or a `ColumnType` whose insert side is optional.
 */
export interface Database extends BooksTables, MerkleTables {
  projection_checkpoints: ProjectionCheckpointsTable;
  projection_leases: ProjectionLeasesTable;
}

/**
 * How far a consumer has applied a stream (ARCHITECTURE: "applies a batch of events and its
 * checkpoint in one transaction"). An event at or below `last_seq` is already applied.
 */
export interface ProjectionCheckpointsTable {
  /** Durable consumer name, e.g. `projector`. */
  consumer: string;
  /** JetStream stream name, e.g. `LEDGER_411325`. */
  stream: string;
  /** Stream sequence of the last event applied. */
  last_seq: bigint;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/**
 * Which instance pulls a stream for a consumer that prepares batches ahead (decision 0136), and
 * until when: the holder renews it as it works; another instance takes it once it ran out.
 */
export interface ProjectionLeasesTable {
  consumer: string;
  stream: string;
  /** The runner's random name, new each time it starts. */
  holder: string;
  expires_at: ColumnType<Date, Date | string, Date | string>;
}

export type ProjectionCheckpoint = Selectable<ProjectionCheckpointsTable>;
export type NewProjectionCheckpoint = Insertable<ProjectionCheckpointsTable>;
export type ProjectionCheckpointUpdate = Updateable<ProjectionCheckpointsTable>;

/**
 * The pointer readers consult to find the live read-model schema (blue/green rebuilds). It lives
 * in `public`, outside every read-model schema, and is created by ./active-schema, not by a
 * migration, because migrations run inside one read-model schema.
 */
export interface ActiveSchemaTable {
  /** Always true: a check constraint keeps the table to one row. */
  singleton: Generated<boolean>;
  name: string;
  activated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** Tables of `public` that do not belong to any read-model schema. */
export interface PublicDatabase {
  fundtrace_active_schema: ActiveSchemaTable;
}
