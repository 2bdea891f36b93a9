import { describe, expect, it } from 'vitest';
import {
  clockToleranceSeconds,
  signToken,
  type TokenClaims,
  TokenVerifier,
  verifiedTokenTtlMs,
  verifyToken,
} from '../src/index';
import { secret } from './sample-app';

// The remembered-token path of decision 0044: every answer must be the one verifyToken gives.

const county: TokenClaims = { sub: 'u-county', role: 'finance', org: '内乡县财政局', partitions: ['411325'] };
const t0 = new Date('2026-03-01T08:00:00Z');
const at = (ms: number) => new Date(t0.getTime() + ms);
const hour = 60 * 60 * 1000;

/** What a verification came to: the user, or the refusal's message. */
async function outcome(run: () => Promise<unknown>): Promise<unknown> {
  try {
    return { user: await run() };
  } catch (error) {
    return { refused: (error as Error).message };
  }
}

describe('TokenVerifier', () => {
  it('answers a repeated token with the same principal, the one verifyToken gives', async () => {
    const verifier = new TokenVerifier(secret);
    const token = await signToken(secret, county, 600, t0);
    const first = await verifier.verify(token, t0);
    expect(first).toEqual(await verifyToken(secret, token, t0));
    expect(first).toEqual({ ...county, exp: Math.floor(t0.getTime() / 1000) + 600 });
    expect(verifier.size).toBe(1);
    // The very object remembered, not a second verification (which builds a new one).
    expect(await verifier.verify(token, at(10_000))).toBe(first);
    expect(verifier.size).toBe(1);
  });

  it('shares a frozen principal: no request can change what the next one sees', async () => {
    const verifier = new TokenVerifier(secret);
    const user = await verifier.verify(await signToken(secret, county, 600, t0), t0);
    expect(() => {
      (user as { role: string }).role = 'inspector';
    }).toThrow(TypeError);
    expect(() => user.partitions.push('*')).toThrow(TypeError);
  });

  it('refuses a remembered token once it has expired, with the slow path’s message', async () => {
    const verifier = new TokenVerifier(secret, { ttlMs: 24 * hour }); // only the token's expiry can end it
    const token = await signToken(secret, county, 60, t0);
    const user = await verifier.verify(token, t0);
    const lastTrusted = (60 + clockToleranceSeconds) * 1000 - 1;
    expect(await verifier.verify(token, at(lastTrusted))).toBe(user);
    await expect(verifier.verify(token, at(lastTrusted + 1))).rejects.toThrow('The token has expired');
    expect(verifier.size).toBe(0);
    await expect(verifier.verify(token, at(2 * hour))).rejects.toThrow('The token has expired');
  });

  it('agrees with verifyToken at every instant around the expiry and the TTL', async () => {
    // Tokens of several lifetimes, verified first at several instants, then asked again across the
    // boundaries (fractions of a second included: jose compares whole seconds).
    for (const ttlSeconds of [1, 30, 60, 95]) {
      const token = await signToken(secret, county, ttlSeconds, t0);
      for (const firstMs of [0, 400, 29_999, 61_500]) {
        const verifier = new TokenVerifier(secret, { ttlMs: 45_000 });
        await outcome(() => verifier.verify(token, at(firstMs)));
        for (let ms = firstMs - 1500; ms <= 140_000; ms += 250) {
          const cached = await outcome(() => verifier.verify(token, at(ms)));
          const slow = await outcome(() => verifyToken(secret, token, at(ms)));
          expect(cached, `ttl ${ttlSeconds}s, first ${firstMs} ms, asked at ${ms} ms`).toEqual(slow);
        }
      }
    }
  });

  it('verifies again once the TTL has passed, and when the clock went back', async () => {
    const verifier = new TokenVerifier(secret, { ttlMs: 1000 });
    const token = await signToken(secret, county, 600, t0);
    const user = await verifier.verify(token, t0);
    expect(await verifier.verify(token, at(999))).toBe(user);
    const again = await verifier.verify(token, at(1000));
    expect(again).not.toBe(user);
    expect(again).toEqual(user);
    expect(await verifier.verify(token, at(-1))).not.toBe(again);
  });

  it('refuses a tampered token even while the genuine one is remembered, and remembers no failure', async () => {
    const verifier = new TokenVerifier(secret);
    const token = await signToken(secret, county, 600, t0);
    await verifier.verify(token, t0);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    const widened = Buffer.from(JSON.stringify({ ...claims, partitions: ['*'] })).toString('base64url');
    const flipped = `${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`;
    const forged = await signToken('another-secret-0123456789abcdefghijklmn', county, 600, t0);
    for (const bad of [
      `${header}.${widened}.${signature}`,
      `${header}.${payload}.${flipped}`,
      forged,
      'a.b.c',
    ]) {
      for (let i = 0; i < 2; i++) {
        await expect(verifier.verify(bad, t0), bad).rejects.toThrow(/not valid/);
      }
    }
    expect(verifier.size).toBe(1);
  });

  it('keeps at most entriesMax tokens, dropping the least recently used', async () => {
    const verifier = new TokenVerifier(secret, { entriesMax: 3 });
    const tokens = await Promise.all(
      ['a', 'b', 'c', 'd', 'e'].map((sub) => signToken(secret, { ...county, sub }, 600, t0)),
    );
    const users = [];
    for (const token of tokens.slice(0, 3)) users.push(await verifier.verify(token, t0));
    expect(await verifier.verify(tokens[0]!, t0)).toBe(users[0]); // a is now the most recent
    await verifier.verify(tokens[3]!, t0); // evicts b
    await verifier.verify(tokens[4]!, t0); // evicts c
    expect(verifier.size).toBe(3);
    expect(await verifier.verify(tokens[0]!, t0)).toBe(users[0]);
    expect(await verifier.verify(tokens[1]!, t0)).not.toBe(users[1]);
    for (let i = 0; i < 50; i++)
      await verifier.verify(await signToken(secret, { ...county, sub: `s${i}` }, 600, t0), t0);
    expect(verifier.size).toBe(3);
  });

  it('is bound to its secret: another secret’s verifier refuses, clear() forgets', async () => {
    const rotated = 'rotated-secret-0123456789abcdefghijklm';
    const token = await signToken(secret, county, 600, t0);
    const old = new TokenVerifier(secret);
    const user = await old.verify(token, t0);
    await expect(new TokenVerifier(rotated).verify(token, t0)).rejects.toThrow('The token is not valid');
    old.clear();
    expect(old.size).toBe(0);
    expect(await old.verify(token, t0)).not.toBe(user);
  });

  it('remembers nothing when disabled, and refuses nonsense limits and short secrets', async () => {
    const verifier = new TokenVerifier(secret, { entriesMax: 0 });
    const token = await signToken(secret, county, 600, t0);
    expect(await verifier.verify(token, t0)).not.toBe(await verifier.verify(token, t0));
    expect(verifier.size).toBe(0);
    expect(() => new TokenVerifier(secret, { entriesMax: -1 })).toThrow(/entriesMax/);
    expect(() => new TokenVerifier(secret, { ttlMs: Number.NaN })).toThrow(/ttlMs/);
    expect(() => new TokenVerifier('short')).toThrow(/at least 32 bytes/);
    expect(verifiedTokenTtlMs).toBeLessThanOrEqual(5 * 60 * 1000);
  });
});
