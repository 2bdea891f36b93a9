import { type AnyEvent, decodeEvent, ledgerEvents, registryEvents } from '@fundtrace/events';
import type { LedgerEventInput } from '../ledger/evolve';

/**
 * The writer's rebuild decoder for its own stream. A county's cold start reads
 * about a million events; the full schema decode (@fundtrace/events'
 * `decodeEvent`) costs several times a plain JSON parse per event, which alone
 * would take minutes. The LEDGER stream is written only by ledger-api, and every
 * event was validated against its schema when it was encoded, so the rebuild
 * parses the JSON and revives money (every ledger field named `…Fen` is fen as
 * a string of digits) itself. Anything else takes the full path: an event type
 * or version this release does not write (upcasters run there), or a payload
 * that is not what the writer produces. The projector, the log-keeper and the
 * verifier always use the full decode; `evolve`'s invariants still check every
 * amount. A test checks both decoders agree on every event type.
 */

const latest = new Map<string, number>(ledgerEvents.map((d) => [d.type, d.version]));
const utf8 = new TextDecoder('utf-8', { fatal: true });
const digits = /^(0|[1-9][0-9]*)$/;

export interface RebuiltEvent {
  readonly id: string;
  readonly event: LedgerEventInput;
}

/**
 * Turns every `…Fen` string of digits into a bigint, in place: the parsed JSON
 * is this function's own, and copying a million payloads only fed the garbage
 * collector (an eighth of a cold start). Only `…Fen` keys are assigned.
 */
function revive(value: unknown): unknown {
  if (Array.isArray(value)) {
    for (const item of value) revive(item);
    return value;
  }
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const v = record[key];
    if (key.endsWith('Fen')) {
      if (typeof v !== 'string' || !digits.test(v)) throw new TypeError(`${key} is not fen digits`);
      record[key] = BigInt(v);
    } else if (typeof v === 'object' && v !== null) {
      revive(v);
    }
  }
  return record;
}

/**
 * The registry's stored events, for the household facts the ledger keeps
 * (registry-tail.ts). REGISTRY_<code> is written only by registry-api, which
 * validates every event against its schema when encoding it, and registry
 * payloads carry no codecs (no money): the wire form is the decoded form. So
 * the tail parses the JSON and takes the payload as it is; anything else (a
 * superseded version that needs its upcaster, bytes that are not JSON) takes
 * the full decode. The full schema decode of 200,000 registry events was a
 * quarter of a county's cold start.
 */
export function decodeRegistryEvent(bytes: Uint8Array): AnyEvent {
  try {
    const envelope = JSON.parse(utf8.decode(bytes)) as { type?: unknown; version?: unknown; data?: unknown };
    if (
      typeof envelope.type === 'string' &&
      latestRegistry.get(envelope.type) === envelope.version &&
      typeof envelope.data === 'object' &&
      envelope.data !== null
    ) {
      return envelope as AnyEvent;
    }
  } catch {
    // Fall through to the full decoder, which names what is wrong.
  }
  return decodeEvent(bytes);
}

const latestRegistry = new Map<string, number>();
for (const d of registryEvents)
  latestRegistry.set(d.type, Math.max(d.version, latestRegistry.get(d.type) ?? 0));

export function decodeLedgerEvent(bytes: Uint8Array): RebuiltEvent {
  try {
    const envelope = JSON.parse(utf8.decode(bytes)) as {
      id?: unknown;
      type?: unknown;
      version?: unknown;
      data?: unknown;
    };
    if (
      typeof envelope.id === 'string' &&
      typeof envelope.type === 'string' &&
      latest.get(envelope.type) === envelope.version &&
      typeof envelope.data === 'object' &&
      envelope.data !== null
    ) {
      return {
        id: envelope.id,
        event: { type: envelope.type, data: revive(envelope.data) } as LedgerEventInput,
      };
    }
  } catch {
    // Fall through to the full decoder, which names what is wrong.
  }
  const event = decodeEvent(bytes);
  return { id: event.id, event: { type: event.type, data: event.data } as LedgerEventInput };
}
