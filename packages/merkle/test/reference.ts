import { createHash } from 'node:crypto';

/**
 * The RFC 6962 §2.1 definitions transcribed literally (recursive MTH, PATH,
 * PROOF/SUBPROOF over the leaf data), with its own hashing so that a bug in the
 * package's hash helpers cannot hide in both. Slow on purpose; tests only.
 */
const sha256 = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

function k(n: number): number {
  let p = 1;
  while (p * 2 < n) p *= 2;
  return p;
}

export class ReferenceTree {
  readonly #memo = new Map<string, Uint8Array>();
  constructor(readonly leaves: readonly Uint8Array[]) {}

  mth(start: number, end: number): Uint8Array {
    const n = end - start;
    if (n === 0) return sha256();
    const key = `${start}:${end}`;
    const cached = this.#memo.get(key);
    if (cached) return cached;
    const value =
      n === 1
        ? sha256(Uint8Array.of(0), this.leaves[start]!)
        : sha256(Uint8Array.of(1), this.mth(start, start + k(n)), this.mth(start + k(n), end));
    this.#memo.set(key, value);
    return value;
  }

  root(size: number): Uint8Array {
    return this.mth(0, size);
  }

  /** PATH(m, D[start:end]) */
  path(m: number, start: number, end: number): Uint8Array[] {
    const n = end - start;
    if (n <= 1) return [];
    const split = k(n);
    return m < split
      ? [...this.path(m, start, start + split), this.mth(start + split, end)]
      : [...this.path(m - split, start + split, end), this.mth(start, start + split)];
  }

  /** SUBPROOF(m, D[start:end], b) */
  subproof(m: number, start: number, end: number, b: boolean): Uint8Array[] {
    const n = end - start;
    if (m === n) return b ? [] : [this.mth(start, end)];
    const split = k(n);
    return m <= split
      ? [...this.subproof(m, start, start + split, b), this.mth(start + split, end)]
      : [...this.subproof(m - split, start + split, end, false), this.mth(start, start + split)];
  }

  inclusion(index: number, size: number): Uint8Array[] {
    return this.path(index, 0, size);
  }

  consistency(oldSize: number, newSize: number): Uint8Array[] {
    return this.subproof(oldSize, 0, newSize, true);
  }
}
