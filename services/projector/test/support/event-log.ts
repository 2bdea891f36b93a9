import { EventFixture, type FixtureActors } from '@fundtrace/testkit';
import type { NatsConnection } from '@nats-io/nats-core';

/** Who the projector tests' events are recorded as. */
const actors: FixtureActors = {
  ledger: { userId: 'clerk-01', role: 'finance', org: '内乡县财政局' },
  registry: { userId: 'registrar-01', role: 'registry', org: '内乡县扶贫办' },
  audit: { userId: 'rules', role: 'system', org: '内乡县纪委监委' },
};

/** The business time of an event a projector test adds without one. */
const occurredAt = '2019-03-15T10:00:00+08:00';

/**
 * testkit's EventFixture as the projector tests use it: each event its own command (its id), dated
 * `occurredAt` unless it says, including events no writer would accept (the projector must catch
 * those itself). `nc` may be given later (`connect`): building a million events takes minutes of
 * synchronous work, long enough for a connection opened before it to miss its pings and be dropped.
 */
export function projectorEventLog(nc: NatsConnection | undefined, ns: string): EventFixture {
  return new EventFixture(nc, ns, actors, { occurredAt });
}
