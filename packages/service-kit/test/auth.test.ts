import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, signToken, type TokenClaims, tokenTtlSecondsMax, verifyToken } from '../src/index';
import { sampleApp, secret } from './sample-app';

let app: App;
beforeAll(async () => {
  ({ app } = await sampleApp());
});
afterAll(async () => app.close());

const county: TokenClaims = { sub: 'u-county', role: 'finance', org: '内乡县财政局', partitions: ['411325'] };
const body = { householdId: 'h-1', amountFen: '100', purpose: 'housing' };

async function pay(authorization: string | undefined, partition = '411325') {
  return app.inject({
    method: 'POST',
    url: `/partitions/${partition}/payments`,
    headers: authorization === undefined ? {} : { authorization },
    payload: body,
  });
}

const encode = (text: string) => Buffer.from(text).toString('base64url');

describe('401 unauthenticated', () => {
  it('challenges a request without a token (no error code, RFC 6750 §3.1)', async () => {
    const response = await pay(undefined);
    expect(response.statusCode).toBe(401);
    expect(response.json().error.code).toBe('unauthenticated');
    expect(response.headers['www-authenticate']).toBe('Bearer realm="fundtrace"');
  });

  it.each([
    ['a non-bearer scheme', 'Basic dXNlcjpwYXNz', 'invalid_request'],
    ['a bearer with no token', 'Bearer ', 'invalid_request'],
    ['a token with spaces', 'Bearer abc def', 'invalid_request'],
    ['garbage', 'Bearer not.a.jwt', 'invalid_token'],
  ])('refuses %s', async (_label, header, error) => {
    const response = await pay(header);
    expect(response.statusCode).toBe(401);
    expect(response.json().error.code).toBe('unauthenticated');
    expect(response.headers['www-authenticate']).toContain(`error="${error}"`);
  });

  it('refuses a token signed with another secret', async () => {
    const forged = await signToken('another-secret-0123456789abcdefghijklmn', county, 600);
    const response = await pay(`Bearer ${forged}`);
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toContain('error="invalid_token"');
  });

  it('refuses an expired token, beyond the clock tolerance', async () => {
    const longAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    const expired = await signToken(secret, county, 60, longAgo);
    const response = await pay(`Bearer ${expired}`);
    expect(response.statusCode).toBe(401);
    expect(response.json().error.message).toBe('The token has expired');
  });

  it('refuses a wrong issuer, a wrong audience, a missing expiry, and alg none', async () => {
    const key = new TextEncoder().encode(secret);
    const claims = { role: 'finance', org: 'x', partitions: ['411325'] };
    const base = () => new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject('u').setIssuedAt();
    const tokens = [
      await base().setIssuer('someone-else').setAudience('fundtrace').setExpirationTime('5m').sign(key),
      await base().setIssuer('fundtrace').setAudience('other').setExpirationTime('5m').sign(key),
      await base().setIssuer('fundtrace').setAudience('fundtrace').sign(key),
      `${encode('{"alg":"none","typ":"JWT"}')}.${encode(
        JSON.stringify({
          ...claims,
          sub: 'u',
          iss: 'fundtrace',
          aud: 'fundtrace',
          exp: Math.floor(Date.now() / 1000) + 300,
        }),
      )}.`,
    ];
    for (const token of tokens) {
      const response = await pay(`Bearer ${token}`);
      expect(response.statusCode, token).toBe(401);
    }
  });

  it('refuses a correctly signed token whose claims are malformed', async () => {
    const key = new TextEncoder().encode(secret);
    const bad = await new SignJWT({ role: 'mayor', org: 'x', partitions: ['411325'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('u')
      .setIssuer('fundtrace')
      .setAudience('fundtrace')
      .setExpirationTime('5m')
      .sign(key);
    const response = await pay(`Bearer ${bad}`);
    expect(response.statusCode).toBe(401);
    expect(response.json().error.message).toBe('The token claims are not valid');
  });
});

describe('403 forbidden', () => {
  it('refuses a role the route does not allow', async () => {
    const inspector = await signToken(secret, { ...county, role: 'inspector' }, 600);
    const response = await pay(`Bearer ${inspector}`);
    expect(response.statusCode).toBe(403);
    expect(response.json().error).toMatchObject({ code: 'forbidden', details: { role: 'inspector' } });
  });

  it("refuses another partition's books", async () => {
    const token = await signToken(secret, county, 600);
    const response = await pay(`Bearer ${token}`, '411221');
    expect(response.statusCode).toBe(403);
    expect(response.json().error).toMatchObject({ code: 'forbidden', details: { partition: '411221' } });
  });

  it('checks authorization before reading the body: a forbidden request with a bad body is 403, not 400', async () => {
    const token = await signToken(secret, county, 600);
    const response = await app.inject({
      method: 'POST',
      url: '/partitions/411221/payments',
      headers: { authorization: `Bearer ${token}` },
      payload: { nonsense: true },
    });
    expect(response.statusCode).toBe(403);
  });
});

describe('allowed', () => {
  it('lets a county officer act on their partition', async () => {
    const token = await signToken(secret, county, 600);
    expect((await pay(`Bearer ${token}`)).statusCode).toBe(201);
  });

  it('lets a national role ("*") act on any partition', async () => {
    const token = await signToken(secret, { ...county, partitions: ['*'] }, 600);
    expect((await pay(`Bearer ${token}`, '411221')).statusCode).toBe(201);
  });

  it('leaves public routes open', async () => {
    expect((await app.inject({ method: 'GET', url: '/public' })).statusCode).toBe(200);
  });
});

describe('signToken / verifyToken', () => {
  it('round-trips the claims with an expiry', async () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const token = await signToken(secret, county, 3600, now);
    const user = await verifyToken(secret, token, new Date('2026-01-01T00:59:00Z'));
    expect(user).toEqual({ ...county, exp: Math.floor(now.getTime() / 1000) + 3600 });
  });

  it('accepts a token expired by less than the clock tolerance, not more', async () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const token = await signToken(secret, county, 60, now);
    await expect(verifyToken(secret, token, new Date('2026-01-01T00:01:20Z'))).resolves.toMatchObject(county);
    await expect(verifyToken(secret, token, new Date('2026-01-01T00:01:31Z'))).rejects.toThrow(/expired/);
  });

  it.each([0, -5, 1.5, tokenTtlSecondsMax + 1])('refuses lifetime %s', async (ttl) => {
    await expect(signToken(secret, county, ttl)).rejects.toThrow(/lifetime/);
  });

  it('accepts the longest lifetime', async () => {
    await expect(signToken(secret, county, tokenTtlSecondsMax)).resolves.toMatch(/^ey/);
  });

  it.each([
    ['an unknown role', { ...county, role: 'mayor' }],
    ['no partitions', { ...county, partitions: [] }],
    ['a malformed partition', { ...county, partitions: ['4113'] }],
    ['an empty subject', { ...county, sub: '' }],
  ])('refuses to sign %s', async (_label, claims) => {
    await expect(signToken(secret, claims as TokenClaims, 60)).rejects.toThrow();
  });

  it('refuses a secret shorter than 32 bytes', async () => {
    await expect(signToken('short', county, 60)).rejects.toThrow(/at least 32 bytes/);
  });
});
