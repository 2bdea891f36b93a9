/**
 * @fundtrace/testkit: the rig every integration test uses. A fresh database and a
 * stream namespace per test file on the machine's PostgreSQL and NATS, and private
 * servers (nats-server, a 3-node cluster, PostgreSQL) for tests that kill, pause and
 * restart them. Everything started here dies with the test process.
 */
export { factsOf, notChinese } from './chinese';
export { runEveryStep } from './cleanup';
export { containerRuntimeAvailable } from './containers';
export {
  type CreateTestDatabaseOptions,
  createTestDatabase,
  databaseUrlOn,
  type TestDatabase,
} from './database';
export {
  EventFixture,
  type FixtureActors,
  type FixtureDefaults,
  type FixtureEventMeta,
  fixtureAppendChunkMessages,
} from './event-fixture';
export { type TestInfra, type UseTestInfraOptions, useTestInfra } from './infra';
export { connectTestNats, deleteNamespaceStreams, testNamespace } from './nats';
export { freePorts } from './ports';
export {
  type PrivateNats,
  type PrivateNatsNode,
  type PrivateNatsOptions,
  startPrivateNats,
} from './private-nats';
export { type PrivatePostgres, startPrivatePostgres } from './private-postgres';
export {
  type ManagedProcess,
  type SpawnOptions,
  StopWaiting,
  spawnManaged,
  stopProcess,
  waitUntil,
} from './process';
export { randomToken } from './random';
export { hookStreamReads, type StreamReadHooks } from './read-hooks';
export {
  type ReliabilityRecord,
  recordReliability,
  reliabilityDir,
  reliabilityIterations,
} from './reliability';
export {
  type ServiceName,
  type ServiceProcess,
  type ServiceProcessOptions,
  serviceStartTimeoutMs,
  startServiceProcess,
} from './service-process';
export { staleStreamInfo } from './stale-stream-info';
export { until, untilPollMs, untilTimeoutMsDefault } from './until';
