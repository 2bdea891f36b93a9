import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import {
  appendBatch,
  commandHash,
  ensurePartitionStreams,
  lastSequence,
  type OutgoingMessage,
  silentLogger,
} from '@fundtrace/eventlog';
import type { Actor } from '@fundtrace/events';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
// The writers' own code, imported from the service (the bench loads data the way ledger-api
// decides it; see decision 0080). Nothing here re-implements a rule or an encoding.
import { commandSchemas, type LedgerCommand } from '../../../services/ledger-api/src/ledger/commands';
import { decide } from '../../../services/ledger-api/src/ledger/decide';
import { loadReference } from '../../../services/ledger-api/src/reference/programmes';
import { type CommandRequest, LedgerWriter } from '../../../services/ledger-api/src/writer/writer';
import { type CommandLine, type Endpoints, sendCommand } from './load';
import type { Progress } from './progress';

/**
 * Loads a `fundtrace generate` data set through the writers' own code path, in bulk:
 *
 * - registry commands (household imports of up to 40,000 households each) go to registry-api
 *   over HTTP: an import is already one bulk command, decided and appended by its import job;
 * - ledger commands are executed by ledger-api's `LedgerWriter` in this process, one writer per
 *   partition, exactly as the HTTP route calls it (same command schemas, ids, hashes, decisions,
 *   appends with expected-last-sequence, pipelined rosters);
 * - a group of independent commands (a bank's answers to one roster: settlements and returns) is
 *   one bulk append, like a bank return file booked as one job: each command is decided by
 *   ledger-api's `decide` against the writer's state, its events are built by the writer's own
 *   envelope code (`messages`: event ids from the command hash, `<commandId>:<index>` message
 *   ids, canonical bytes), and the whole group is appended as one pipelined batch; the writer
 *   then catches up from the stream, evolving its state and idempotency map with its own code.
 *
 * The HTTP paths themselves are measured by the phases about them (roster append, CLI import,
 * end-to-end latency); loading 215,000 commands one HTTP request at a time runs at ~200 events/s
 * on the shared machine, which is the reason this exists.
 */

/** Events per pipelined append of a group: the writer's own chunk size for rosters. */
const groupChunkEvents = 5_000;
/** Unacknowledged appends in flight: the baseline's window, as the writer uses for rosters. */
const groupInFlightMax = 1_000;
/** Beijing has no daylight saving: business dates are UTC+8 all year (as the writer computes today). */
const beijingOffsetMs = 8 * 60 * 60 * 1000;

/** Path under /v1/partitions/:partition → ledger command (ledger-api's route table, for the paths the generator writes). */
const ledgerPaths: Readonly<Record<string, LedgerCommand['type']>> = {
  accounts: 'OpenAccount',
  allocations: 'IssueAllocation',
  receipts: 'ReceiveAllocation',
  plans: 'ApprovePlan',
  projects: 'ApproveProject',
  acceptances: 'RecordAcceptance',
  earmarks: 'EarmarkFunds',
  disbursements: 'DisburseFunds',
  payments: 'InstructPayment',
  rosters: 'SubmitRoster',
  'payment-settlements': 'SettlePayment',
  'payment-returns': 'ReturnPayment',
  reversals: 'ReverseMovement',
  notices: 'PublishNotice',
};

/** A ledger command the writer refused while loading a generated data set: the generator or the writer is wrong. */
export class LoadRefusedError extends Error {
  override name = 'LoadRefusedError';
}

export interface BulkLoadResult {
  commands: number;
  events: number;
  ms: number;
  /** Wall time spent in registry imports (HTTP, import job) and in ledger commands. */
  registryMs: number;
  ledgerMs: number;
  /** Commands booked as bulk groups (bank answers) and the events they appended. */
  groupCommands: number;
  groupEvents: number;
}

export interface BulkLoadOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  ns: string;
  endpoints: Endpoints;
  progress?: Progress;
}

/** The two methods of a command schema the loader uses (zod's parse and its codec encode). */
type Schema = { parse(value: unknown): unknown; encode(value: never): unknown };

const actor: Actor = { userId: 'bench-loader', role: 'finance', org: 'fundtrace-bench' };

export async function bulkLoad(file: string, o: BulkLoadOptions): Promise<BulkLoadResult> {
  const reference = loadReference();
  const logger = silentLogger();
  const writers = new Map<string, LedgerWriter>();
  const result: BulkLoadResult = {
    commands: 0,
    events: 0,
    ms: 0,
    registryMs: 0,
    ledgerMs: 0,
    groupCommands: 0,
    groupEvents: 0,
  };
  const writerFor = async (partition: string): Promise<LedgerWriter> => {
    const known = writers.get(partition);
    if (known) return known;
    await ensurePartitionStreams(o.jsm, { partition, ns: o.ns, contexts: ['ledger', 'registry'] });
    const writer = new LedgerWriter({ js: o.js, jsm: o.jsm, partition, ns: o.ns, reference, logger });
    writers.set(partition, writer);
    await writer.catchUp();
    await writer.registry.start().catch(() => undefined);
    await registryCaughtUp(writer);
    return writer;
  };
  let group: { key: string; partition: string; requests: CommandRequest[] } | null = null;
  const flush = async () => {
    if (group === null) return;
    const g = group;
    group = null;
    const t = performance.now();
    const events = await appendGroup(o, await writerFor(g.partition), g.requests, reference);
    result.ledgerMs += performance.now() - t;
    result.groupCommands += g.requests.length;
    result.groupEvents += events;
    result.commands += g.requests.length;
    result.events += events;
    o.progress?.update(result.commands);
  };

  const started = performance.now();
  try {
    const lines = createInterface({ input: createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY });
    for await (const text of lines) {
      if (text.trim() === '') continue;
      const line = JSON.parse(text) as CommandLine;
      if (group !== null && (line.group === null || line.group !== group.key)) await flush();
      if (line.service === 'registry') {
        const t = performance.now();
        result.events += await sendCommand(line, o.endpoints);
        result.registryMs += performance.now() - t;
        result.commands++;
        o.progress?.update(result.commands);
        continue;
      }
      const request = requestOf(line);
      if (line.group !== null) {
        group ??= { key: line.group, partition: line.partition, requests: [] };
        group.requests.push(request);
        continue;
      }
      const t = performance.now();
      const writer = await writerFor(line.partition);
      const outcome = await writer.execute(request);
      result.ledgerMs += performance.now() - t;
      if (!outcome.ok)
        throw new LoadRefusedError(
          `${line.partition} ${line.path} ${request.commandId}: ${outcome.code} ${outcome.message}`,
        );
      result.commands++;
      result.events += outcome.result.eventCount;
      o.progress?.update(result.commands);
    }
    await flush();
  } finally {
    for (const w of writers.values()) await w.stop();
  }
  result.ms = performance.now() - started;
  return result;
}

/** A generated line as the HTTP route hands it to the writer (same schema parse, same envelope fields). */
function requestOf(line: CommandLine): CommandRequest {
  const type = ledgerPaths[line.path];
  if (type === undefined) throw new LoadRefusedError(`no ledger command for path ${line.path}`);
  const { commandId, correlationId, occurredAt, ...body } = line.body as Record<string, unknown>;
  const data = (commandSchemas[type] as Schema).parse(body);
  return {
    commandId: String(commandId),
    correlationId: correlationId === undefined ? undefined : String(correlationId),
    occurredAt: occurredAt === undefined ? null : String(occurredAt),
    actor,
    command: { type, data } as LedgerCommand,
  };
}

/**
 * The registry tail decodes every household event when a writer starts; at county size that can
 * take longer than the writer's 10 s catch-up bound on a loaded machine, so the loader waits on.
 */
async function registryCaughtUp(writer: LedgerWriter): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await writer.registry.catchUp(60_000);
      return;
    } catch (error) {
      if (attempt >= 10) throw error;
    }
  }
}

/**
 * One group of independent commands (no two touch the same payment) as one bulk append: every
 * command decided against the same state, the events of all of them appended in pipelined
 * chunks with the expected last sequence, then read back by the writer's own catch-up.
 */
async function appendGroup(
  { js, jsm }: { js: JetStreamClient; jsm: JetStreamManager },
  writer: LedgerWriter,
  requests: readonly CommandRequest[],
  reference: ReturnType<typeof loadReference>,
): Promise<number> {
  await writer.catchUp();
  const nowMs = Date.now();
  const ctx = {
    reference,
    registry: writer.registry,
    today: new Date(nowMs + beijingOffsetMs).toISOString().slice(0, 10),
  };
  const messages: OutgoingMessage[] = [];
  for (const request of requests) {
    const { command } = request;
    const decision = decide(writer.state, command, ctx);
    if (!decision.ok)
      throw new LoadRefusedError(
        `${writer.stream} ${request.commandId}: ${decision.code} ${decision.message}`,
      );
    // The writer's own command identity: hash of the wire form, as `executeNow` computes it.
    const wire = (commandSchemas[command.type] as Schema).encode(command.data as never);
    const hash = commandHash(writer.state.partition, command.type, wire, request.occurredAt ?? null);
    // The writer's private envelope builder, used as is (decision 0080): same ids, same bytes.
    messages.push(...writer['messages'](request, hash, decision.events, 0, nowMs));
  }
  let expected = writer.state.seq;
  for (let from = 0; from < messages.length; from += groupChunkEvents) {
    const chunk = messages.slice(from, from + groupChunkEvents);
    const { lastSeq } = await appendBatch(js, {
      stream: writer.stream,
      messages: chunk,
      expectedLastSeq: expected,
      inFlightMax: groupInFlightMax,
    });
    expected = lastSeq;
  }
  await writer.catchUp();
  if (writer.state.seq !== expected || (await lastSequence(jsm, writer.stream)) !== expected)
    throw new LoadRefusedError(
      `${writer.stream}: group appended up to ${expected}, writer at ${writer.state.seq}`,
    );
  return messages.length;
}
