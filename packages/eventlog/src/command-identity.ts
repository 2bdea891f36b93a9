import { createHash, hash as oneShotHash } from 'node:crypto';
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
  if (!Number.isSafeInteger(nowMs) || nowMs < 0 || nowMs >= 2 ** 48) return newEventId(nowMs); // its RangeError
  // A roster makes 50,000 of these: one-shot SHA-256 and the uuid v7 written here (as the uuid
  // package's v7 writes it from these 16 bytes) instead of a Hash object and newEventId.
  return uuidV7Of(nowMs, oneShotHash('sha256', `${hash}:${index}`, 'buffer'));
}

const hex = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/**
 * uuid v7 with time `nowMs` and random bytes `r` (at least 16): the same string as
 * `newEventId(nowMs, r)`, which is the uuid package's v7 with `{ msecs, random }` (its
 * `seq` from bytes 6–9, the low bits of byte 10, bytes 11–15); a property test compares them.
 */
function uuidV7Of(nowMs: number, r: Uint8Array): string {
  const seq = ((r[6]! * 0x7f) << 24) | (r[7]! << 16) | (r[8]! << 8) | r[9]!;
  const time = nowMs.toString(16).padStart(12, '0');
  return (
    `${time.slice(0, 8)}-${time.slice(8, 12)}-` +
    `${hex[0x70 | ((seq >>> 28) & 0x0f)]}${hex[(seq >>> 20) & 0xff]}-` +
    `${hex[0x80 | ((seq >>> 14) & 0x3f)]}${hex[(seq >>> 6) & 0xff]}-` +
    `${hex[((seq << 2) & 0xff) | (r[10]! & 0x03)]}${hex[r[11]!]}${hex[r[12]!]}${hex[r[13]!]}${hex[r[14]!]}${hex[r[15]!]}`
  );
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
