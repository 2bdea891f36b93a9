export {
  type ActiveSchemaDb,
  type ActiveSchemaDbOptions,
  activeSchemaPollMs,
  connectActiveSchemaDb,
} from './active-db';
export {
  activeSchemaChannel,
  createSchema,
  dropSchema,
  ensureActiveSchemaTable,
  getActiveSchema,
  schemaExists,
  setActiveSchema,
} from './active-schema';
export type * from './books-schema';
export {
  connectTimeoutMs,
  createDb,
  createPool,
  idleTimeoutMs,
  type PoolOptions,
  poolSizeDefault,
} from './connect';
export { type CopyData, type CopyingDb, type CopyRows, copyData, copyText, createCopyingDb } from './copy';
export { databaseName, dropDatabase, ensureDatabase } from './database';
export { assertIdentifier, identifierLengthMax } from './identifiers';
export type * from './merkle-schema';
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
