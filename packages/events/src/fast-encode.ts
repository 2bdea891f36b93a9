import { z } from 'zod';
import { canonicalDepthMax, canonicalJson, canonicalJsonAtDepth, hasLoneSurrogate } from './canonical';
import { type Catalog, catalog } from './catalog';
import { encodeEvent, eventBytesMax, eventCodec } from './codec';
import type { EventDefinition } from './define';
import {
  type EventEnvelope,
  eventIdSchema,
  eventsPerCommandMax,
  messageId,
  wireEnvelopeSchema,
  withoutUndefined,
} from './envelope';
import { entityIdSchema, entitySubject } from './subjects';
import { checksOf, type Node, nativeLeaf, rewrites } from './zod-leaves';

/**
 * A validated fast path to the canonical bytes of many events that share one
 * envelope head: a roster's RosterSubmitted and its 50,000 PaymentInstructed,
 * all from one command, actor and instant.
 *
 * `encodeEvent` walks the whole zod schema per event (`z.encode`, then the
 * envelope's strict parse, then a generic canonical writer that sorts keys),
 * about 30–120 µs an event, most of a roster's CPU. Here:
 *
 * - the head (partition, times, actor, command and correlation ids) is checked
 *   once per batch by the envelope schema itself and rendered once;
 * - each payload schema is compiled once into a writer: objects, arrays,
 *   nullable and optional are walked by compiled code that writes keys in their
 *   canonical (sorted) order straight into the output text; every leaf (a string
 *   with its regex and length checks, a number, an enum, the fen codec …) is
 *   still run by zod's own `_zod.run` for that leaf, so the rules are zod's, not
 *   a re-implementation;
 * - anything this compiler does not model (unions, records, lazy, defaults,
 *   object refinements, overwrite checks) is delegated whole to zod's encode and
 *   the generic canonical writer, at its own depth.
 *
 * Equivalence with `encodeEvent` is the contract: when the fast path produces
 * bytes they are byte-for-byte `encodeEvent`'s (test/fast-encode.test.ts proves it
 * over random valid events); when anything is off — a leaf refuses, a number has
 * no canonical form, the event is too large, the version is superseded — it
 * hands the event to `encodeEvent`, which throws the same named error it always
 * did (`EventSchemaError`, `EventTooLargeError`, `CanonicalEncodingError`).
 * Invalid events are never encoded.
 */

/** The envelope fields every event of one command shares. */
export type EventHead = Omit<EventEnvelope, 'id' | 'type' | 'version' | 'data' | 'causationId'> & {
  readonly causationId?: string | undefined;
};

/** What varies between the events of one command. */
export type BatchEvent = Pick<EventEnvelope, 'id' | 'type' | 'version' | 'data'>;

export interface EventBatchEncoder {
  /** `encodeEvent({ ...head, ...event })`, byte for byte; throws what it throws. */
  encode(event: BatchEvent): Uint8Array;
  /** `subjectFor({ ...head, ...event }, ns)`. */
  subject(event: BatchEvent, ns?: string): string;
  /** `messageId(head.commandId, index)`. */
  messageId(index: number): string;
}

// ── The payload compiler ──

/** Thrown inside a compiled writer when the fast path cannot vouch for a value; never escapes. */
const NotFast = { signal: Symbol('not fast') } as const;

/** Writes the canonical text of a value already known to be at `depth`; `undefined` = omit the key. */
type Writer = (value: unknown) => string | undefined;

// Not frozen: zod may annotate the context it is given.
const forward = { async: false };
const backward = { async: false, direction: 'backward' };

/** Leaves whose encode is their parse: no transform, so zod's forward run decides them exactly. */
const plainLeaves = new Set(['string', 'number', 'bigint', 'boolean', 'enum', 'literal', 'null']);

/** The canonical spelling of a leaf's wire value, as canonical.ts writes it, or NotFast. */
function writeLeaf(value: unknown, depth: number, plain: boolean): string {
  if (typeof value === 'string') {
    if (hasLoneSurrogate(value)) throw NotFast.signal;
    return JSON.stringify(value);
  }
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || Object.is(value, -0)) throw NotFast.signal;
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value === null) return 'null';
  try {
    return canonicalJsonAtDepth(plain ? value : withoutUndefined(value), depth);
  } catch {
    throw NotFast.signal;
  }
}

/** Any node, run by zod in the encode direction; its output written canonically at `depth`. */
function delegate(node: Node, depth: number, plain = false): Writer {
  const native = nativeLeaf(node);
  if (native !== undefined) {
    return remembered((value) => {
      if (!native(value)) throw NotFast.signal;
      return writeLeaf(value, depth, plain);
    });
  }
  const ctx = isPlainLeaf(node) ? forward : backward;
  return remembered((value) => {
    const result = node._zod.run({ value, issues: [] }, ctx) as { value: unknown; issues: unknown[] };
    if (result instanceof Promise || result.issues.length > 0) throw NotFast.signal;
    return result.value === undefined ? undefined : writeLeaf(result.value, depth, plain);
  });
}

/**
 * Remembers the last primitive a leaf accepted and its text. A roster's events
 * repeat most values (programme, period, account, notice, amount); zod's checks
 * are pure functions of the value, so the same primitive gets the same verdict.
 * Objects are never remembered (they could have changed since).
 */
function remembered(write: Writer): Writer {
  let lastValue: unknown;
  let lastText: string | undefined;
  let has = false;
  return (value) => {
    // Object.is, not ===: -0 must not pass as the 0 seen before (it has no canonical form).
    if (has && Object.is(value, lastValue)) return lastText;
    const text = write(value);
    const kind = typeof value;
    if (kind === 'string' || kind === 'number' || kind === 'bigint' || kind === 'boolean') {
      lastValue = value;
      lastText = text;
      has = true;
    }
    return text;
  };
}

function compile(node: Node, depth: number, plain: boolean): Writer {
  const def = node._zod.def;
  switch (def.type) {
    case 'nullable': {
      const inner = compile(def.innerType as Node, depth, plain);
      return (value) => (value === null ? 'null' : inner(value));
    }
    case 'optional': {
      const innerNode = def.innerType as Node & { _zod: { optin?: string } };
      // optional(default(…)) and friends decide undefined themselves: zod's job.
      if (innerNode._zod.optin === 'optional') return delegate(node, depth, plain);
      const inner = compile(innerNode, depth, plain);
      return (value) => (value === undefined ? undefined : inner(value));
    }
    case 'default':
      // zod's encode runs a default's inner schema alone: the default fills in only when decoding.
      return checksOf(node).length > 0
        ? delegate(node, depth, plain)
        : compile(def.innerType as Node, depth, plain);
    case 'pipe':
      return compileCodec(node, depth, plain);
    case 'array':
      return compileArray(node, depth, plain);
    case 'object':
      return compileObject(node, depth, plain);
    default:
      return delegate(node, depth, plain);
  }
}

/** A leaf zod runs in the forward direction (which, for a leaf without a transform, decides exactly as encode does). */
function isPlainLeaf(node: Node): boolean {
  return plainLeaves.has(node._zod.def.type) && !rewrites(node);
}

/**
 * A codec between two plain leaves (the fen codecs: bigint ⇄ string of digits),
 * run as zod's encode runs it — the code side's checks, the reverse transform,
 * the wire side's checks — without the second, check-free pass zod's backward
 * direction makes over each side (a third of the cost of a payment's encode).
 */
function compileCodec(node: Node, depth: number, plain: boolean): Writer {
  const def = node._zod.def as Node['_zod']['def'] & {
    in: Node;
    out: Node;
    reverseTransform?: (value: unknown, payload: { value: unknown; issues: unknown[] }) => unknown;
  };
  const reverse = def.reverseTransform;
  if (reverse === undefined || !isPlainLeaf(def.in) || !isPlainLeaf(def.out))
    return delegate(node, depth, plain);
  const codeSide = def.out._zod;
  const wireSide = def.in._zod;
  const nativeCode = nativeLeaf(def.out);
  return remembered((value) => {
    const code = nativeCode?.(value)
      ? { value, issues: [] as unknown[] }
      : (codeSide.run({ value, issues: [] }, forward) as { value: unknown; issues: unknown[] });
    if (code instanceof Promise || code.issues.length > 0) throw NotFast.signal;
    const wire = reverse(code.value, code);
    if (wire instanceof Promise || code.issues.length > 0) throw NotFast.signal;
    const checked = wireSide.run({ value: wire, issues: [] }, forward) as {
      value: unknown;
      issues: unknown[];
    };
    if (checked instanceof Promise || checked.issues.length > 0) throw NotFast.signal;
    return writeLeaf(checked.value, depth, plain);
  });
}

function compileArray(node: Node, depth: number, plain: boolean): Writer {
  if (depth >= canonicalDepthMax || rewrites(node)) return delegate(node, depth, plain);
  const element = compile(node._zod.def.element as Node, depth + 1, plain);
  // Length checks run on the input array, as zod's encode runs them (before parsing the elements).
  const checks = checksOf(node);
  const payload: { value: unknown; issues: unknown[] } = { value: undefined, issues: [] };
  return (value) => {
    if (!Array.isArray(value)) throw NotFast.signal;
    if (checks.length > 0) {
      payload.value = value;
      payload.issues.length = 0;
      for (const check of checks) {
        const when = check._zod.def.when as ((p: unknown) => boolean) | undefined;
        if (when !== undefined && !when(payload)) continue;
        (check._zod as unknown as { check(p: unknown): unknown }).check(payload);
        if (payload.issues.length > 0) throw NotFast.signal;
      }
      payload.value = undefined;
    }
    let text = '[';
    for (let index = 0; index < value.length; index++) {
      if (index > 0) text += ',';
      const item = element(value[index]);
      // An optional element that is absent has no JSON form in an array.
      if (item === undefined) throw NotFast.signal;
      text += item;
    }
    return `${text}]`;
  };
}

function compileObject(node: Node, depth: number, plain: boolean): Writer {
  const def = node._zod.def;
  // Object-level refinements run on the code-side value in zod's encode: leave them to zod.
  if (depth >= canonicalDepthMax || checksOf(node).length > 0) return delegate(node, depth, plain);
  const catchall = def.catchall as Node | undefined;
  const strict = catchall !== undefined && catchall._zod.def.type === 'never';
  if (catchall !== undefined && !strict) return delegate(node, depth, plain);
  const shape = def.shape as Record<string, Node>;
  // Default sort = UTF-16 code units, as RFC 8785 and canonical.ts order keys.
  const keys = Object.keys(shape).sort();
  // canonical.ts refuses such a key; so does this path, by leaving it to the full one.
  if (keys.some(hasLoneSurrogate)) return delegate(node, depth, plain);
  const known = new Set(keys);
  const fields = keys.map((key) => ({
    key,
    prefix: `${JSON.stringify(key)}:`,
    write: compile(shape[key]!, depth + 1, plain),
  }));
  return (value) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw NotFast.signal;
    const record = value as Record<string, unknown>;
    if (strict) for (const key in record) if (!known.has(key)) throw NotFast.signal;
    let text = '{';
    let first = true;
    for (const field of fields) {
      const item = field.write(record[field.key]);
      if (item === undefined) {
        // An event's payload leaves such keys out (toWire); plain canonical JSON refuses undefined.
        if (plain && field.key in record) throw NotFast.signal;
        continue;
      }
      text += first ? field.prefix : `,${field.prefix}`;
      text += item;
      first = false;
    }
    return `${text}}`;
  };
}

// ── Per catalogue: compiled payload writers and subject parts ──

interface CompiledType {
  readonly definition: EventDefinition;
  /** null: the payload is not an object schema; every event of this type takes the full path. */
  readonly data: Writer | null;
}

const compiledByCatalog = new WeakMap<Catalog, Map<string, CompiledType>>();

function compiledFor(events: Catalog, definition: EventDefinition): CompiledType {
  let compiled = compiledByCatalog.get(events);
  if (compiled === undefined) {
    compiled = new Map();
    compiledByCatalog.set(events, compiled);
  }
  const key = `${definition.type}@${definition.version}`;
  let entry = compiled.get(key);
  if (entry === undefined) {
    const root = definition.data as unknown as Node;
    // The envelope holds data at depth 1.
    entry = { definition, data: root._zod.def.type === 'object' ? compileObject(root, 1, false) : null };
    compiled.set(key, entry);
  }
  return entry;
}

const idWriter = delegate(eventIdSchema as unknown as Node, 1);
const entityIdWriter = delegate(entityIdSchema as unknown as Node, 0);
const utf8 = new TextEncoder();

/** A valid event id for rendering the head; never written into an event. */
const sampleId = '00000000-0000-7000-8000-000000000000';

/**
 * An encoder for the events of one command. The head is checked here, once;
 * each event then costs one compiled payload walk. `events` is the catalogue
 * (the product's by default; tests pass their own).
 */
export function eventBatchEncoder(head: EventHead, events: Catalog = catalog): EventBatchEncoder {
  const encodeFull = events === catalog ? encodeEvent : eventCodec(events).encodeEvent;
  const full = (event: BatchEvent) => ({ ...head, ...event }) as EventEnvelope;
  const { causationId, ...rest } = head;
  const headFields = { ...rest, ...(causationId === undefined ? {} : { causationId }) };
  const parsedHead = wireEnvelopeSchema.safeParse({
    ...headFields,
    id: sampleId,
    type: 'X',
    version: 1,
    data: {},
  });
  // Rendered head per (type, version): the canonical text before data, between data and id, after id.
  const templates = new Map<string, { before: string; between: string; after: string; type: CompiledType }>();
  const template = (event: BatchEvent) => {
    const key = `${event.type}@${event.version}`;
    let found = templates.get(key);
    if (found === undefined) {
      const definition = events.definition(event.type, event.version);
      const latest = events.latest(event.type);
      // Unknown or superseded: encodeEvent refuses it with its own message.
      if (definition === undefined || latest !== definition || !parsedHead.success) return undefined;
      const wire: Record<string, unknown> = { ...parsedHead.data, type: event.type, version: event.version };
      // Sorted keys with two holes: 'data' sorts before 'id', so the text is
      // before + data + between + id + after.
      const pieces: string[] = [];
      let text = '{';
      Object.keys({ ...wire, data: 0, id: 0 })
        .sort()
        .forEach((name, index) => {
          text += `${index > 0 ? ',' : ''}${JSON.stringify(name)}:`;
          if (name === 'data' || name === 'id') {
            pieces.push(text);
            text = '';
          } else {
            text += canonicalJsonAtDepth(wire[name], 1);
          }
        });
      const [before, between] = pieces as [string, string];
      found = { before, between, after: `${text}}`, type: compiledFor(events, definition) };
      templates.set(key, found);
    }
    return found;
  };

  function encode(event: BatchEvent): Uint8Array {
    const parts = template(event);
    if (parts !== undefined && parts.type.data !== null) {
      try {
        const data = parts.type.data(event.data);
        const id = idWriter(event.id);
        if (data !== undefined && id !== undefined) {
          const bytes = utf8.encode(`${parts.before}${data}${parts.between}${id}${parts.after}`);
          if (bytes.length <= eventBytesMax) return bytes;
        }
      } catch (error) {
        if (error !== NotFast.signal) throw error;
      }
    }
    // The full path names what is wrong (or, for an event the fast path merely
    // could not vouch for, encodes it: still the same bytes).
    return encodeFull(full(event));
  }

  const subjectPrefixes = new Map<string, string>();
  function subject(event: BatchEvent, ns = ''): string {
    const definition = events.definition(event.type, event.version);
    if (definition === undefined)
      throw new RangeError(`${event.type} v${event.version} is not in the catalogue`);
    const id = definition.entityId(event.data);
    const key = `${definition.context}.${definition.entity}@${ns}`;
    let prefix = subjectPrefixes.get(key);
    if (prefix === undefined) {
      const sample = entitySubject(
        { context: definition.context, partition: head.partition, entity: definition.entity, id: 'x' },
        ns,
      );
      prefix = sample.slice(0, -1);
      subjectPrefixes.set(key, prefix);
    }
    try {
      if (typeof id === 'string' && entityIdWriter(id) !== undefined) return prefix + id;
    } catch (error) {
      if (error !== NotFast.signal) throw error;
    }
    // Names the problem with the id.
    return entitySubject(
      { context: definition.context, partition: head.partition, entity: definition.entity, id },
      ns,
    );
  }

  // The command id is checked once (messageId refuses a bad one); then only the index varies.
  let messagePrefix: string | undefined;
  function batchMessageId(index: number): string {
    if (
      messagePrefix === undefined ||
      !Number.isSafeInteger(index) ||
      index < 0 ||
      index >= eventsPerCommandMax
    ) {
      const id = messageId(head.commandId, index);
      messagePrefix = id.slice(0, id.lastIndexOf(':') + 1);
      return id;
    }
    return `${messagePrefix}${index}`;
  }

  return { encode, subject, messageId: batchMessageId };
}

const canonicalWriters = new WeakMap<object, (value: unknown) => string>();

/**
 * `canonicalJson(z.encode(schema, value))` through the same compiled writer:
 * for hashing a large command (a 50,000-row roster's content hash took two
 * seconds of zod encode and generic canonical writing). The same text, or the
 * same error: anything the fast path cannot vouch for takes the full path.
 */
export function canonicalEncoder(schema: z.ZodType): (value: unknown) => string {
  let writer = canonicalWriters.get(schema);
  if (writer === undefined) {
    const compiled = compile(schema as unknown as Node, 0, true);
    writer = (value) => {
      try {
        const text = compiled(value);
        if (text !== undefined) return text;
      } catch (error) {
        if (error !== NotFast.signal) throw error;
      }
      return canonicalJson(z.encode(schema, value as never));
    };
    canonicalWriters.set(schema, writer);
  }
  return writer;
}
