export {
  activeSchemaChannel,
  createSchema,
  dropSchema,
  ensureActiveSchemaTable,
  getActiveSchema,
  schemaExists,
  setActiveSchema,
} from './active-schema';
export {
  connectTimeoutMs,
  createDb,
  createPool,
  idleTimeoutMs,
  type PoolOptions,
  poolSizeDefault,
} from './connect';
export { databaseName, dropDatabase, ensureDatabase } from './database';
export { assertIdentifier, identifierLengthMax } from './identifiers';
export {
  defaultSchema,
  type MigrateOptions,
  MigrationError,
  migrateToLatest,
  pendingMigrations,
} from './migrate';
export { migrations } from './migrations/index';
export type {
  ActiveSchemaTable,
  Database,
  NewProjectionCheckpoint,
  ProjectionCheckpoint,
  ProjectionCheckpointsTable,
  ProjectionCheckpointUpdate,
  PublicDatabase,
} from './schema';
export { exactTypes } from './types';
export type * from './books-schema';
