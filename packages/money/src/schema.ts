import { z } from 'zod';
import { type Fen, fenDigitsMax, fenMax } from './fen';

/**
 * Wire form of money: a JSON string of decimal digits, no sign, no leading
 * zeros (so one amount has exactly one spelling and canonical bytes, hashed by
 * the Merkle log, cannot differ for the same amount), at most `fenDigitsMax`
 * digits. A JSON number is refused: it would pass through a double on the way.
 */
const unsignedDigits = /^(0|[1-9][0-9]*)$/;
const signedDigits = /^(0|-?[1-9][0-9]*)$/;

/** Says precisely what is wrong with a wire string, or undefined when it is well formed. */
function describeWireProblem(text: string, signed: boolean): string | undefined {
  if (text === '') return 'amount in fen is empty; expected a string of digits such as "125000"';
  const body = signed && text.startsWith('-') ? text.slice(1) : text;
  if (text.startsWith('-') && !signed) return `amount in fen must not be negative, got "${clip(text)}"`;
  if (text.startsWith('+')) return `amount in fen must not carry a "+" sign, got "${clip(text)}"`;
  if (body.includes('.')) {
    return `amount in fen must be a whole number of fen (no decimal point), got "${clip(text)}"`;
  }
  if (!/^[0-9]+$/.test(body)) return `amount in fen must contain only the digits 0-9, got "${clip(text)}"`;
  if (body.length > 1 && body.startsWith('0')) {
    return `amount in fen must not have leading zeros, got "${clip(text)}"`;
  }
  if (text === '-0') return 'amount in fen "-0" is not canonical; write "0"';
  if (body.length > fenDigitsMax || BigInt(body) > fenMax) {
    return `amount in fen ${clip(text)} is above the maximum ${fenMax}`;
  }
  if (!(signed ? signedDigits : unsignedDigits).test(text)) return `malformed amount in fen "${clip(text)}"`;
  return undefined;
}

/** Keeps error messages short when someone posts a megabyte of digits. */
function clip(text: string): string {
  const shown = 40;
  return text.length > shown ? `${text.slice(0, shown)}… (${text.length} characters)` : text;
}

function wireString(signed: boolean) {
  // The pattern is published in the JSON Schema (OpenAPI) so clients see the rule;
  // the check below gives the precise message.
  const pattern = signed
    ? `^(0|-?[1-9][0-9]{0,${fenDigitsMax - 1}})$`
    : `^(0|[1-9][0-9]{0,${fenDigitsMax - 1}})$`;
  return z
    .string({ error: (issue) => `amount in fen must be a string of digits, got ${typeOf(issue.input)}` })
    .check((ctx) => {
      const problem = describeWireProblem(ctx.value, signed);
      if (problem !== undefined) {
        ctx.issues.push({ code: 'custom', message: problem, input: ctx.value, continue: false });
      }
    })
    .meta({
      pattern,
      description: signed
        ? 'signed amount in fen (分), a string of digits'
        : 'amount in fen (分), a string of digits',
      examples: ['125000'],
    });
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'number')
    return `the number ${value} (send money as a string of digits, never a float)`;
  return typeof value;
}

function fenCodec(signed: boolean, min: Fen) {
  const wire = wireString(signed);
  const amount = z
    .bigint({ error: (issue) => `amount must be a bigint number of fen, got ${typeOf(issue.input)}` })
    .min(min, {
      error: (issue) =>
        min === 1n
          ? `amount must be greater than zero, got ${String(issue.input)} fen`
          : `amount ${String(issue.input)} fen is below the minimum ${min} fen`,
    })
    .max(fenMax, {
      error: (issue) => `amount ${String(issue.input)} fen is above the maximum ${fenMax} fen`,
    });
  return z.codec(wire, amount, {
    decode: (text) => BigInt(text),
    encode: (fen) => fen.toString(),
  });
}

/** Money ≥ 0 fen: wire "125000" ⇄ 125000n. `z.decode`/`parse` gives bigint, `z.encode` gives the string. */
export const fenSchema = fenCodec(false, 0n);

/** Money > 0 fen: what a payment, allocation or disbursement amount must be. */
export const positiveFenSchema = fenCodec(false, 1n);

/** Money in [-fenMax, fenMax]: deltas and reversals; wire "-125000" ⇄ -125000n. */
export const signedFenSchema = fenCodec(true, -fenMax);
