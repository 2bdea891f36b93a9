import type { z } from 'zod';

/** The bounded contexts; each has one stream per partition and one writing service. */
export const contexts = ['ledger', 'registry', 'audit'] as const;
export type Context = (typeof contexts)[number];

/**
 * One event type at one version. `data` is the zod schema of the payload as the
 * code sees it (money as bigint through the fen codecs of @fundtrace/money);
 * encoding turns it into the wire form (money as strings of digits).
 *
 * `entity` and `entityId` name the subject: `<context>.<partition>.<entity>.<id>`.
 * The entity id must be a valid NATS subject token (no dots, spaces, `*` or `>`).
 */
export interface EventDefinition<
  TType extends string = string,
  TVersion extends number = number,
  TData extends z.ZodType = z.ZodType,
> {
  readonly type: TType;
  readonly version: TVersion;
  readonly context: Context;
  readonly entity: string;
  readonly data: TData;
  // Method syntax on purpose: parameters of methods are checked bivariantly, so a
  // definition with a concrete payload is still an `EventDefinition` and the
  // catalogue can hold them all in one array.
  entityId(data: z.output<TData>): string;
  /** One line for the catalogue docs: what happened, in the domain's words. */
  readonly description: string;
}

export function defineEvent<TType extends string, TVersion extends number, TData extends z.ZodType>(
  definition: EventDefinition<TType, TVersion, TData>,
): EventDefinition<TType, TVersion, TData> {
  return Object.freeze(definition);
}
