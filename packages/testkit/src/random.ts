import { randomBytes } from 'node:crypto';

/** Random lower-case base-36 characters: safe in database names, stream names and subjects. */
export function randomToken(chars: number): string {
  let out = '';
  while (out.length < chars) {
    for (const byte of randomBytes(chars)) {
      // 252 = 7 × 36: dropping bytes above it keeps every character equally likely.
      if (byte < 252 && out.length < chars) out += (byte % 36).toString(36);
    }
  }
  return out;
}
