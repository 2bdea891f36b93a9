import { eventBytesMax, ledger, streamName } from '@fundtrace/events';
import { useTestInfra } from '@fundtrace/testkit';
import { describe, expect, it } from 'vitest';
import type { LedgerCommand } from '../src/ledger/commands';
import type { CommandOutcome } from '../src/writer/writer';
import { financeActor, fundPool, interceptPublishes, registerHouseholds, startWriter } from './fixtures';
import { publish } from './notice-lines.cases';
import { yuan } from './support';

/**
 * A large notice list (公示名单) through the writer against the machine's real NATS: parts of
 * bounded size appended in one batch with the notice, the state rebuilt from the stream, and a
 * roster under the notice checked against the list after a restart.
 */

const infra = useTestInfra({ database: false });
const county = '411325';
/** Lines past two full parts, so the list spans three events. */
const lineCount = 2 * ledger.noticeLinesPerEventMax + 7;

/** A notice listing every household once, one person at 190 元 each. */
function listNotice(noticeId: string, households: readonly string[]): LedgerCommand {
  return publish(
    households.map((householdId, i) => ({ line: i + 1, householdId, quantity: 1, amountFen: yuan(190) })),
    { noticeId },
  );
}

function ok(outcome: CommandOutcome) {
  if (!outcome.ok) throw new Error(`refused ${outcome.code}: ${outcome.message}`);
  return outcome.result;
}

describe('a notice with a large list', () => {
  it('is appended as bounded parts in one command, survives a restart, and gates the roster', async () => {
    const households = Array.from({ length: lineCount }, (_, i) => `HL${i + 1}`);
    const writer = await startWriter(infra.js, infra.jsm, infra.ns, county);
    // Registered after the writer started: publishing the list must read the registry's tail first.
    await registerHouseholds(infra.js, infra.jsm, infra.ns, county, households);
    const publish = listNotice('N-LARGE', households);
    const result = ok(
      await writer.execute({ commandId: 'publish-large', actor: financeActor, command: publish }),
    );
    expect(result.eventCount).toBe(4);
    const stream = streamName('ledger', county, infra.ns);
    for (let seq = result.firstSeq!; seq <= result.lastSeq!; seq++) {
      const stored = await infra.jsm.streams.getMessage(stream, { seq });
      expect(stored!.data.length).toBeLessThan(eventBytesMax);
    }
    // The same command again is the original result, not a second list.
    const again = ok(
      await writer.execute({ commandId: 'publish-large', actor: financeActor, command: publish }),
    );
    expect(again).toMatchObject({ duplicate: true, firstSeq: result.firstSeq, lastSeq: result.lastSeq });
    await writer.stop();

    // A fresh writer rebuilds the list from the stream and judges a roster by it.
    const restarted = await startWriter(infra.js, infra.jsm, infra.ns, county);
    expect(restarted.state.notices.get('N-LARGE')!.lines.size).toBe(lineCount);
    // POOL funded (fundPool also publishes notice N1; the roster below is under N-LARGE).
    await fundPool(restarted, yuan(1_000_000));
    const roster = (rows: Array<{ householdId: string; amountFen: bigint }>): LedgerCommand => ({
      type: 'SubmitRoster',
      data: {
        rosterId: 'RS-LARGE',
        programmeCode: 'dibao_class1',
        period: '2024-06',
        accountId: 'POOL',
        noticeId: 'N-LARGE',
        rows: rows.map((r, i) => ({ row: i + 2, quantity: 1, acceptanceRef: null, ...r })),
      },
    });
    const last = households[households.length - 1]!;
    const refused = await restarted.execute({
      commandId: 'roster-bad',
      actor: financeActor,
      command: roster([
        { householdId: 'HL1', amountFen: yuan(190) },
        { householdId: last, amountFen: yuan(180) },
      ]),
    });
    expect(refused.ok).toBe(false);
    if (!refused.ok) {
      const errors = (refused.details as { errors: Array<{ row: number; code: string }> }).errors;
      expect(errors).toEqual([expect.objectContaining({ row: 3, code: 'not_on_notice' })]);
    }
    const paid = ok(
      await restarted.execute({
        commandId: 'roster-good',
        actor: financeActor,
        command: roster(households.map((householdId) => ({ householdId, amountFen: yuan(190) }))),
      }),
    );
    expect(paid.eventCount).toBe(lineCount + 1);
    await restarted.stop();
  });

  it('resubmitted after the writer died mid-list, completes the list instead of answering the prefix', async () => {
    const county2 = '411326';
    const households = Array.from({ length: 2 * ledger.noticeLinesPerEventMax + 1 }, (_, i) => `HK${i + 1}`);
    // A writer whose connection dies after the notice and its first part are stored (chunks of 2).
    let published = 0;
    const dying = interceptPublishes(infra.nc, (forward, ...args) => {
      if (++published > 2) throw new Error('process killed');
      forward(...args);
    });
    const first = await startWriter(infra.js, infra.jsm, infra.ns, county2, undefined, {
      appendChunkEvents: 2,
      nc: dying,
    });
    await registerHouseholds(infra.js, infra.jsm, infra.ns, county2, households);
    const publish = listNotice('N-KILLED', households);
    const request = { commandId: 'publish-killed', actor: financeActor, command: publish };
    await expect(first.execute(request)).rejects.toThrow('process killed');
    await first.stop();

    // The restarted process finds the notice and one part; the client sends the same command again.
    const restarted = await startWriter(infra.js, infra.jsm, infra.ns, county2);
    expect(restarted.state.notices.get('N-KILLED')!.lines.size).toBe(ledger.noticeLinesPerEventMax);
    const result = ok(await restarted.execute(request));
    expect(result).toMatchObject({ duplicate: false, eventCount: 4 });
    expect(restarted.state.notices.get('N-KILLED')!.lines.size).toBe(households.length);
    expect(ok(await restarted.execute(request))).toMatchObject({ duplicate: true, eventCount: 4 });
    await restarted.stop();
  });
});
