import type { StreamInfo } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import {
  isTransientDatabaseError,
  requiredPartitionStream,
  StreamConfigMismatchError,
  streamConfigFor,
  streamDifferences,
} from '../src';

// Pure parts, no server: what counts as a transient database error, and how a
// stream's configuration is compared with the required one.

describe('isTransientDatabaseError', () => {
  it.each([
    ['08006', 'connection failure'],
    ['08001', 'cannot connect'],
    ['57P01', 'admin shutdown'],
    ['57P03', 'cannot connect now (starting up)'],
    ['53300', 'too many connections'],
    ['40001', 'serialization failure'],
    ['40P01', 'deadlock'],
  ])('retries SQLSTATE %s (%s)', (code) => {
    expect(isTransientDatabaseError(Object.assign(new Error('x'), { code }))).toBe(true);
  });

  it.each([
    ['23505', 'unique violation'],
    ['42P01', 'undefined table'],
    ['22021', 'invalid byte sequence'],
    ['23514', 'check violation'],
  ])('does not retry SQLSTATE %s (%s): it would fail the same way again', (code) => {
    expect(isTransientDatabaseError(Object.assign(new Error('x'), { code }))).toBe(false);
  });

  it('retries network errors and a connection the server ended', () => {
    expect(isTransientDatabaseError(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }))).toBe(
      true,
    );
    expect(isTransientDatabaseError(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isTransientDatabaseError(new Error('a bug in a handler'))).toBe(false);
    expect(isTransientDatabaseError(undefined)).toBe(false);
  });
});

describe('streamDifferences', () => {
  const required = requiredPartitionStream('ledger', { partition: '411325', ns: 'u1' });
  const info = (overrides: Record<string, unknown>) =>
    ({ config: { ...streamConfigFor(required), sealed: false, ...overrides } }) as unknown as StreamInfo;

  it('finds nothing in the configuration it would create', () => {
    expect(streamDifferences(info({}), required)).toEqual([]);
  });

  it('names each loosened property', () => {
    const found = streamDifferences(
      info({
        deny_purge: false,
        allow_rollup_hdrs: true,
        max_msgs_per_subject: 1,
        subjects: ['u1.ledger.>'],
      }),
      required,
    );
    expect(found).toEqual([
      { field: 'subjects', expected: ['u1.ledger.411325.>'], actual: ['u1.ledger.>'] },
      { field: 'max_msgs_per_subject', expected: -1, actual: 1 },
      { field: 'deny_purge', expected: true, actual: false },
      { field: 'allow_rollup_hdrs', expected: false, actual: true },
    ]);
    expect(new StreamConfigMismatchError(required.name, found).message).toContain(
      'max_msgs_per_subject is 1, expected -1',
    );
  });

  it('treats a mirror or sources as a difference: an event stream is written only by its writer', () => {
    expect(streamDifferences(info({ sources: [{ name: 'X' }] }), required).map((d) => d.field)).toEqual([
      'sources',
    ]);
  });
});
