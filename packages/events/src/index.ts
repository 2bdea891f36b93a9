/**
 * @fundtrace/events: the one definition of every event (schemas per type and
 * version), the envelope, subject and stream naming, administrative codes and
 * the canonical encoding that JetStream stores and the Merkle log hashes.
 */
export * from './admin-codes';
export * as audit from './audit';
export { auditEvents, auditUpcasters } from './audit';
export * from './canonical';
export * from './catalog';
export * from './codec';
export * from './define';
export * from './envelope';
export * from './errors';
export * from './fast-encode';
export * from './gazetteer';
export * as ledger from './ledger';
export { ledgerEvents } from './ledger';
export * as registry from './registry';
export { registryEvents } from './registry';
export * from './subjects';
export * from './time';
export * from './upcasters';
export * from './wire-shape';
