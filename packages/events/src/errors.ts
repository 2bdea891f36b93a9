import type { z } from 'zod';

/** A zod issue flattened to what a log line or an HTTP error body needs. */
export interface SchemaIssue {
  readonly path: string;
  readonly message: string;
  readonly code: string;
}

export function flattenIssues(issues: readonly z.core.$ZodIssue[], prefix = ''): SchemaIssue[] {
  return issues.map((issue) => ({
    path: prefix + issue.path.map((key) => `/${String(key)}`).join(''),
    message: issue.message,
    code: issue.code,
  }));
}

function describe(issues: readonly SchemaIssue[]): string {
  const shown = 5;
  const text = issues
    .slice(0, shown)
    .map((issue) => `${issue.path || '/'}: ${issue.message}`)
    .join('; ');
  return issues.length > shown ? `${text}; … ${issues.length - shown} more` : text;
}

/**
 * An event that does not satisfy its own schema. Writers build events from
 * validated commands, so this is a bug in the writer: it is thrown, never
 * encoded, never appended.
 */
export class EventSchemaError extends Error {
  override readonly name = 'EventSchemaError';
  constructor(
    readonly type: string,
    readonly version: number,
    readonly issues: readonly SchemaIssue[],
  ) {
    super(`event ${type} v${version} does not match its schema: ${describe(issues)}`);
  }
}

/** Encoded event larger than `eventBytesMax`; see that constant. */
export class EventTooLargeError extends Error {
  override readonly name = 'EventTooLargeError';
  constructor(
    readonly type: string,
    readonly version: number,
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(`event ${type} v${version} encodes to ${bytes} bytes, above the limit of ${limit}`);
  }
}

export type EventDecodeReason = 'malformed_json' | 'unknown_type' | 'schema_mismatch';

/**
 * Bytes read from a stream that are not an event this code understands:
 * not canonical JSON (`malformed_json`), a (type, version) missing from the
 * catalogue (`unknown_type`, e.g. written by a newer release), or an envelope
 * or payload that fails its schema (`schema_mismatch`).
 */
export class EventDecodeError extends Error {
  override readonly name = 'EventDecodeError';
  constructor(
    readonly reason: EventDecodeReason,
    readonly detail: string,
    readonly issues: readonly SchemaIssue[] = [],
  ) {
    super(`cannot decode event (${reason}): ${detail}${issues.length > 0 ? `: ${describe(issues)}` : ''}`);
  }
}
