import { readStream } from '@fundtrace/eventlog';
import { streamName } from '@fundtrace/events';
import { describe, expect, it } from 'vitest';
import { EventFixture, type FixtureActors, fixtureAppendChunkMessages, useTestInfra } from '../src';

// EventFixture appends hand-built events to this file's namespace exactly as queued: in order, per
// stream, across chunk boundaries, after what the streams already hold, stamped as asked.
const infra = useTestInfra({ database: false });

const actors: FixtureActors = {
  ledger: { userId: 'clerk', role: 'finance', org: '内乡县财政局' },
  registry: { userId: 'registrar', role: 'registry', org: '内乡县扶贫办' },
  audit: { userId: 'rules', role: 'system', org: 'audit' },
};
const opened = (accountId: string) => ({ accountId, kind: 'pool' as const, name: `账户 ${accountId}` });

async function stored(partition: string) {
  const events = [];
  for await (const m of readStream(infra.js, {
    stream: streamName('ledger', partition, infra.ns),
    fromSeq: 1,
  }))
    events.push({ seq: m.seq, ...m.event });
  return events;
}

describe('EventFixture', () => {
  it('appends each stream in the order added, in chunks, after what it held, stamped as asked', async () => {
    const fixture = new EventFixture(undefined, infra.ns, actors);
    fixture.add('411325', 'AccountOpened', opened('first'), {
      commandId: 'c-first',
      correlationId: 'corr-1',
      occurredAt: '2019-05-06T09:00:00+08:00',
      recordedAtMs: Date.parse('2019-05-06T01:00:00Z'),
    });
    await expect(fixture.flush()).rejects.toThrow(/needs a NATS connection/);
    expect((await fixture.connect(infra.nc).flush()).get(streamName('ledger', '411325', infra.ns))).toBe(1);

    const count = fixtureAppendChunkMessages + 3;
    for (let i = 0; i < count; i++) {
      fixture.add(i % 2 === 0 ? '411325' : '411326', 'AccountOpened', opened(`a${i}`), {
        commandId: `c${i}`,
        occurredAt: '2019-05-07T09:00:00+08:00',
      });
    }
    const tails = await fixture.flush();
    const even = Math.ceil(count / 2);
    expect(tails.get(streamName('ledger', '411325', infra.ns))).toBe(1 + even);
    expect(tails.get(streamName('ledger', '411326', infra.ns))).toBe(count - even);
    expect(await fixture.flush()).toEqual(new Map()); // nothing queued twice

    const county = await stored('411325');
    expect(county[0]).toMatchObject({
      seq: 1,
      type: 'AccountOpened',
      commandId: 'c-first',
      correlationId: 'corr-1',
      actor: actors.ledger,
      recordedAt: '2019-05-06T01:00:00.000Z',
    });
    expect(county.slice(1).map((e) => (e.data as { accountId: string }).accountId)).toEqual(
      Array.from({ length: even }, (_, k) => `a${2 * k}`),
    );
    expect(county[1]).toMatchObject({
      commandId: 'c0',
      correlationId: 'c0',
      occurredAt: '2019-05-07T09:00:00+08:00',
    });
    expect((await stored('411326')).map((e) => e.seq)).toEqual(
      Array.from({ length: count - even }, (_, k) => k + 1),
    );
  });

  it('stamps an event added without a command id or business time with its own id and the default time', async () => {
    const fixture = new EventFixture(infra.nc, infra.ns, actors, { occurredAt: '2019-03-15T10:00:00+08:00' });
    const recordedAtMs = Date.parse('2019-03-15T02:00:00Z');
    // Same millisecond, no command id: each must still be its own message, not a duplicate dropped.
    fixture.add('411327', 'AccountOpened', opened('d1'), { recordedAtMs });
    fixture.add('411327', 'AccountOpened', opened('d2'), { recordedAtMs });
    fixture.add('411327', 'AccountOpened', opened('d3'), { occurredAt: '2019-04-01T09:00:00+08:00' });
    expect((await fixture.flush()).get(streamName('ledger', '411327', infra.ns))).toBe(3);
    const events = await stored('411327');
    expect(events.map((e) => e.occurredAt)).toEqual([
      '2019-03-15T10:00:00+08:00',
      '2019-03-15T10:00:00+08:00',
      '2019-04-01T09:00:00+08:00',
    ]);
    for (const e of events) expect([e.commandId, e.correlationId]).toEqual([e.id, e.id]);
    expect(new Set(events.map((e) => e.id)).size).toBe(3);

    const undated = new EventFixture(infra.nc, infra.ns, actors);
    expect(() => undated.add('411327', 'AccountOpened', opened('d4'))).toThrow(/no occurredAt/);
  });
});
