import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import { adminCodeSchema, isAdminCode } from './admin-codes';
import type { EventDefinition } from './define';
import { EventSchemaError, flattenIssues } from './errors';
import { isRfc3339, isUtcTimestamp, rfc3339Schema, utcTimestampSchema } from './time';

/** Who acts: the JWT roles, plus `system` (rules, schedulers) and `public` (the notice board's objection form). */
export const actorRoles = ['finance', 'registry', 'inspector', 'system', 'public'] as const;
export type ActorRole = (typeof actorRoles)[number];

/** Longest client-chosen id (command, correlation, causation): room for a uuid plus a prefix, far below header limits. */
export const clientIdCharsMax = 128;
/** Longest user id: a JWT `sub` or a system component name. */
export const userIdCharsMax = 128;
/** Longest organisation name: full Chinese names of bureaus (e.g. 内乡县财政局) are well under 100 characters. */
export const orgCharsMax = 200;
/** Highest event version: a type revised more often than this has a design problem, and the type-level "latest version" arithmetic stays cheap. */
export const eventVersionMax = 99;
/** Longest event type name (PascalCase, e.g. `HouseholdBankAccountBound`). */
export const eventTypeCharsMax = 64;

const clientIdPattern = /^[A-Za-z0-9._:-]+$/;

/** Command, correlation and causation ids: 1–128 characters of [A-Za-z0-9._:-], safe in headers and subjects' neighbours. */
export const clientIdSchema = z
  .string()
  .min(1, 'id must not be empty')
  .max(clientIdCharsMax, `id must be at most ${clientIdCharsMax} characters`)
  .regex(clientIdPattern, 'id may only contain A-Z a-z 0-9 . _ : -');

const eventIdPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A uuid v7 in lower case, as `uuid`'s v7() prints it: one spelling per id. */
export const eventIdSchema = z.string().regex(eventIdPattern, 'event id must be a lower-case uuid v7');

const eventTypePattern = /^[A-Z][A-Za-z0-9]*$/;

export const eventTypeSchema = z
  .string()
  .max(eventTypeCharsMax)
  .regex(eventTypePattern, 'event type must be PascalCase letters and digits (e.g. AllocationIssued)');

export const eventVersionSchema = z.int().min(1).max(eventVersionMax);

const noControlCharacters = /^[^\p{Cc}]*$/u;

/** Display text for people and organisations: non-blank, no control characters, no padding. */
function nameSchema(charsMax: number) {
  return z
    .string()
    .min(1, 'must not be empty')
    .max(charsMax, `must be at most ${charsMax} characters`)
    .regex(noControlCharacters, 'must not contain control characters')
    .refine((text) => text.trim() === text && text.trim() !== '', 'must not be blank or padded with spaces');
}

export const actorSchema = z.strictObject({
  userId: nameSchema(userIdCharsMax),
  role: z.enum(actorRoles),
  org: nameSchema(orgCharsMax),
});
export type Actor = z.output<typeof actorSchema>;

/**
 * The envelope as stored, with the payload still in wire form. Strict: a key
 * the schema does not know would be dropped on decode, so the event read back
 * would not be the event that was hashed.
 */
export const wireEnvelopeSchema = z.strictObject({
  id: eventIdSchema,
  type: eventTypeSchema,
  version: eventVersionSchema,
  partition: adminCodeSchema,
  occurredAt: rfc3339Schema,
  recordedAt: utcTimestampSchema,
  actor: actorSchema,
  commandId: clientIdSchema,
  correlationId: clientIdSchema,
  causationId: clientIdSchema.optional(),
  // Every payload is a JSON object, so that it can grow fields in later versions.
  data: z.record(z.string(), z.unknown()),
});
export type WireEnvelope = z.output<typeof wireEnvelopeSchema>;

/** The keys of `wireEnvelopeSchema` and of `actorSchema`, as `acceptedWireEnvelope` knows them. */
export const wireEnvelopeKeys = Object.freeze([
  'id',
  'type',
  'version',
  'partition',
  'occurredAt',
  'recordedAt',
  'actor',
  'commandId',
  'correlationId',
  'causationId',
  'data',
] as const);
export const actorKeys = Object.freeze(['userId', 'role', 'org'] as const);

const actorRoleSet: ReadonlySet<string> = new Set(actorRoles);

function isClientId(value: unknown): boolean {
  return (
    typeof value === 'string' &&
    value.length >= 1 &&
    value.length <= clientIdCharsMax &&
    clientIdPattern.test(value)
  );
}

function isName(value: unknown, charsMax: number): boolean {
  return (
    typeof value === 'string' &&
    value.length >= 1 &&
    value.length <= charsMax &&
    noControlCharacters.test(value) &&
    value.trim() === value
  );
}

/** A JSON value that is an object (zod's isObject): not null, not an array. */
function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Own keys of `record` all among `known` (at most `known.length` of them): what a strict object allows. */
function onlyKnownKeys(record: Record<string, unknown>, known: readonly string[]): boolean {
  const keys = Object.keys(record);
  if (keys.length > known.length) return false;
  for (const key of keys) if (!known.includes(key)) return false;
  return true;
}

/**
 * What `wireEnvelopeSchema.safeParse(value)` answers for an envelope it accepts, or undefined when
 * this cannot vouch for `value` (then the schema decides, and names any problem). Every stored event
 * is read through here: the same checks as the schema's, without zod's per-field runs, issue arrays
 * and copies. Each test is the schema's own (its patterns, limits and checking functions), and the
 * answer is built as zod builds it (keys in schema order, `actor` and `data` copied).
 * test/decode-equivalence.test.ts holds the two to the same verdict and answer.
 */
export function acceptedWireEnvelope(value: unknown): WireEnvelope | undefined {
  if (!isObject(value) || !onlyKnownKeys(value, wireEnvelopeKeys)) return undefined;
  const { id, type, version, partition, occurredAt, recordedAt, actor, commandId, correlationId } = value;
  const { causationId, data } = value;
  if (typeof id !== 'string' || !eventIdPattern.test(id)) return undefined;
  if (typeof type !== 'string' || type.length > eventTypeCharsMax || !eventTypePattern.test(type))
    return undefined;
  if (!Number.isSafeInteger(version) || (version as number) < 1 || (version as number) > eventVersionMax)
    return undefined;
  if (typeof partition !== 'string' || !isAdminCode(partition)) return undefined;
  if (typeof occurredAt !== 'string' || !isRfc3339(occurredAt)) return undefined;
  if (typeof recordedAt !== 'string' || !isUtcTimestamp(recordedAt)) return undefined;
  if (!isObject(actor) || !onlyKnownKeys(actor, actorKeys)) return undefined;
  const { userId, role, org } = actor;
  if (!isName(userId, userIdCharsMax) || !isName(org, orgCharsMax)) return undefined;
  if (typeof role !== 'string' || !actorRoleSet.has(role)) return undefined;
  if (!isClientId(commandId) || !isClientId(correlationId)) return undefined;
  if (causationId !== undefined && !isClientId(causationId)) return undefined;
  // z.record copies own keys but `__proto__`; an own `constructor` can make it refuse the object.
  if (!isObject(data) || Object.hasOwn(data, '__proto__') || Object.hasOwn(data, 'constructor'))
    return undefined;
  const envelope = {
    id,
    type,
    version: version as number,
    partition,
    occurredAt,
    recordedAt,
    actor: { userId: userId as string, role: role as ActorRole, org: org as string },
    commandId: commandId as string,
    correlationId: correlationId as string,
    ...(causationId === undefined ? {} : { causationId: causationId as string }),
    data: { ...data },
  };
  return envelope;
}

/** An event as the code sees it: envelope plus decoded payload (money as bigint). */
export interface EventEnvelope<
  TType extends string = string,
  TVersion extends number = number,
  TData = unknown,
> {
  readonly id: string;
  readonly type: TType;
  readonly version: TVersion;
  /** Administrative code of the books (partition) this event belongs to. */
  readonly partition: string;
  /** Business time; RFC 3339 with offset; may be back-dated (补发). */
  readonly occurredAt: string;
  /** When the writer recorded it; UTC, `toISOString()` form. */
  readonly recordedAt: string;
  readonly actor: Actor;
  /** Client-generated id of the command that produced this event (idempotency key). */
  readonly commandId: string;
  /** Ties together every event of one business flow (an import, a roster, a trace). */
  readonly correlationId: string;
  /** The event or command id that directly caused this one, when it is not the command itself. */
  readonly causationId?: string;
  readonly data: TData;
}

export interface CreateEventInput<TData> {
  readonly id: string;
  readonly partition: string;
  readonly data: TData;
  readonly actor: Actor;
  readonly commandId: string;
  readonly correlationId: string;
  readonly causationId?: string | undefined;
  readonly occurredAt: string;
  readonly recordedAt: string;
}

/** The envelope of `event` with `data` replaced by its wire form (money as digit strings); throws `EventSchemaError`. */
export function toWire(definition: EventDefinition, event: EventEnvelope): WireEnvelope {
  if (event.type !== definition.type || event.version !== definition.version) {
    throw new EventSchemaError(event.type, event.version, [
      {
        path: '/type',
        message: `event is ${event.type} v${event.version} but was given the definition of ${definition.type} v${definition.version}`,
        code: 'custom',
      },
    ]);
  }
  const data = z.safeEncode(definition.data, event.data);
  const { causationId, data: _decoded, ...fields } = event;
  const envelope = wireEnvelopeSchema.safeParse({
    ...fields,
    ...(causationId === undefined ? {} : { causationId }),
    data: data.success ? withoutUndefined(data.data) : {},
  });
  const issues = [
    ...(envelope.success ? [] : flattenIssues(envelope.error.issues)),
    ...(data.success ? [] : flattenIssues(data.error.issues, '/data')),
  ];
  if (!envelope.success || issues.length > 0) throw new EventSchemaError(event.type, event.version, issues);
  return envelope.data;
}

/**
 * zod treats an optional property set to `undefined` as absent, and so does
 * this: such properties are left out of the wire form (the canonical encoding
 * itself refuses `undefined`, so nothing else can slip through).
 */
export function withoutUndefined(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutUndefined);
  if (value === null || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) {
    return value;
  }
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) if (item !== undefined) out[key] = withoutUndefined(item);
  return out;
}

/**
 * Builds an event of `definition` from a command's outcome. Pure: the id and
 * both timestamps come in (see `newEventId`, `utcTimestamp`), so a decider's
 * output is reproducible. The result is normalised exactly as decoding would
 * return it (unknown payload keys dropped), so `decodeEvent(encodeEvent(e))`
 * deep-equals `e`. Throws `EventSchemaError` if anything is invalid: an event
 * that fails its schema is never created.
 */
export function createEvent<TType extends string, TVersion extends number, TData extends z.ZodType>(
  definition: EventDefinition<TType, TVersion, TData>,
  input: CreateEventInput<z.output<TData>>,
): EventEnvelope<TType, TVersion, z.output<TData>> {
  const draft: EventEnvelope<TType, TVersion, z.output<TData>> = {
    id: input.id,
    type: definition.type,
    version: definition.version,
    partition: input.partition,
    occurredAt: input.occurredAt,
    recordedAt: input.recordedAt,
    actor: input.actor,
    commandId: input.commandId,
    correlationId: input.correlationId,
    ...(input.causationId === undefined ? {} : { causationId: input.causationId }),
    data: input.data,
  };
  const wire = toWire(definition, draft);
  const data = z.safeDecode(definition.data, wire.data as z.input<TData>);
  if (!data.success) {
    // The codecs of a schema must be inverses; failing here is a broken schema, not bad input.
    throw new EventSchemaError(
      definition.type,
      definition.version,
      flattenIssues(data.error.issues, '/data'),
    );
  }
  return { ...draft, actor: wire.actor, data: data.data as z.output<TData> };
}

/**
 * A fresh event id: uuid v7 whose first 48 bits are `nowMs`, so ids sort
 * roughly by creation time (good index locality in PostgreSQL). The order of
 * events is the stream sequence, never the id. `random` (16 bytes) makes the id
 * reproducible in tests; otherwise node:crypto supplies it.
 */
export function newEventId(nowMs: number, random?: Uint8Array): string {
  if (!Number.isSafeInteger(nowMs) || nowMs < 0 || nowMs >= 2 ** 48) {
    throw new RangeError(`uuid v7 time must be whole milliseconds in [0, 2^48), got ${nowMs}`);
  }
  if (random !== undefined && random.length < 16) {
    throw new RangeError(`uuid v7 needs 16 random bytes, got ${random.length}`);
  }
  return random === undefined ? uuidv7({ msecs: nowMs }) : uuidv7({ msecs: nowMs, random });
}

/**
 * Most events one command may produce: a roster import of `rosterRowsMax` rows
 * (services bound it far lower) fits, and the index stays a short decimal.
 */
export const eventsPerCommandMax = 1_000_000;

/**
 * `Nats-Msg-Id` of the `index`-th event (0-based) a command produced:
 * `<commandId>:<index>`. A retried command produces the same ids, so
 * JetStream's duplicate window drops the repeat (docs/decisions/0002).
 */
export function messageId(commandId: string, index: number): string {
  const parsed = clientIdSchema.safeParse(commandId);
  if (!parsed.success) throw new RangeError(`invalid command id ${JSON.stringify(commandId)}`);
  if (!Number.isSafeInteger(index) || index < 0 || index >= eventsPerCommandMax) {
    throw new RangeError(`event index must be an integer in [0, ${eventsPerCommandMax}), got ${index}`);
  }
  return `${commandId}:${index}`;
}
