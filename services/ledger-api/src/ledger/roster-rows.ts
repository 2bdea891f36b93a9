import { ledger } from '@fundtrace/events';
import { fenDigitsMax, fenMax } from '@fundtrace/money';
import type { z } from 'zod';
import { commandSchemas } from './commands';
import { paymentQuantityMax } from './limits';

/** One row of a roster as its schema gives it (money decoded to bigint fen). */
export type RosterRow = z.output<typeof rosterRowSchema>;

export const rosterRowSchema = commandSchemas.SubmitRoster.shape.rows.element;

/** The ledger id rule of @fundtrace/events (`ledgerIdSchema`): letters, digits, "_" and "-". */
const safeToken = /^[A-Za-z0-9_-]+$/;
/** A wire amount of fen with no sign, no leading zero (`positiveFenSchema`'s wire rule). */
const unsignedDigits = /^(0|[1-9][0-9]*)$/;
const documentNumberLengthMax = 100;

function isId(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length >= 1 &&
    value.length <= ledger.ledgerIdLengthMax &&
    safeToken.test(value)
  );
}

function isIntIn(value: unknown, min: number, max: number): value is number {
  return Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max;
}

/**
 * A roster row the way the common, well-formed row is checked, without zod: a 50,000-row roster
 * spent most of a second in zod's generic object parse (bench/phases.ts). It vouches only for a
 * row it can check completely, with the schema's own rules (the same bounds, patterns and
 * defaults), and returns undefined for anything else, which the caller then parses with the
 * schema itself, for the same result or the schema's own error messages. Unknown keys are
 * dropped, as the schema drops them. A property test compares both on random and broken rows.
 */
export function fastRosterRow(value: unknown): RosterRow | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const { row, householdId, quantity, amountFen, acceptanceRef } = value as Record<string, unknown>;
  if (!isIntIn(row, 1, Number.MAX_SAFE_INTEGER)) return undefined;
  if (!isId(householdId)) return undefined;
  if (!isIntIn(quantity, 1, paymentQuantityMax)) return undefined;
  if (typeof amountFen !== 'string' || amountFen.length > fenDigitsMax || !unsignedDigits.test(amountFen))
    return undefined;
  const fen = BigInt(amountFen);
  if (fen < 1n || fen > fenMax) return undefined;
  let ref: string | null;
  if (acceptanceRef === undefined || acceptanceRef === null) ref = null;
  else if (
    typeof acceptanceRef === 'string' &&
    acceptanceRef.length >= 1 &&
    acceptanceRef.length <= documentNumberLengthMax
  )
    ref = acceptanceRef;
  else return undefined;
  return { row, householdId, quantity, amountFen: fen, acceptanceRef: ref };
}
