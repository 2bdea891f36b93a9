import { appendAckTimeoutMs, lastSequence, readRange } from '@fundtrace/eventlog';
import { streamName } from '@fundtrace/events';
import { type App, signToken } from '@fundtrace/service-kit';
import { useTestInfra, waitUntil } from '@fundtrace/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { appendRetriesMax, type LedgerWriter } from '../src/writer/writer';
import { startTestApp } from './app-fixture';
import { interceptPublishes, testNowMs } from './fixtures';

/**
 * A group of commands (group commit, decision 0036) whose appends never get an answer: the
 * connection dies under every publish. Out of tries, each command must be answered as a lone
 * command is (decision 0039): 503 nats_unavailable with Retry-After, the unknown outcome it is, not
 * partition_busy (no other instance is writing); and once NATS answers again the same commands,
 * sent again with their ids, are stored once each.
 */
const infra = useTestInfra({ database: false });
const secret = 'ledger-api-group-unknown-secret-of-at-least-32-bytes';
const county = '411325';
let app: App | undefined;

afterAll(async () => {
  await app?.close();
});

describe('a group whose appends are never answered', () => {
  it('answers every command 503 nats_unavailable with Retry-After, and stores each once when NATS answers again', async () => {
    let nowMs = testNowMs;
    let mode: 'pass' | 'hold' | 'lose' = 'pass';
    const held: Array<() => void> = [];
    /** Lost publishes: message id and reply subject (`<ack inbox>.<burst>.<index>`, decision 0035). */
    const lost: Array<{ msgId: string; burst: string }> = [];
    const ledgerSubjects = `${infra.ns}.ledger.${county}.`;
    const appendConnection = interceptPublishes(infra.nc, (forward, subject, payload, options) => {
      if (!subject.startsWith(ledgerSubjects) || mode === 'pass') return forward(subject, payload, options);
      if (mode === 'hold') {
        held.push(() => forward(subject, payload, options));
        return;
      }
      lost.push({
        msgId: options?.headers?.get('Nats-Msg-Id') ?? '',
        burst: (options?.reply ?? '').replace(/\.\d+$/, ''),
      });
      // The writer would notice after its ack timeout: that much time passes on its clock, so the
      // 2 s of solo commands after a failed group (0036) are over when the next group forms, as in
      // production, where every try waits out appendAckTimeoutMs.
      nowMs += appendAckTimeoutMs;
      throw new Error('connection lost under the publish');
    });
    let writers: ReadonlyMap<string, LedgerWriter>;
    ({ app, writers } = await startTestApp(infra, {
      partitions: [county],
      jwtSecret: secret,
      deps: { now: () => nowMs, appendConnection },
    }));
    const writer = writers.get(county)!;
    const token = await signToken(
      secret,
      { sub: 'u1', role: 'finance', org: '内乡县财政局', partitions: [county] },
      3600,
    );
    const open = (id: string) =>
      app!.inject({
        method: 'POST',
        url: `/v1/partitions/${county}/accounts`,
        headers: { authorization: `Bearer ${token}` },
        payload: { commandId: `open-${id}`, accountId: id, kind: 'implementing_unit', name: `单位 ${id}` },
      });
    // Six commands queue behind a first one whose append is held, so they are decided as one group.
    const grouped = ['G1', 'G2', 'G3', 'G4', 'G5', 'G6'];
    mode = 'hold';
    const first = open('A0');
    await waitUntil(
      async () => held.length > 0,
      30_000,
      () => 'the first command was not appended',
    );
    const answers = grouped.map((id) => open(id));
    await waitUntil(
      async () => writer.commandsWaiting === grouped.length,
      30_000,
      () => `${writer.commandsWaiting} commands queued, expected ${grouped.length}`,
    );
    mode = 'lose';
    for (const release of held.splice(0)) release();

    expect([200, 201]).toContain((await first).statusCode);
    for (const response of await Promise.all(answers)) {
      expect(response.statusCode, response.body).toBe(503);
      expect(response.json().error.code, response.body).toBe('nats_unavailable');
      expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    }
    // The six were sent as one burst first, and the last ones ran out of tries inside a group:
    // appendRetriesMax groups in all, each command after the first of them dropping out to run alone.
    const bursts = new Map<string, string[]>();
    for (const { burst, msgId } of lost) bursts.set(burst, [...(bursts.get(burst) ?? []), msgId]);
    const [firstBurst] = bursts.values();
    expect(firstBurst!.sort()).toEqual(grouped.map((id) => `open-${id}:0`));
    expect([...bursts.values()].filter((burst) => burst.length > 1)).toHaveLength(appendRetriesMax);

    // NATS answers again: the same commands, sent again, are stored once each.
    mode = 'pass';
    const again = await Promise.all(['A0', ...grouped].map((id) => open(id)));
    expect(again.map((response) => response.statusCode)).toEqual([200, ...grouped.map(() => 201)]);
    const stream = streamName('ledger', county, infra.ns);
    const last = await lastSequence(infra.jsm, stream);
    const stored = await readRange(infra.js, { stream, fromSeq: 1, toSeq: last });
    expect(stored.map((m) => m.msgId).sort()).toEqual(['A0', ...grouped].map((id) => `open-${id}:0`));
  }, 120_000);
});
