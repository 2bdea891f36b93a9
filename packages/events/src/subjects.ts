import { z } from 'zod';
import { adminCodeProblem } from './admin-codes';
import { type Context, contexts } from './define';

/**
 * Stream and subject names (docs/CONVENTIONS.md): stream `LEDGER_411325`,
 * subjects `ledger.411325.<entity>.<id>`; with a namespace `ns` (tests,
 * benchmarks) `<ns>_LEDGER_411325` and `<ns>.ledger.411325.…`. The namespace
 * never enters event bytes, so hashes do not depend on it.
 */

/** Longest namespace: a test-file or benchmark run id; stream names must stay short in NATS listings. */
export const namespaceCharsMax = 48;
/** Longest entity id: a uuid (36) with room for prefixes and composite keys. */
export const entityIdCharsMax = 128;
/** Longest entity name in a subject (`allocation`, `household`, `finding`). */
export const entityNameCharsMax = 32;

const namespacePattern = /^[A-Za-z0-9_-]+$/;
const entityIdPattern = /^[A-Za-z0-9_-]+$/;
const entityNamePattern = /^[a-z][a-z0-9_]*$/;

/**
 * An id that is one NATS subject token. NATS splits subjects on `.` and treats
 * `*` and `>` as wildcards and whitespace as a separator, and JetStream stream
 * names forbid more; keeping to letters, digits, `_` and `-` is safe everywhere
 * (subjects, stream and consumer names, file names, URLs) and fits uuids and codes.
 */
export const entityIdSchema = z
  .string()
  .min(1, 'entity id must not be empty')
  .max(entityIdCharsMax, `entity id must be at most ${entityIdCharsMax} characters`)
  .regex(entityIdPattern, 'entity id may only contain A-Z a-z 0-9 _ - (it becomes a NATS subject token)');

export const entityNameSchema = z.string().max(entityNameCharsMax).regex(entityNamePattern);

export const namespaceSchema = z.string().max(namespaceCharsMax).regex(namespacePattern);

const streamPrefixes: Readonly<Record<Context, string>> = {
  ledger: 'LEDGER',
  registry: 'REGISTRY',
  audit: 'AUDIT',
};

function assertNamespace(ns: string): void {
  if (ns === '') return;
  if (!namespaceSchema.safeParse(ns).success) {
    throw new RangeError(
      `namespace must be at most ${namespaceCharsMax} characters of A-Z a-z 0-9 _ -, got ${JSON.stringify(ns)}`,
    );
  }
}

function assertContext(context: string): asserts context is Context {
  if (!(contexts as readonly string[]).includes(context)) {
    throw new RangeError(
      `unknown context ${JSON.stringify(context)}; expected one of ${contexts.join(', ')}`,
    );
  }
}

function assertPartition(partition: string): void {
  const problem = adminCodeProblem(partition);
  if (problem !== undefined) throw new RangeError(`partition: ${problem}`);
}

export function assertEntityId(id: string): void {
  const parsed = entityIdSchema.safeParse(id);
  if (!parsed.success) {
    throw new RangeError(`unsafe entity id ${JSON.stringify(id)}: ${parsed.error.issues[0]?.message}`);
  }
}

/** `LEDGER_411325`, or `<ns>_LEDGER_411325`. */
export function streamName(context: Context, partition: string, ns = ''): string {
  assertContext(context);
  assertPartition(partition);
  assertNamespace(ns);
  const base = `${streamPrefixes[context]}_${partition}`;
  return ns === '' ? base : `${ns}_${base}`;
}

function subjectPrefix(ns: string): string {
  assertNamespace(ns);
  return ns === '' ? '' : `${ns}.`;
}

/** The subject filter of a partition's stream: `ledger.411325.>`, or `<ns>.ledger.411325.>`. */
export function streamSubjects(context: Context, partition: string, ns = ''): string {
  assertContext(context);
  assertPartition(partition);
  return `${subjectPrefix(ns)}${context}.${partition}.>`;
}

/** What a subject names: one entity of one context in one partition. */
export interface EntityRef {
  readonly context: Context;
  readonly partition: string;
  readonly entity: string;
  readonly id: string;
}

/** `ledger.411325.allocation.<id>`, or `<ns>.ledger.411325.allocation.<id>`; throws on an unsafe token. */
export function entitySubject(ref: EntityRef, ns = ''): string {
  assertContext(ref.context);
  assertPartition(ref.partition);
  if (!entityNameSchema.safeParse(ref.entity).success) {
    throw new RangeError(`entity name must be lower-case snake_case, got ${JSON.stringify(ref.entity)}`);
  }
  assertEntityId(ref.id);
  return `${subjectPrefix(ns)}${ref.context}.${ref.partition}.${ref.entity}.${ref.id}`;
}

export interface StreamRef {
  readonly namespace: string;
  readonly context: Context;
  readonly partition: string;
}

const streamNamePattern = /^(?:(.+)_)?(LEDGER|REGISTRY|AUDIT)_([0-9]{6})$/;

/** Reads `[<ns>_]LEDGER_411325` back; null for a stream that is not one of ours. */
export function parseStreamName(name: string): StreamRef | null {
  const match = streamNamePattern.exec(name);
  if (match === null) return null;
  const [, ns = '', prefix, partition = ''] = match;
  if (ns !== '' && !namespaceSchema.safeParse(ns).success) return null;
  if (adminCodeProblem(partition) !== undefined) return null;
  const context = contexts.find((candidate) => streamPrefixes[candidate] === prefix);
  if (context === undefined) return null;
  return { namespace: ns, context, partition };
}

/** Reads a subject back (given the namespace it was published under); null when it is not an entity subject of ours. */
export function parseSubject(subject: string, ns = ''): EntityRef | null {
  const prefix = subjectPrefix(ns);
  if (!subject.startsWith(prefix)) return null;
  const tokens = subject.slice(prefix.length).split('.');
  if (tokens.length !== 4) return null;
  const [context = '', partition = '', entity = '', id = ''] = tokens;
  if (!(contexts as readonly string[]).includes(context)) return null;
  if (adminCodeProblem(partition) !== undefined) return null;
  if (!entityNameSchema.safeParse(entity).success || !entityIdSchema.safeParse(id).success) return null;
  return { context: context as Context, partition, entity, id };
}
