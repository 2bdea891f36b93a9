import type { z } from 'zod';
import type { EventDefinition } from './define';

/**
 * Turns the payload of `type` at `fromVersion` into its payload at
 * `fromVersion + 1`. Upcasters work on the wire form (money still strings of
 * digits), because that is the form the old bytes are in; they must be pure and
 * total over every payload the old schema accepts.
 */
export interface Upcaster {
  readonly type: string;
  readonly fromVersion: number;
  // Method syntax: checked bivariantly, so typed upcasters fit one registry.
  up(data: unknown): unknown;
}

export function defineUpcaster<From extends EventDefinition, To extends EventDefinition>(
  from: From,
  to: To,
  up: (data: z.input<From['data']>) => z.input<To['data']>,
): Upcaster {
  if (from.type !== to.type) {
    throw new Error(`upcaster from ${from.type} to ${to.type}: an upcaster never changes the event type`);
  }
  if (to.version !== from.version + 1) {
    throw new Error(
      `upcaster for ${from.type} must go from v${from.version} to v${from.version + 1}, not v${to.version}`,
    );
  }
  if (from.context !== to.context || from.entity !== to.entity) {
    throw new Error(
      `${from.type} v${to.version} must keep the context and entity of v${from.version} (subjects are stable)`,
    );
  }
  return Object.freeze({ type: from.type, fromVersion: from.version, up: up as (data: unknown) => unknown });
}
