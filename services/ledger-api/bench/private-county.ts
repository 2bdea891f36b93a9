import { spawn } from 'node:child_process';
import {
  appendBatch,
  commandMessages,
  ensurePartitionStreams,
  lastSequence,
  type OutgoingMessage,
  silentLogger,
} from '@fundtrace/eventlog';
import { eventBatchEncoder, ledgerEvents, streamName, utcTimestamp } from '@fundtrace/events';
import { type PrivateNats, startPrivateNats } from '@fundtrace/testkit';
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { LedgerCommand } from '../src/ledger/commands';
import { decide } from '../src/ledger/decide';
import { evolve } from '../src/ledger/evolve';
import { initialState } from '../src/ledger/state';
import { loadReference } from '../src/reference/programmes';
import { LedgerWriter } from '../src/writer/writer';
import { registerHouseholds } from '../test/fixtures';

/**
 * What the size benchmarks share (cold-start.ts, steady-commands.ts): a county's streams written
 * into a private nats-server (temp dir; nothing on the shared server), and a measurement in a
 * fresh process, as ledger-api boots, with nothing of the generator's memory in it.
 */

export const county = '411325';
const actor = { userId: 'bench', role: 'finance' as const, org: 'bench' };
/** Messages per pipelined append while generating (one burst may span many commands). */
const generateBatchMessages = 5_000;

/**
 * A private nats-server holding `households` registered households (REGISTRY) and the LEDGER
 * events of `commands`, each decided by the real decider against the state the previous ones left,
 * encoded by the writer's encoder and appended with the writer's pipelined append.
 */
export async function privateCounty(
  ns: string,
  households: number,
  commands: Iterable<LedgerCommand>,
  log: (line: string) => void,
): Promise<{ nats: PrivateNats; registryEvents: number; ledgerEvents: number }> {
  const nats = await startPrivateNats();
  try {
    const nc = await connect({ servers: nats.url });
    const js = jetstream(nc, { timeout: 60_000 });
    const jsm = await jetstreamManager(nc);
    await ensurePartitionStreams(jsm, { partition: county, ns, contexts: ['ledger', 'registry'] });
    let t = performance.now();
    const ids = Array.from({ length: households }, (_, i) => `H${i}`);
    for (let i = 0; i < households; i += 10_000)
      await registerHouseholds(js, jsm, ns, county, ids.slice(i, i + 10_000));
    const registryEvents = await lastSequence(jsm, streamName('registry', county, ns));
    log(`registered ${households} households (${registryEvents} registry events) in ${secs(t)}`);
    t = performance.now();
    const ledgerEvents = await appendDecided(js, ns, commands, log);
    log(`decided, encoded and appended ${ledgerEvents} ledger events in ${secs(t)}`);
    await nc.close();
    return { nats, registryEvents, ledgerEvents };
  } catch (error) {
    await nats.stop();
    throw error;
  }
}

async function appendDecided(
  js: ReturnType<typeof jetstream>,
  ns: string,
  commands: Iterable<LedgerCommand>,
  log: (line: string) => void,
): Promise<number> {
  const reference = loadReference();
  const registry = { seq: 1, household: () => ({ exited: false, accountBound: true, livingMembers: 1 }) };
  const versions = new Map(ledgerEvents.map((d) => [d.type, d.version]));
  const nowMs = Date.parse('2024-12-20T00:00:00Z');
  const stream = streamName('ledger', county, ns);
  const state = initialState(county);
  let seq = 0;
  let command = 0;
  let pending: OutgoingMessage[] = [];
  const flush = async () => {
    if (pending.length === 0) return;
    const appended = await appendBatch(js, {
      stream,
      messages: pending,
      expectedLastSeq: seq,
      inFlightMax: 1_000,
    });
    seq = appended.lastSeq;
    pending = [];
  };
  for (const c of commands) {
    const d = decide(state, c, { reference, registry, today: '2024-12-20' });
    if (!d.ok) throw new Error(`${d.code}: ${d.message}`);
    const commandId = `c${++command}`;
    const encoder = eventBatchEncoder({
      partition: county,
      occurredAt: utcTimestamp(nowMs),
      recordedAt: utcTimestamp(nowMs),
      actor,
      commandId,
      correlationId: commandId,
    });
    // The writer's encoding (ids from the command, canonical bytes, Nats-Msg-Id), the command id as its hash.
    for (const message of commandMessages(encoder, d.events, {
      nowMs,
      hash: commandId,
      versionOf: (type) => versions.get(type)!,
      ns,
    })) {
      pending.push(message);
      if (pending.length >= generateBatchMessages) await flush();
    }
    for (const e of d.events) evolve(state, e);
    if (c.type === 'SubmitRoster') log(`  ${c.data.rosterId}: ${seq + pending.length} ledger events`);
  }
  await flush();
  return seq;
}

/** A LedgerWriter of the private county (or another writer class with its options, for an A/B), not started. */
export function countyWriter(
  js: JetStreamClient,
  jsm: JetStreamManager,
  ns: string,
  Writer: typeof LedgerWriter = LedgerWriter,
): LedgerWriter {
  return new Writer({ js, jsm, partition: county, ns, reference: loadReference(), logger: silentLogger() });
}

/** Runs `script` with `args` in a fresh node (tsx) process; answers what it printed on stdout. */
export function inFreshProcess(
  script: string,
  args: readonly string[],
  options: { nodeArgs?: readonly string[]; env?: Record<string, string> } = {},
): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', script, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, ...options.env },
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.on('exit', (code) =>
      code === 0 ? resolve(out.trim()) : reject(new Error(`${script} exited ${code}`)),
    );
  });
}

export function secs(t: number): string {
  return `${((performance.now() - t) / 1000).toFixed(1)} s`;
}
