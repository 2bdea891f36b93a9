import { parseStreamName } from '@fundtrace/events';
import { z } from 'zod';

/** A kept stream's name as the API spells it: `LEDGER_411325`, never with a test namespace. */
export const streamParam = z
  .string()
  .max(32)
  .refine((name) => {
    const ref = parseStreamName(name);
    return ref !== null && ref.namespace === '';
  }, 'must be LEDGER_<code>, REGISTRY_<code> or AUDIT_<code> with a valid administrative code');

/** The partition (administrative code) of a stream name that passed {@link streamParam}. */
export function partitionOf(stream: string): string {
  const ref = parseStreamName(stream);
  if (ref === null) throw new Error(`not a stream name: ${stream}`); // validated before
  return ref.partition;
}

/**
 * The key of a stream's tree in the merkle tables: the JetStream stream name, so a
 * benchmark or test namespace sharing a database never mixes its trees with the
 * real ones. The API and the checkpoint origins use the name without namespace.
 */
export function treeKeyFor(ns: string): (stream: string) => string {
  return (stream) => (ns === '' ? stream : `${ns}_${stream}`);
}
