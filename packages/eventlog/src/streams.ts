import { contexts as allContexts, type Context, streamName, streamSubjects } from '@fundtrace/events';
import {
  DiscardPolicy,
  JetStreamApiError,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import { millis, nanos } from '@nats-io/nats-core';
import { StreamConfigMismatchError, type StreamDifference, StreamMissingError } from './errors';
import { duplicateWindowMs as duplicateWindowMsDefault, messageBytesMax } from './limits';

/** JetStream's "stream not found" and "stream name already in use" error codes. */
const streamNotFoundCode = 10059;
const streamNameInUseCode = 10058;

/** The properties fundtrace requires of every event stream (and that `verifyStream` checks). */
export interface RequiredStream {
  readonly name: string;
  readonly subjects: readonly string[];
  /** 1 on a development machine; 3 in production (see README). */
  readonly replicas: number;
  readonly duplicateWindowMs: number;
  readonly messageBytesMax: number;
}

export interface PartitionStreamsOptions {
  /** Administrative code of the partition, e.g. `411325`. */
  readonly partition: string;
  /** Which contexts' streams to ensure; default all three (ledger, registry, audit). */
  readonly contexts?: readonly Context[];
  /** Namespace prefix for tests and benchmarks; empty in production. */
  readonly ns?: string;
  readonly replicas?: number;
  readonly duplicateWindowMs?: number;
}

/** The required shape of one context's stream in one partition. */
export function requiredPartitionStream(
  context: Context,
  options: Omit<PartitionStreamsOptions, 'contexts'>,
): RequiredStream {
  const ns = options.ns ?? '';
  const subjects = streamSubjects(context, options.partition, ns);
  return {
    name: streamName(context, options.partition, ns),
    subjects: typeof subjects === 'string' ? [subjects] : [...subjects],
    replicas: options.replicas ?? 1,
    duplicateWindowMs: options.duplicateWindowMs ?? duplicateWindowMsDefault,
    messageBytesMax,
  };
}

/**
 * The full JetStream configuration of an event stream. Each fixed setting is part of
 * the audit guarantee, so `verifyStream` checks all of them:
 * - file storage: events must survive a restart;
 * - limits retention with no limits (no max age, count or bytes, nor per subject):
 *   an event is kept forever, the log is the books;
 * - discard `new`: should an operator ever set a limit, appends fail loudly instead of
 *   old events silently disappearing;
 * - deny_delete and deny_purge: no API call can remove an event;
 * - no rollup headers (a rollup purges a subject), not sealed, acks on;
 * - allow_direct: single events (an inclusion proof's leaf) are read cheaply, also
 *   from replicas.
 */
export function streamConfigFor(required: RequiredStream): Partial<StreamConfig> & { name: string } {
  return {
    name: required.name,
    subjects: [...required.subjects],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.New,
    max_msgs: -1,
    max_bytes: -1,
    max_age: 0,
    max_msgs_per_subject: -1,
    max_msg_size: required.messageBytesMax,
    duplicate_window: nanos(required.duplicateWindowMs),
    num_replicas: required.replicas,
    deny_delete: true,
    deny_purge: true,
    allow_rollup_hdrs: false,
    allow_direct: true,
    no_ack: false,
  };
}

/** Every difference between an existing stream's configuration and the required one. */
export function streamDifferences(info: StreamInfo, required: RequiredStream): StreamDifference[] {
  const c = info.config;
  const differences: StreamDifference[] = [];
  const expect = (field: string, expected: unknown, actual: unknown) => {
    if (expected !== actual) differences.push({ field, expected, actual });
  };
  const wantSubjects = [...required.subjects].sort();
  const haveSubjects = [...(c.subjects ?? [])].sort();
  if (wantSubjects.join('\n') !== haveSubjects.join('\n')) {
    differences.push({ field: 'subjects', expected: wantSubjects, actual: haveSubjects });
  }
  expect('storage', StorageType.File, c.storage);
  expect('retention', RetentionPolicy.Limits, c.retention);
  expect('discard', DiscardPolicy.New, c.discard);
  expect('max_msgs', -1, c.max_msgs);
  expect('max_bytes', -1, c.max_bytes);
  expect('max_age', 0, c.max_age);
  expect('max_msgs_per_subject', -1, c.max_msgs_per_subject);
  expect('max_msg_size', required.messageBytesMax, c.max_msg_size);
  expect('duplicate_window_ms', required.duplicateWindowMs, millis(c.duplicate_window ?? 0));
  expect('num_replicas', required.replicas, c.num_replicas);
  expect('deny_delete', true, c.deny_delete === true);
  expect('deny_purge', true, c.deny_purge === true);
  expect('allow_rollup_hdrs', false, c.allow_rollup_hdrs === true);
  expect('allow_direct', true, c.allow_direct === true);
  expect('sealed', false, c.sealed === true);
  expect('no_ack', false, c.no_ack === true);
  expect('mirror', undefined, c.mirror?.name);
  expect('sources', 0, c.sources?.length ?? 0);
  return differences;
}

/**
 * Checks that the stream exists with exactly the required properties and returns its
 * info. Throws `StreamMissingError` or `StreamConfigMismatchError` (naming every
 * difference); it never reconfigures: loosening an audit log is an operator's call.
 */
export async function verifyStream(jsm: JetStreamManager, required: RequiredStream): Promise<StreamInfo> {
  let info: StreamInfo;
  try {
    info = await jsm.streams.info(required.name);
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === streamNotFoundCode) {
      throw new StreamMissingError(required.name, error);
    }
    throw error;
  }
  const differences = streamDifferences(info, required);
  if (differences.length > 0) throw new StreamConfigMismatchError(required.name, differences);
  return info;
}

/**
 * Creates the partition's streams that do not exist and verifies the ones that do.
 * Safe to run from several processes at once: a creation race ends in verification.
 * Returns the stream names, in the order of `contexts`.
 */
export async function ensurePartitionStreams(
  jsm: JetStreamManager,
  options: PartitionStreamsOptions,
): Promise<string[]> {
  const names: string[] = [];
  for (const context of options.contexts ?? allContexts) {
    const required = requiredPartitionStream(context, options);
    await ensureStream(jsm, required);
    names.push(required.name);
  }
  return names;
}

/** Creates one stream if missing, otherwise verifies it (see `verifyStream`). */
export async function ensureStream(jsm: JetStreamManager, required: RequiredStream): Promise<StreamInfo> {
  try {
    return await verifyStream(jsm, required);
  } catch (error) {
    if (!(error instanceof StreamMissingError)) throw error;
  }
  try {
    await jsm.streams.add(streamConfigFor(required));
  } catch (error) {
    // Someone else created it between our look and our add: verify theirs.
    if (!(error instanceof JetStreamApiError && error.code === streamNameInUseCode)) throw error;
  }
  return verifyStream(jsm, required);
}

/** The stream's last sequence (0 when empty): where a writer's next append expects to be. */
export async function lastSequence(jsm: JetStreamManager, stream: string): Promise<number> {
  try {
    const info = await jsm.streams.info(stream);
    return info.state.last_seq;
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === streamNotFoundCode) {
      throw new StreamMissingError(stream, error);
    }
    throw error;
  }
}

/**
 * The stream's tail as a consumer's server counts it (decision 0122): the last stream sequence the
 * consumer was delivered plus the messages still pending after it. A view other than stream info's
 * `last_seq`, which a replica that just restarted may answer short; a reader takes the largest.
 */
export async function consumerTail(jsm: JetStreamManager, stream: string, consumer: string): Promise<number> {
  const info = await jsm.consumers.info(stream, consumer);
  return info.delivered.stream_seq + info.num_pending;
}
