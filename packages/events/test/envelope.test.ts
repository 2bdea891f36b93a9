import { describe, expect, it } from 'vitest';
import {
  audit,
  clientIdCharsMax,
  createEvent,
  EventSchemaError,
  eventVersionMax,
  messageId,
  newEventId,
  orgCharsMax,
  userIdCharsMax,
  utcTimestamp,
  wireEnvelopeSchema,
} from '../src';
import { type EnvelopeOverrides, envelopeInput, findingRaisedData, inspector } from './fixtures';

function schemaError(run: () => unknown): EventSchemaError {
  try {
    run();
  } catch (error) {
    if (error instanceof EventSchemaError) return error;
    throw error;
  }
  throw new Error('expected an EventSchemaError');
}

const create = (overrides: EnvelopeOverrides = {}) =>
  createEvent(audit.findingRaised, envelopeInput(findingRaisedData(), overrides));

describe('createEvent', () => {
  it('builds the envelope from its inputs alone (pure: same input, same event)', () => {
    const a = create();
    const b = create();
    expect(a).toStrictEqual(b);
    expect(a.type).toBe('FindingRaised');
    expect(a.version).toBe(1);
    expect(a.data.amounts[0]?.amountFen).toBe(800_000n);
    expect('causationId' in a).toBe(false);
    expect(create({ causationId: 'evt:123' }).causationId).toBe('evt:123');
  });

  it('normalises the payload as decoding would: undefined optionals are absent', () => {
    const event = createEvent(
      audit.findingRectified,
      envelopeInput({ findingId: 'F-1', recoveredFen: 0n, note: '已整改', documentNumber: undefined }),
    );
    expect(Object.keys(event.data)).not.toContain('documentNumber');
  });

  const invalid: [string, EnvelopeOverrides, string][] = [
    ['id not a uuid', { id: 'not-a-uuid' }, '/id'],
    ['id a uuid v4', { id: '3b241101-e2bb-4255-8caf-4136c566a962' }, '/id'],
    ['id in upper case', { id: newEventId(1).toUpperCase() }, '/id'],
    ['partition of 5 digits', { partition: '41132' }, '/partition'],
    ['partition with an unknown province', { partition: '991325' }, '/partition'],
    ['partition with letters', { partition: '41132X' }, '/partition'],
    ['occurredAt without offset', { occurredAt: '2019-05-06T09:02:03' }, '/occurredAt'],
    ['occurredAt as a date only', { occurredAt: '2019-05-06' }, '/occurredAt'],
    ['occurredAt on 30 February', { occurredAt: '2019-02-30T00:00:00Z' }, '/occurredAt'],
    ['occurredAt on 29 February of a common year', { occurredAt: '2019-02-29T00:00:00Z' }, '/occurredAt'],
    ['occurredAt at hour 24', { occurredAt: '2019-05-06T24:00:00Z' }, '/occurredAt'],
    ['occurredAt with a leap second', { occurredAt: '2016-12-31T23:59:60Z' }, '/occurredAt'],
    ['occurredAt with lower-case t', { occurredAt: '2019-05-06t09:02:03Z' }, '/occurredAt'],
    ['occurredAt with offset hour 24', { occurredAt: '2019-05-06T09:02:03+24:00' }, '/occurredAt'],
    ['recordedAt with an offset', { recordedAt: '2019-05-06T09:02:04.000+08:00' }, '/recordedAt'],
    ['recordedAt without milliseconds', { recordedAt: '2019-05-06T01:02:04Z' }, '/recordedAt'],
    ['recordedAt with microseconds', { recordedAt: '2019-05-06T01:02:04.000000Z' }, '/recordedAt'],
    ['recordedAt in month 13', { recordedAt: '2019-13-06T01:02:04.000Z' }, '/recordedAt'],
    ['empty commandId', { commandId: '' }, '/commandId'],
    ['commandId too long', { commandId: 'c'.repeat(clientIdCharsMax + 1) }, '/commandId'],
    ['commandId with a space', { commandId: 'cmd 1' }, '/commandId'],
    ['commandId with a slash', { commandId: 'cmd/1' }, '/commandId'],
    ['commandId with Chinese', { commandId: '命令1' }, '/commandId'],
    ['empty correlationId', { correlationId: '' }, '/correlationId'],
    ['correlationId with *', { correlationId: 'a*b' }, '/correlationId'],
    ['causationId with >', { causationId: 'a>b' }, '/causationId'],
    ['unknown role', { actor: { ...inspector, role: 'admin' as never } }, '/actor/role'],
    ['empty userId', { actor: { ...inspector, userId: '' } }, '/actor/userId'],
    ['userId too long', { actor: { ...inspector, userId: 'u'.repeat(userIdCharsMax + 1) } }, '/actor/userId'],
    ['userId padded', { actor: { ...inspector, userId: ' u1' } }, '/actor/userId'],
    ['org blank', { actor: { ...inspector, org: '   ' } }, '/actor/org'],
    ['org too long', { actor: { ...inspector, org: '局'.repeat(orgCharsMax + 1) } }, '/actor/org'],
    ['org with a control character', { actor: { ...inspector, org: '内乡\n财政局' } }, '/actor/org'],
    ['actor with an extra key', { actor: { ...inspector, token: 'secret' } as never }, '/actor'],
  ];
  it.each(invalid)('refuses %s', (_what, overrides, path) => {
    const error = schemaError(() => create(overrides));
    expect(error.type).toBe('FindingRaised');
    expect(error.version).toBe(1);
    expect(error.issues.map((issue) => issue.path)).toContain(path);
    expect(error.message).toContain('FindingRaised v1');
  });

  it('accepts the boundaries: 128-character ids, every role, offsets, fractions, leap day', () => {
    expect(() =>
      create({ commandId: 'c'.repeat(clientIdCharsMax), correlationId: 'A.b_c:d-1' }),
    ).not.toThrow();
    for (const role of ['finance', 'registry', 'inspector', 'system', 'public'] as const) {
      expect(create({ actor: { ...inspector, role } }).actor.role).toBe(role);
    }
    for (const occurredAt of [
      '2018-06-30T00:00:00+08:00',
      '2020-02-29T23:59:59Z',
      '2019-05-06T09:02:03.123456789-05:30',
      '2000-02-29T00:00:00-00:00',
    ]) {
      expect(create({ occurredAt }).occurredAt).toBe(occurredAt);
    }
    expect(create({ partition: '000000' }).partition).toBe('000000');
  });

  it('allows back-dated business time (补发): occurredAt years before recordedAt', () => {
    expect(() =>
      create({ occurredAt: '2016-01-01T00:00:00+08:00', recordedAt: '2020-12-31T00:00:00.000Z' }),
    ).not.toThrow();
  });

  it('names payload issues under /data, together with envelope issues', () => {
    const error = schemaError(() =>
      createEvent(
        audit.findingRaised,
        envelopeInput(
          { ...findingRaisedData(), amounts: [{ label: 'x', amountFen: -1n }] },
          { commandId: '' },
        ),
      ),
    );
    const paths = error.issues.map((issue) => issue.path);
    expect(paths).toContain('/data/amounts/0/amountFen');
    expect(paths).toContain('/commandId');
  });

  it('refuses payload keys the schema does not know (strict audit schemas)', () => {
    const error = schemaError(() =>
      createEvent(
        audit.findingReopened,
        envelopeInput({ findingId: 'F-1', note: 'x', reason: 'y' } as never),
      ),
    );
    expect(error.issues[0]?.path).toBe('/data');
  });
});

describe('wireEnvelopeSchema', () => {
  const wire = {
    id: newEventId(1_557_104_523_000),
    type: 'FindingReopened',
    version: 1,
    partition: '411325',
    occurredAt: '2019-05-06T09:02:03+08:00',
    recordedAt: '2019-05-06T01:02:04.000Z',
    actor: inspector,
    commandId: 'c1',
    correlationId: 'c1',
    data: {},
  };
  it('accepts a well-formed envelope and refuses unknown keys, bad types and versions', () => {
    expect(wireEnvelopeSchema.safeParse(wire).success).toBe(true);
    for (const bad of [
      { ...wire, extra: 1 },
      { ...wire, type: 'findingReopened' },
      { ...wire, type: 'Finding.Reopened' },
      { ...wire, version: 0 },
      { ...wire, version: 1.5 },
      { ...wire, version: eventVersionMax + 1 },
      { ...wire, version: '1' },
      { ...wire, data: [] },
      { ...wire, data: 'x' },
      { ...wire, data: undefined },
    ]) {
      expect(wireEnvelopeSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });
});

describe('newEventId', () => {
  it('is a uuid v7 whose first 48 bits are the given time', () => {
    const ms = Date.UTC(2019, 4, 6);
    const id = newEventId(ms);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16)).toBe(ms);
    expect(newEventId(ms)).not.toBe(id);
  });

  it('is reproducible with given random bytes and orders by time', () => {
    const random = new Uint8Array(16).fill(1);
    expect(newEventId(5, random)).toBe(newEventId(5, random));
    expect(newEventId(5, random) < newEventId(6, random)).toBe(true);
    expect(newEventId(0, random)).toMatch(/^00000000-0000-7/);
  });

  it('refuses times a uuid v7 cannot hold and short random input', () => {
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 48]) expect(() => newEventId(bad)).toThrow(RangeError);
    expect(() => newEventId(2 ** 48 - 1)).not.toThrow();
    expect(() => newEventId(1, new Uint8Array(15))).toThrow(/16 random bytes/);
  });
});

describe('utcTimestamp', () => {
  it('is toISOString for valid instants and refuses others', () => {
    expect(utcTimestamp(0)).toBe('1970-01-01T00:00:00.000Z');
    expect(utcTimestamp(Date.UTC(2019, 4, 6, 1, 2, 4, 5))).toBe('2019-05-06T01:02:04.005Z');
    expect(() => utcTimestamp(-1)).toThrow(RangeError);
    expect(() => utcTimestamp(0.5)).toThrow(RangeError);
    expect(() => utcTimestamp(Date.UTC(10000, 0, 1))).toThrow(/beyond year 9999/);
  });
});

describe('messageId', () => {
  it('is <commandId>:<index>, the same for a retried command', () => {
    expect(messageId('cmd-roster-7', 0)).toBe('cmd-roster-7:0');
    expect(messageId('cmd-roster-7', 9_999)).toBe('cmd-roster-7:9999');
  });
  it('refuses invalid command ids and indexes', () => {
    expect(() => messageId('', 0)).toThrow(RangeError);
    expect(() => messageId('a b', 0)).toThrow(RangeError);
    for (const bad of [-1, 1.5, Number.NaN, 1_000_000]) expect(() => messageId('c', bad)).toThrow(RangeError);
  });
});
