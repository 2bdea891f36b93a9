/**
 * @fundtrace/merkle/pg: the Merkle trees and signed checkpoints kept in PostgreSQL
 * (tables of migration 0004-merkle in @fundtrace/db). The log-keeper writes them;
 * audit-api and others import the read functions from here, never the service.
 *
 * SQL is written with kysely's `sql` tag so these functions work with any
 * `Kysely<DB>` whose schema holds the merkle tables (the workspace Database does).
 */
export * from './checkpoints';
export * from './node-store';
export * from './trees';
