import { createHash } from 'node:crypto';
import { canonicalJson, canonicalJsonAtDepth, newEventId } from '@fundtrace/events';

/**
 * How a single writer recognises "the same command again" without a side table
 * (docs/decisions/0011, first used by ledger-api; factored here so every writer
 * shares one implementation): the content hash is SHA-256 over the canonical
 * JSON of what the client sent, and it is folded into the ids of the events the
 * command produced — each event id is a uuid v7 whose random bits are taken from
 * SHA-256(content hash ‖ index). After a restart the first event of a command
 * still commits to its content, so a repeat with other content is detected.
 */
export function commandHash(
  partition: string,
  type: string,
  wireData: unknown,
  occurredAt: string | null,
): string {
  return commandHashOfCanonicalData(partition, type, canonicalJsonAtDepth(wireData, 1), occurredAt);
}

/**
 * `commandHash` given the canonical JSON text of the wire data instead of the
 * data: a large command (a 50,000-row roster) has its text written by a
 * compiled encoder (`canonicalEncoder` of @fundtrace/events) in a fraction of
 * the time. The hashed text is `canonicalJson({ partition, type, data,
 * occurredAt })`, whose keys sort as data, occurredAt, partition, type.
 */
export function commandHashOfCanonicalData(
  partition: string,
  type: string,
  canonicalData: string,
  occurredAt: string | null,
): string {
  const rest = `"occurredAt":${canonicalJson(occurredAt)},"partition":${canonicalJson(partition)},"type":${canonicalJson(type)}`;
  return createHash('sha256').update(`{"data":${canonicalData},${rest}}`).digest('hex');
}

/** The id of the `index`-th event of a command with this content hash, recorded at `nowMs`. */
export function eventIdFor(nowMs: number, hash: string, index: number): string {
  const random = createHash('sha256').update(`${hash}:${index}`).digest().subarray(0, 16);
  return newEventId(nowMs, random);
}

/** The uuid v7 timestamp (first 48 bits) of an event id. */
export function eventIdTimeMs(eventId: string): number {
  return Number.parseInt(eventId.replaceAll('-', '').slice(0, 12), 16);
}

/** True when `firstEventId` (index 0 of a stored command) was produced from content `hash`. */
export function firstEventMatches(firstEventId: string, hash: string): boolean {
  return eventIdFor(eventIdTimeMs(firstEventId), hash, 0) === firstEventId;
}

/** `<commandId>:<index>` back into its parts; the command id may itself contain colons. */
export function parseMessageId(msgId: string): { commandId: string; index: number } | null {
  const at = msgId.lastIndexOf(':');
  if (at <= 0) return null;
  const digits = msgId.slice(at + 1);
  // Digits only: Number('') is 0, so "cmd:" would otherwise read as index 0.
  if (!/^\d{1,15}$/.test(digits)) return null;
  const index = Number(digits);
  return { commandId: msgId.slice(0, at), index };
}

/**
 * One command at a time per stream: a writer decides against the state the append then extends,
 * so two commands must never interleave between deciding and appending. A promise chain is enough:
 * JavaScript runs one callback at a time and the chain orders the async steps. (ledger-api and
 * registry-api each grew their own copy; new writers use this one.)
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
