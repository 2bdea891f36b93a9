import { lastSequence, readRange } from '@fundtrace/eventlog';
import { streamName } from '@fundtrace/events';
import { useTestInfra } from '@fundtrace/testkit';
import { describe, expect, it } from 'vitest';
import type { LedgerCommand } from '../src/ledger/commands';
import {
  type CommandOutcome,
  type CommandRequest,
  type LedgerWriter,
  PartitionBusyError,
} from '../src/writer/writer';
import { financeActor, fundPool, interceptPublishes, registerHouseholds, startWriter } from './fixtures';
import { dibaoRoster, yuan } from './support';

/**
 * One roster sent to two ledger-api instances of one partition at once, as a client does that
 * retries a slow request on the other instance: each instance appends the same command's events
 * (the same message ids) while the other stores the rest of it. Exactly one copy of the roster
 * must be in the stream, both callers must get the same accepted answer (or a 503 that the retry
 * resolves), and nothing may crash on an invariant.
 */
const infra = useTestInfra({ database: false });

const rowsPerRoster = 1_200;
const rounds = 6;
/** Small bursts so the two instances' chunk boundaries differ and cross each other. */
const chunkEvents = 250;

function roster(rosterId: string, households: readonly string[]): LedgerCommand {
  const rows = households.map((householdId, i) => ({ row: i + 2, householdId }));
  return dibaoRoster(rosterId, rows, { quantity: 1, amountFen: yuan(190) });
}

/** Every caller got the roster accepted, all of it (RosterSubmitted + its rows) at firstSeq…lastSeq. */
function expectRosterAccepted(answers: readonly CommandOutcome[], firstSeq: number, lastSeq: number): void {
  for (const answer of answers) {
    expect(answer.ok, JSON.stringify(answer)).toBe(true);
    if (answer.ok) expect(answer.result).toMatchObject({ eventCount: rowsPerRoster + 1, firstSeq, lastSeq });
  }
}

const openAccount = (accountId: string): LedgerCommand => ({
  type: 'OpenAccount',
  data: { accountId, kind: 'implementing_unit', name: `单位 ${accountId}` },
});

async function until(condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; !(await condition()); i++) {
    if (i > 3_000) throw new Error('condition not met in 30 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function request(command: LedgerCommand, commandId: string): CommandRequest {
  return { commandId, actor: financeActor, command };
}

/** A client: sends the command, and on a 503 (PartitionBusy) sends it again, to the same instance. */
async function client(
  writer: LedgerWriter,
  command: LedgerCommand,
  commandId: string,
): Promise<CommandOutcome> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await writer.execute(request(command, commandId));
    } catch (error) {
      if (!(error instanceof PartitionBusyError) || attempt >= 20) throw error;
    }
  }
}

/** The roster's message ids, in order, and where each landed, read back from the stream. */
async function storedIds(stream: string, fromSeq: number, toSeq: number) {
  const messages = await readRange(infra.js, { stream, fromSeq, toSeq });
  const ids = messages.map((m) => m.msgId ?? '');
  return { ids, seqOf: new Map(messages.map((m, i) => [ids[i]!, m.seq])) };
}

const rosterIds = (commandId: string) =>
  Array.from({ length: rowsPerRoster + 1 }, (_, i) => `${commandId}:${i}`);

describe('one roster sent to two writers of one partition at once', () => {
  it('sent to both at once or a moment apart: stored once, every caller gets the same answer', async () => {
    const { js, jsm, ns } = infra;
    const partition = '411331';
    const stream = streamName('ledger', partition, ns);
    const a = await startWriter(js, jsm, ns, partition, undefined, { appendChunkEvents: chunkEvents });
    const b = await startWriter(js, jsm, ns, partition, undefined, {
      appendChunkEvents: Math.round(chunkEvents * 1.7),
    });
    await fundPool(a, yuan(190) * BigInt(rowsPerRoster * rounds));
    for (let round = 0; round < rounds; round++) {
      const households = Array.from({ length: rowsPerRoster }, (_, i) => `R${round}H${i}`);
      await registerHouseholds(js, jsm, ns, partition, households);
      // In some rounds each instance's state ends at its own last append: it decides without asking
      // the stream for its end (decision 0036) and meets the other's events as conflicts.
      if (round % 2 === 1) {
        await client(b, openAccount(`UB${round}`), `open-b-${round}`);
        await client(a, openAccount(`UA${round}`), `open-a-${round}`);
      }
      const before = await lastSequence(jsm, stream);
      const command = roster(`RS-${round}`, households);
      const commandId = `roster-${round}`;
      const first = client(a, command, commandId);
      await new Promise((resolve) => setTimeout(resolve, (round * 37) % 150));
      const second = client(b, command, commandId);
      const third = round % 3 === 2 ? client(a, command, commandId) : undefined;
      const answers = await Promise.all([first, second, ...(third ? [third] : [])]);
      const last = before + rowsPerRoster + 1;
      expect(await lastSequence(jsm, stream)).toBe(last);
      expect((await storedIds(stream, before + 1, last)).ids).toEqual(rosterIds(commandId));
      expectRosterAccepted(answers, before + 1, last);
    }
    const cold = await startWriter(js, jsm, ns, partition);
    for (const w of [a, b]) {
      await w.catchUp();
      expect(w.state.totals).toEqual(cold.state.totals);
    }
    expect(cold.state.payments.size).toBe(rowsPerRoster * rounds);
    expect(cold.state.accounts.get('POOL')!.balanceFen).toBe(0n);
    await Promise.all([a.stop(), b.stop(), cold.stop()]);
  }, 300_000);

  it('cut short on one instance by another command while the retry on the other stores the rest: the same answer on both, no invariant error', async () => {
    const { js, jsm, ns } = infra;
    const partition = '411332';
    const stream = streamName('ledger', partition, ns);
    const k = 300;
    // A's connection holds back its publishes from the k-th on until `release` resolves: meanwhile
    // another command lands after A's first k events, and the client's retry of the roster on B
    // stores the rest. (The last session's report: an invariant error on A.)
    let published = 0;
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const held = interceptPublishes(infra.nc, (forward, ...args) => {
      if (published++ < k + 3) return forward(...args); // the pool's three commands, then k
      void released.then(() => forward(...args));
    });
    const a = await startWriter(js, jsm, ns, partition, undefined, { nc: held, appendChunkEvents: 2_000 });
    const b = await startWriter(js, jsm, ns, partition);
    await fundPool(a, yuan(190) * BigInt(rowsPerRoster));
    const households = Array.from({ length: rowsPerRoster }, (_, i) => `H${i}`);
    await registerHouseholds(js, jsm, ns, partition, households);
    const before = await lastSequence(jsm, stream);
    const command = roster('RS-1', households);
    const onA = client(a, command, 'roster-1');
    await until(async () => (await lastSequence(jsm, stream)) === before + k);
    const foreign = await client(b, openAccount('UX'), 'open-x');
    expect(foreign).toMatchObject({ ok: true, result: { firstSeq: before + k + 1 } });
    const onB = await client(b, command, 'roster-1');
    release();
    const answers = [
      await onA,
      onB,
      await client(a, command, 'roster-1'),
      await client(b, command, 'roster-1'),
    ];
    const last = before + rowsPerRoster + 2;
    expect(await lastSequence(jsm, stream)).toBe(last);
    const { ids, seqOf } = await storedIds(stream, before + 1, last);
    expect(seqOf.get('open-x:0')).toBe(before + k + 1);
    expect(ids.filter((id) => id !== 'open-x:0')).toEqual(rosterIds('roster-1'));
    expectRosterAccepted(answers, before + 1, last);
    // Both first answers are originals (each instance stored part of it); the later sends are repeats.
    expect(answers.map((answer) => answer.ok && answer.result.duplicate)).toEqual([false, false, true, true]);
    const cold = await startWriter(js, jsm, ns, partition);
    for (const w of [a, b]) {
      await w.catchUp();
      expect(w.state.totals).toEqual(cold.state.totals);
      expect(w.state.rosters.get('RS-1')).toEqual(cold.state.rosters.get('RS-1'));
    }
    expect(cold.state.payments.size).toBe(rowsPerRoster);
    expect(cold.state.accounts.get('POOL')!.balanceFen).toBe(0n);
    await Promise.all([a.stop(), b.stop(), cold.stop()]);
  }, 120_000);
});
