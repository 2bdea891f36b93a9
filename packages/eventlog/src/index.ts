/**
 * @fundtrace/eventlog: the JetStream side of fundtrace. Streams per partition and
 * context, appends with optimistic concurrency and deduplication (single and
 * pipelined), reads for rebuilding state, and the durable projection runner that
 * applies events to PostgreSQL with its checkpoint in one transaction.
 * See README.md and docs/decisions/0003-append-protocol.md.
 */
export {
  type AppendBatchOptions,
  type AppendBatchResult,
  type AppendOptions,
  type AppendResult,
  append,
  appendBatch,
  connectionOf,
  jetStreamCodes,
  noStreamCode,
  type OutgoingMessage,
} from './append';
export {
  commandHash,
  commandHashOfCanonicalData,
  eventIdFor,
  eventIdTimeMs,
  firstEventMatches,
  parseMessageId,
  SerialQueue,
} from './command-identity';
export { commandMessages, type DecidedEvent } from './command-messages';
export { type ConnectNatsOptions, connectNats } from './connect';
export { type Deferred, deferred } from './deferred';
export {
  AppendConflictError,
  AppendOutcomeUnknownError,
  AppendRejectedError,
  BatchCutShortError,
  BatchOutcomeUnknownError,
  EventlogError,
  EventlogInvariantError,
  PoisonEventError,
  SequenceGapError,
  type StoredMessage,
  StreamConfigMismatchError,
  type StreamDifference,
  StreamMissingError,
  StreamReadStalledError,
} from './errors';
export * from './limits';
export { type Logger, silentLogger } from './log';
export {
  appendAtTail,
  foldStreamTail,
  foldStreamTailWith,
  isLostRaceOrUnknownOutcome,
  openPartitionStream,
  type TailMoved,
} from './partition-writer';
export {
  type CommittedBatch,
  ConnectionClosedError,
  ConsumerConfigMismatchError,
  isTransientDatabaseError,
  type PrepareOptions,
  ProjectionHandlerError,
  type ProjectionLag,
  type ProjectionRunner,
  type ProjectionState,
  type ProjectionStatus,
  projectionBatchSizeDefault,
  projectionMaxWaitMsDefault,
  type QuarantineOptions,
  type RunProjectionOptions,
  runProjection,
} from './projection';
export {
  runStreamProjections,
  type StreamProjections,
  type StreamProjectionsOptions,
  streamDiscoveryIntervalMs,
} from './projection-set';
export {
  type DecodedEvent,
  decodeStreamMessage,
  decodeStreamMessageWithData,
  type RawStreamMessage,
  type ReadStreamOptions,
  readRange,
  readRangeMessagesMax,
  readStream,
  readStreamRaw,
  type StreamEvent,
  type StreamEventWithData,
} from './read';
export {
  consumerTail,
  ensurePartitionStreams,
  ensureStream,
  lastSequence,
  type PartitionStreamsOptions,
  type RequiredStream,
  requiredPartitionStream,
  streamConfigFor,
  streamDifferences,
  verifyStream,
} from './streams';
export { ioSliceEvents, yieldToIo } from './yield';
