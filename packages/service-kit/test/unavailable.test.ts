import { describe, expect, it } from 'vitest';
import { temporaryUnavailability } from '../src/index';

/** Errors shaped as the eventlog and nats-core raise them: a name, a message, a cause chain. */
function named(name: string, message: string, cause?: unknown): Error {
  return Object.assign(new Error(message, cause === undefined ? {} : { cause }), { name });
}

describe('temporaryUnavailability', () => {
  it('answers 503 nats_unavailable for a roster cut short by "no responders" during a leader change', () => {
    // What ledger-api's writer throws when a node of an R3 cluster dies mid-roster: a batch cut short,
    // caused by a rejection, caused by the client's no-responders status.
    const noResponders = named('JetStreamNotEnabled', 'jetstream is not enabled');
    const rejected = named('AppendRejectedError', 'no stream captures the subject', noResponders);
    const cutShort = named('BatchCutShortError', 'batch append cut short at index 1270', rejected);
    expect(temporaryUnavailability(cutShort)).toMatchObject({ code: 'nats_unavailable' });
  });

  it('answers 503 nats_unavailable for a catch-up read that stalled (its server froze or went away)', () => {
    const stalled = named('StreamReadStalledError', 'reading LEDGER_411325: no message for 5000 ms');
    expect(temporaryUnavailability(stalled)).toMatchObject({
      code: 'nats_unavailable',
      retryAfterSeconds: 2,
    });
  });

  it('leaves a definite rejection the server explains as it is (not a temporary condition)', () => {
    const tooLarge = named('AppendRejectedError', 'message size exceeds maximum allowed');
    expect(temporaryUnavailability(named('BatchCutShortError', 'cut short', tooLarge))).toBeUndefined();
    expect(temporaryUnavailability(new TypeError('a bug'))).toBeUndefined();
  });
});
