import { readRange } from '@fundtrace/eventlog';
import { streamName } from '@fundtrace/events';
import { deleteNamespaceStreams, useTestInfra } from '@fundtrace/testkit';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { LedgerCommand } from '../src/ledger/commands';
import {
  type CommandOutcome,
  type CommandRequest,
  type LedgerWriter,
  PartitionBusyError,
  type WriterOptions,
} from '../src/writer/writer';
import { financeActor, fundPool, interceptPublishes, pay, registerHouseholds, startWriter } from './fixtures';
import { yuan } from './support';

/**
 * Group commit (decision 0036): commands that arrive while an append is in flight are decided in
 * order against the evolving state and appended as one burst. It must be invisible: the same
 * answers and the same bytes in the stream as deciding and appending each alone, and a group that
 * loses an append race in its middle must answer the stored commands, decide the others again, and
 * never leave state the stream does not hold.
 */
const infra = useTestInfra({ database: false });
/** Namespaces of the twin streams the property test compares (cleaned up here, not by testkit). */
const twinNamespaces: string[] = [];
let partitions = 0;

afterAll(async () => {
  for (const ns of twinNamespaces) await deleteNamespaceStreams(infra.jsm, ns);
});

function nextPartition(): string {
  partitions += 1;
  return `4113${String(partitions).padStart(2, '0')}`;
}

function writerOn(ns: string, partition: string, extra: Partial<WriterOptions> = {}) {
  return startWriter(infra.js, infra.jsm, ns, partition, undefined, extra);
}

const request = (command: LedgerCommand, commandId: string): CommandRequest => ({
  commandId,
  actor: financeActor,
  command,
});

const openAccount = (accountId: string, name = `单位 ${accountId}`): LedgerCommand => ({
  type: 'OpenAccount',
  data: { accountId, kind: 'implementing_unit', name },
});

const receive = (receiptId: string, amountFen: bigint): LedgerCommand => ({
  type: 'ReceiveAllocation',
  data: {
    receiptId,
    accountId: 'POOL',
    amountFen,
    origin: {
      kind: 'external',
      payer: '县财政',
      documentNumber: `内财〔2024〕${receiptId}号`,
      fundSource: 'county',
      purpose: 'social_assistance',
      fiscalYear: 2024,
    },
  },
});

/** A pool with 1,000 元, notice N1 and registered households. */
async function setUp(writer: LedgerWriter, households: readonly string[], ns: string) {
  await fundPool(writer, yuan(1_000));
  await registerHouseholds(infra.js, infra.jsm, ns, writer.state.partition, households);
}

/** An outcome without what may differ between two runs of the same commands: nothing. */
function answer(outcome: CommandOutcome) {
  return outcome.ok ? { ok: true, ...outcome.result } : { ok: false, code: outcome.code };
}

type Op =
  | { kind: 'open'; account: number; name: number }
  | { kind: 'receive'; receipt: number; amount: number }
  | { kind: 'pay'; payment: number; household: number; amount: number }
  | { kind: 'repeat'; of: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('open' as const), account: fc.nat(12), name: fc.nat(1) }),
  fc.record({
    kind: fc.constant('receive' as const),
    receipt: fc.nat(6),
    amount: fc.integer({ min: 1, max: 400 }),
  }),
  fc.record({
    kind: fc.constant('pay' as const),
    payment: fc.nat(20),
    household: fc.nat(7),
    amount: fc.integer({ min: 50, max: 700 }),
  }),
  fc.record({ kind: fc.constant('repeat' as const), of: fc.nat() }),
);

/** The ops as requests: command ids follow the entity, so a clash is a repeat or a reused id. */
function requestsOf(ops: readonly Op[]): CommandRequest[] {
  const out: CommandRequest[] = [];
  for (const op of ops) {
    switch (op.kind) {
      case 'open':
        // Same account id, sometimes other content: a repeat, a reused id, or account_exists.
        out.push(
          request(openAccount(`A${op.account}`, `名 ${op.name}`), `open-${op.account}-${op.name % 2}`),
        );
        break;
      case 'receive':
        out.push(request(receive(`R${op.receipt + 10}`, yuan(op.amount)), `receive-${op.receipt}`));
        break;
      case 'pay':
        out.push(request(pay(`P${op.payment}`, `H${op.household}`, yuan(op.amount)), `pay-${op.payment}`));
        break;
      case 'repeat':
        if (out.length > 0) out.push(out[op.of % out.length]!);
        break;
    }
  }
  return out;
}

describe('group commit', () => {
  it('property: commands sent all at once get the answers, state and stream bytes of the same commands decided one by one', async () => {
    const households = Array.from({ length: 8 }, (_, i) => `H${i}`);
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 2, maxLength: 60 }), async (ops) => {
        const partition = nextPartition();
        const requests = requestsOf(ops);
        const nsGrouped = `${infra.ns}g${partitions}`;
        const nsSolo = `${infra.ns}s${partitions}`;
        twinNamespaces.push(nsGrouped, nsSolo);
        const grouped = await writerOn(nsGrouped, partition);
        const solo = await writerOn(nsSolo, partition, { groupCommit: false });
        try {
          await setUp(grouped, households, nsGrouped);
          await setUp(solo, households, nsSolo);
          // All at once: the first runs alone, the rest arrive while its append is in flight.
          const together = await Promise.all(requests.map((r) => grouped.execute(r)));
          const oneByOne: CommandOutcome[] = [];
          for (const r of requests) oneByOne.push(await solo.execute(r));
          expect(together.map(answer)).toEqual(oneByOne.map(answer));
          expect(grouped.state.seq).toBe(solo.state.seq);
          expect(grouped.state.totals).toEqual(solo.state.totals);
          expect(grouped.state.accounts).toEqual(solo.state.accounts);
          expect(grouped.state.payments).toEqual(solo.state.payments);
          const bytes = async (ns: string) =>
            (
              await readRange(infra.js, {
                stream: streamName('ledger', partition, ns),
                fromSeq: 1,
                toSeq: grouped.state.seq,
              })
            ).map((m) => [m.msgId, Buffer.from(m.bytes).toString()]);
          expect(await bytes(nsGrouped)).toEqual(await bytes(nsSolo));
        } finally {
          await Promise.all([grouped.stop(), solo.stop()]);
        }
      }),
      { numRuns: 12 },
    );
  }, 180_000);

  it('appends what arrives during an append as one burst', async () => {
    const partition = nextPartition();
    const writer = await writerOn(infra.ns, partition);
    const outcomes = await Promise.all(
      Array.from({ length: 40 }, (_, i) => writer.execute(request(openAccount(`B${i}`), `burst-${i}`))),
    );
    expect(outcomes.every((o) => o.ok)).toBe(true);
    // The first ran alone; the other 39 were decided while it was in flight and went as one group.
    expect(writer.stats).toMatchObject({ groups: 1, groupedCommands: 39, rebuilds: 0 });
    expect(outcomes.map((o) => (o.ok ? o.result.firstSeq : null))).toEqual(
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
    await writer.stop();
  });

  it('a foreign append in the middle of a group: the stored commands are answered, the rest decided again, the state rebuilt', async () => {
    const partition = nextPartition();
    const other = await startWriter(infra.js, infra.jsm, infra.ns, partition);
    // Hold back the group's 4th message until the other instance has appended after its 3rd.
    let gate: Promise<void> = Promise.resolve();
    const nc = interceptPublishes(infra.nc, (forward, ...args) => {
      const msgId = args[2]?.headers?.get('Nats-Msg-Id');
      if (msgId === 'cut-4:0') {
        gate = gate.then(async () => {
          for (let i = 0; i < 500 && other.state.seq < 4; i++) {
            await new Promise((r) => setTimeout(r, 10));
            await other.catchUp();
          }
          const foreign = await other.execute(request(openAccount('FOREIGN'), 'foreign'));
          expect(foreign.ok).toBe(true);
        });
      }
      void gate.then(() => forward(...args));
    });
    const writer = await writerOn(infra.ns, partition, { nc });
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, (_, i) => writer.execute(request(openAccount(`C${i}`), `cut-${i}`))),
    );
    expect(outcomes.map((o) => o.ok)).toEqual(Array(8).fill(true));
    const seqs = outcomes.map((o) => (o.ok ? o.result.firstSeq : null));
    // cut-0 alone (1), cut-1..3 stored in the group (2–4), the foreign account (5), the rest after it.
    expect(seqs).toEqual([1, 2, 3, 4, 6, 7, 8, 9]);
    expect(writer.stats.rebuilds).toBe(1);
    const cold = await startWriter(infra.js, infra.jsm, infra.ns, partition);
    expect(writer.state.seq).toBe(9);
    expect(writer.state.accounts).toEqual(cold.state.accounts);
    expect(cold.state.accounts.has('FOREIGN')).toBe(true);
    await Promise.all([writer.stop(), other.stop(), cold.stop()]);
  });

  it('many clients on two instances with group commit never double-spend', async () => {
    const partition = nextPartition();
    const a = await writerOn(infra.ns, partition);
    const b = await writerOn(infra.ns, partition);
    const households = Array.from({ length: 60 }, (_, i) => `H${i}`);
    await setUp(a, households, infra.ns); // 1,000 元 in the pool
    const runOn = async (writer: LedgerWriter, command: LedgerCommand, commandId: string) => {
      for (;;) {
        try {
          return await writer.execute(request(command, commandId));
        } catch (error) {
          if (!(error instanceof PartitionBusyError)) throw error; // a client retries a 503
        }
      }
    };
    // 60 payments of 100 元 from 60 clients at once, and every third one sent twice (a retry).
    const sends = households.flatMap((h, i) => {
      const command = pay(`P${i}`, h, yuan(100));
      const writer = i % 2 === 0 ? a : b;
      const once = runOn(writer, command, `race-${i}`);
      return i % 3 === 0 ? [once, runOn(i % 4 === 0 ? b : a, command, `race-${i}`)] : [once];
    });
    // Meanwhile more money arrives through b: 500 元.
    const topUp = runOn(b, receive('R99', yuan(500)), 'top-up');
    const outcomes = await Promise.all(sends);
    expect((await topUp).ok).toBe(true);
    const paid = new Map<string, number>();
    for (const o of outcomes) if (o.ok) paid.set(o.result.commandId, o.result.firstSeq!);
    // 1,500 元 pays exactly 15 of them; the rest are refused for want of money.
    expect(paid.size).toBe(15);
    expect(
      outcomes.every((o) => o.ok || o.code === 'insufficient_funds' || o.code === 'duplicate_payment'),
    ).toBe(true);
    const c = await startWriter(infra.js, infra.jsm, infra.ns, partition);
    expect(c.state.accounts.get('POOL')!.balanceFen).toBe(0n);
    expect(c.state.totals.reservedFen).toBe(yuan(1_500));
    expect(c.state.payments.size).toBe(15);
    // A retried command got the sequence of its one event, whichever instance answered it.
    for (const o of outcomes) if (o.ok) expect(o.result.firstSeq).toBe(paid.get(o.result.commandId));
    expect(a.stats.groups + b.stats.groups).toBeGreaterThan(0);
    await Promise.all([a.stop(), b.stop(), c.stop()]);
  });
});
