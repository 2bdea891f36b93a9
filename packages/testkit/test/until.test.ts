import { describe, expect, it } from 'vitest';
import { until } from '../src';

/** A probe that never answers: a read stuck on a server that went away. */
const hung = () => new Promise<boolean>(() => undefined);

describe('until (the bounded wait every test uses)', () => {
  it('returns once the probe holds; a probe that throws or says no is "not yet"', async () => {
    const answers: Array<() => Promise<boolean>> = [
      async () => {
        throw new Error('not up yet');
      },
      async () => false,
      async () => true,
    ];
    let probes = 0;
    await until('the third probe', () => answers[probes++]!(), 60_000);
    expect(probes).toBe(3);
  });

  it('times out naming what it waited for and the last error', async () => {
    await expect(
      until(
        'the projector to catch up',
        async () => {
          throw new Error('relation "books.payments" does not exist');
        },
        300,
      ),
    ).rejects.toThrow(
      /waiting for the projector to catch up \(last error: relation "books.payments" does not exist\)/,
    );
  });

  it('a probe that has not answered within probeTimeoutMs is "not yet": the next probe starts', async () => {
    let probes = 0;
    await until(
      'a probe after the hung one',
      () => (probes++ === 0 ? hung() : Promise.resolve(true)),
      60_000,
      50,
    );
    expect(probes).toBe(2);
  });

  it('a hung probe does not hang the wait: it fails at its deadline, saying the probe did not answer', async () => {
    await expect(until('a hung read', hung, 300)).rejects.toThrow(
      /waiting for a hung read \(the last probe did not answer within \d+ ms\)/,
    );
    await expect(until('a hung read', hung, 300, 100)).rejects.toThrow(/waiting for a hung read/);
  });
});
