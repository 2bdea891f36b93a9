import { userInfo } from 'node:os';
import {
  AppendConflictError,
  append,
  connectNats,
  decodeStreamMessage,
  lastSequence,
  PoisonEventError,
} from '@fundtrace/eventlog';
import {
  audit,
  createEvent,
  encodeEvent,
  leafHash,
  messageId,
  newEventId,
  parseStreamName,
  streamName,
  subjectFor,
  utcTimestamp,
} from '@fundtrace/events';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Command, Option } from 'commander';
import { UsageError } from '../context';

type NatsConnection = Awaited<ReturnType<typeof connectNats>>;

/** Appends lost to a concurrent audit-api append before giving up (each retry reads the new tail). */
const appendRetriesMax = 5;

export interface QuarantineRequest {
  /** Stream name without namespace, e.g. LEDGER_411325. */
  readonly stream: string;
  readonly seq: number;
  readonly reason: string;
  /** Who decides (the envelope's actor): an operator's user id. */
  readonly operator: string;
  readonly organisation: string;
  readonly ns: string;
  readonly nowMs: number;
}

export interface QuarantineResult {
  readonly auditStream: string;
  readonly auditSeq: number;
  readonly leafHash: string;
  /** The same quarantine was already appended (same command): nothing new was appended. */
  readonly duplicate: boolean;
}

/**
 * Appends an EventQuarantined for the message at `stream`/`seq` to the AUDIT stream of its
 * partition, naming the leaf hash of its exact bytes. Refuses (UsageError, nothing appended) when
 * the stream or message does not exist, or when the message decodes: only a poison event may be
 * stepped over, never an event the books could apply.
 */
export async function quarantineEvent(
  nc: NatsConnection,
  request: QuarantineRequest,
): Promise<QuarantineResult> {
  const ref = parseStreamName(request.stream);
  if (ref === null || ref.namespace !== '') {
    throw new UsageError(
      `${request.stream} is not a stream name without namespace (e.g. LEDGER_411325); set FUNDTRACE_NAMESPACE for a namespace`,
    );
  }
  if (!Number.isSafeInteger(request.seq) || request.seq < 1)
    throw new UsageError(`sequence must be a positive integer, got ${request.seq}`);
  const reason = request.reason.trim();
  if (reason === '') throw new UsageError('--reason must say why the event is stepped over');
  if (reason.length > audit.quarantineReasonCharsMax)
    throw new UsageError(`--reason is longer than ${audit.quarantineReasonCharsMax} characters`);

  const jsm = await jetstreamManager(nc);
  const stored = streamName(ref.context, ref.partition, request.ns);
  const message = await jsm.streams.getMessage(stored, { seq: request.seq }).catch((error: unknown) => {
    throw new UsageError(`cannot read ${stored} sequence ${request.seq}: ${(error as Error).message}`);
  });
  if (message === null) throw new UsageError(`${stored} holds no message at sequence ${request.seq}`);
  try {
    decodeStreamMessage({
      stream: stored,
      seq: message.seq,
      subject: message.subject,
      bytes: message.data,
      headers: message.header,
      msgId: undefined,
    });
    throw new UsageError(
      `${request.stream} sequence ${request.seq} decodes as a valid event: it is no poison event and is not quarantined`,
    );
  } catch (error) {
    if (!(error instanceof PoisonEventError)) throw error;
  }

  const hash = Buffer.from(leafHash(message.data)).toString('hex');
  // One command per (message, bytes): repeating the command appends nothing new.
  const commandId = `quarantine-${request.stream}-${request.seq}-${hash.slice(0, 16)}`;
  const event = createEvent(audit.eventQuarantined, {
    id: newEventId(request.nowMs),
    partition: ref.partition,
    data: { stream: request.stream, seq: request.seq, leafHash: hash, reason },
    actor: { userId: request.operator, role: 'system', org: request.organisation },
    commandId,
    correlationId: commandId,
    occurredAt: utcTimestamp(request.nowMs),
    recordedAt: utcTimestamp(request.nowMs),
  });
  const auditStream = streamName('audit', ref.partition, request.ns);
  const outgoing = {
    subject: subjectFor(event, request.ns),
    bytes: encodeEvent(event),
    msgId: messageId(commandId, 0),
  };
  const js = jetstream(nc);
  for (let attempt = 0; ; attempt++) {
    // audit-api is the AUDIT stream's usual writer: the expected last sequence keeps both honest.
    const expectedLastSeq = await lastSequence(jsm, auditStream);
    try {
      const result = await append(js, { stream: auditStream, message: outgoing, expectedLastSeq });
      return { auditStream, auditSeq: result.seq, leafHash: hash, duplicate: result.duplicate };
    } catch (error) {
      if (!(error instanceof AppendConflictError) || attempt + 1 >= appendRetriesMax) throw error;
    }
  }
}

/** `fundtrace quarantine <stream> <seq> --reason …`: an operator's audited way past a poison event. */
export function quarantineCommand(): Command {
  return new Command('quarantine')
    .description(
      'quarantine an undecodable stored event so the projector records it (quarantined_events) and goes on',
    )
    .argument('<stream>', 'stream name without namespace, e.g. LEDGER_411325')
    .argument('<seq>', 'sequence of the poison event in that stream')
    .requiredOption('--reason <text>', 'why it is stepped over (kept in the AUDIT stream)')
    .addOption(
      new Option('--operator <user>', 'who decides (the event actor)').default(
        process.env.USER ?? userInfo().username,
      ),
    )
    .option('--org <organisation>', "the operator's organisation", 'operations')
    .action(
      async (stream: string, seqText: string, options: { reason: string; operator: string; org: string }) => {
        const seq = Number(seqText);
        const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
        const ns = process.env.FUNDTRACE_NAMESPACE ?? '';
        const nc = await connectNats(natsUrl.split(','), { name: 'fundtrace-quarantine' });
        try {
          const result = await quarantineEvent(nc, {
            stream,
            seq,
            reason: options.reason,
            operator: options.operator,
            organisation: options.org,
            ns,
            nowMs: Date.now(),
          });
          process.stdout.write(
            `${result.duplicate ? 'already quarantined' : 'quarantined'}: ${stream} #${seq} ` +
              `(leaf hash ${result.leafHash}) by ${result.auditStream} #${result.auditSeq}\n`,
          );
        } finally {
          await nc.close();
        }
      },
    );
}
