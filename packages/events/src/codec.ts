import { createHash } from 'node:crypto';
import { z } from 'zod';
import { canonicalBytes, parseCanonical } from './canonical';
import { type AnyEvent, type Catalog, catalog } from './catalog';
import type { EventDefinition } from './define';
import {
  acceptedWireEnvelope,
  type EventEnvelope,
  toWire,
  type WireEnvelope,
  wireEnvelopeSchema,
} from './envelope';
import {
  EventDecodeError,
  EventSchemaError,
  EventTooLargeError,
  flattenIssues,
  type SchemaIssue,
} from './errors';
import { payloadDecoder } from './payload-decoder';
import { type EntityRef, entitySubject } from './subjects';

/**
 * Largest encoded event. NATS refuses messages above the server's max_payload
 * (1 MiB by default, headers included); half of it leaves room for headers and
 * keeps one event from dominating a consumer batch. A roster is many events,
 * not one big one, so no honest event comes near.
 */
export const eventBytesMax = 512 * 1024;

export interface EncodeOptions {
  /**
   * Allow a superseded version. Writers always write the latest version; old
   * shapes are only encoded by tests and migration tooling.
   */
  readonly allowSuperseded?: boolean;
}

/** A decoded event with its payload as the bytes hold it (see `decodeStoredEvent`). */
export interface StoredEventDecoded {
  readonly event: AnyEvent;
  /**
   * The payload exactly as stored: parsed from the canonical bytes, at the version written, before
   * upcasting and before the codecs turned money into bigints. Never mutated by the decoding.
   */
  readonly wireData: unknown;
}

export interface EventCodec {
  encodeEvent(event: EventEnvelope | AnyEvent, options?: EncodeOptions): Uint8Array;
  decodeEvent(bytes: Uint8Array): AnyEvent;
  decodeStoredEvent(bytes: Uint8Array): StoredEventDecoded;
  subjectFor(target: EventEnvelope | AnyEvent | EntityRef, ns?: string): string;
}

/** Thrown when an upcaster returns something its target schema refuses: a bug in the upcaster, not in the bytes. */
export class UpcastError extends Error {
  override readonly name = 'UpcastError';
  constructor(
    readonly type: string,
    readonly fromVersion: number,
    readonly issues: readonly SchemaIssue[],
  ) {
    super(
      `upcaster ${type} v${fromVersion}→v${fromVersion + 1} produced an invalid payload: ${issues
        .slice(0, 3)
        .map((issue) => `${issue.path}: ${issue.message}`)
        .join('; ')}`,
    );
  }
}

/**
 * `z.safeDecode(definition.data, data)`: the compiled decoder's answer when it vouches for the
 * payload, zod's otherwise (so every refusal has zod's issues).
 */
function decodePayload(definition: EventDefinition, data: unknown) {
  const fast = payloadDecoder(definition)(data);
  return fast === undefined
    ? z.safeDecode(definition.data, data)
    : ({ success: true, data: fast.value } as const);
}

/** Encoding and decoding against one catalogue (the product's, or a test's). */
export function eventCodec(events: Catalog): EventCodec {
  function definitionFor(event: EventEnvelope, options: EncodeOptions): EventDefinition {
    const definition = events.definition(event.type, event.version);
    if (definition === undefined) {
      throw new EventSchemaError(event.type, event.version, [
        { path: '/type', message: `${event.type} v${event.version} is not in the catalogue`, code: 'custom' },
      ]);
    }
    const latest = events.latest(event.type)!;
    if (latest.version !== definition.version && options.allowSuperseded !== true) {
      throw new EventSchemaError(event.type, event.version, [
        {
          path: '/version',
          message: `v${event.version} is superseded by v${latest.version}; new events are written at the latest version`,
          code: 'custom',
        },
      ]);
    }
    return definition;
  }

  function encodeEvent(event: EventEnvelope | AnyEvent, options: EncodeOptions = {}): Uint8Array {
    const envelope = event as EventEnvelope;
    const wire = toWire(definitionFor(envelope, options), envelope);
    const bytes = canonicalBytes(wire);
    if (bytes.length > eventBytesMax) {
      throw new EventTooLargeError(envelope.type, envelope.version, bytes.length, eventBytesMax);
    }
    return bytes;
  }

  function decodeEvent(bytes: Uint8Array): AnyEvent {
    return decodeStoredEvent(bytes).event;
  }

  function decodeStoredEvent(bytes: Uint8Array): StoredEventDecoded {
    const parsed = parseCanonical(bytes);
    if (!parsed.ok) throw new EventDecodeError('malformed_json', parsed.problem);
    const envelope = acceptedWireEnvelope(parsed.value) ?? wireEnvelopeOrThrow(parsed.value);
    const { type, version } = envelope;
    let definition = events.definition(type, version);
    if (definition === undefined) {
      const latest = events.latest(type);
      throw new EventDecodeError(
        'unknown_type',
        latest === undefined
          ? `event type ${type} is not in the catalogue`
          : `${type} v${version} is not in the catalogue (latest known is v${latest.version}; written by a newer release?)`,
      );
    }
    const latest = events.latest(type)!;
    let data: unknown = envelope.data;
    let decoded = decodePayload(definition, data);
    if (!decoded.success) {
      throw new EventDecodeError(
        'schema_mismatch',
        `${type} v${version} payload`,
        flattenIssues(decoded.error.issues, '/data'),
      );
    }
    while (definition.version < latest.version) {
      const from: number = definition.version;
      data = events.upcaster(type, from)!.up(data);
      definition = events.definition(type, from + 1)!;
      decoded = decodePayload(definition, data);
      if (!decoded.success) throw new UpcastError(type, from, flattenIssues(decoded.error.issues, '/data'));
    }
    // The envelope's fields in its order, the decoded payload in place of the wire one and
    // causationId last when there is one (built in one literal: a rest-and-spread copy cost more).
    const fields = {
      id: envelope.id,
      type,
      version: definition.version,
      partition: envelope.partition,
      occurredAt: envelope.occurredAt,
      recordedAt: envelope.recordedAt,
      actor: envelope.actor,
      commandId: envelope.commandId,
      correlationId: envelope.correlationId,
      data: decoded.data,
    };
    const { causationId } = envelope;
    const event = (causationId === undefined ? fields : { ...fields, causationId }) as AnyEvent;
    // zod builds new objects and upcasters are pure, so the parsed payload is still the stored one.
    return { event, wireData: (parsed.value as { readonly data: unknown }).data };
  }

  function wireEnvelopeOrThrow(value: unknown): WireEnvelope {
    const envelope = wireEnvelopeSchema.safeParse(value);
    if (!envelope.success) {
      throw new EventDecodeError('schema_mismatch', 'envelope', flattenIssues(envelope.error.issues));
    }
    return envelope.data;
  }

  function subjectFor(target: EventEnvelope | AnyEvent | EntityRef, ns = ''): string {
    if ('context' in target) return entitySubject(target, ns);
    const event = target as EventEnvelope;
    const definition = events.definition(event.type, event.version);
    if (definition === undefined)
      throw new RangeError(`${event.type} v${event.version} is not in the catalogue`);
    return entitySubject(
      {
        context: definition.context,
        partition: event.partition,
        entity: definition.entity,
        id: definition.entityId(event.data),
      },
      ns,
    );
  }

  return { encodeEvent, decodeEvent, decodeStoredEvent, subjectFor };
}

const productCodec = eventCodec(catalog);

/**
 * The canonical bytes of `event` (docs/decisions/0001): validated against its
 * schema first (money encoded by the codecs), so an invalid event is never
 * encoded. Throws `EventSchemaError`, `EventTooLargeError`.
 */
export const encodeEvent: EventCodec['encodeEvent'] = productCodec.encodeEvent;

/**
 * Reads canonical bytes back into a typed event at its latest version
 * (upcasting older versions). Throws `EventDecodeError` with reason
 * `malformed_json`, `unknown_type` or `schema_mismatch`.
 */
export const decodeEvent: EventCodec['decodeEvent'] = productCodec.decodeEvent;

/**
 * `decodeEvent` that also answers the payload as stored (wire form, before upcasting): for a reader
 * that keeps the stored payload (the projector's `events.data`) without parsing the bytes twice.
 */
export const decodeStoredEvent: EventCodec['decodeStoredEvent'] = productCodec.decodeStoredEvent;

/** `ledger.411325.allocation.<id>` (with `<ns>.` in front when given) for an event or an entity reference. */
export const subjectFor: EventCodec['subjectFor'] = productCodec.subjectFor;

/**
 * RFC 6962 leaf hash: SHA-256(0x00 ‖ bytes). The 0x00 prefix (0x01 for
 * interior nodes) keeps a leaf from ever being passed off as a node. The
 * projector stores it; the log-keeper builds the Merkle tree from it.
 */
export function leafHash(bytes: Uint8Array): Uint8Array {
  const hash = createHash('sha256');
  hash.update(leafPrefix);
  hash.update(bytes);
  return new Uint8Array(hash.digest());
}

const leafPrefix = new Uint8Array([0x00]);
