import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import { jwtSecretBytesMin } from './config';
import { Rejection } from './errors';

/** Issuer and audience of every fundtrace token (docs/CONVENTIONS.md). */
export const tokenIssuer = 'fundtrace';
export const tokenAudience = 'fundtrace';

/** Clock skew tolerated between the issuing and verifying machines. */
export const clockToleranceSeconds = 30;

/**
 * Longest token lifetime: a working day's session for staff; the CLI signs short tokens per run.
 * A stolen token must not stay valid for weeks.
 */
export const tokenTtlSecondsMax = 12 * 60 * 60;

/** One user acts on a handful of partitions; more than this is a misissued token. */
export const tokenPartitionsMax = 256;

/** Realm in WWW-Authenticate (RFC 6750 §3). */
const realm = 'fundtrace';

export const roles = ['finance', 'registry', 'inspector'] as const;
export type Role = (typeof roles)[number];

/** A GB/T 2260 administrative code, or `*` for national roles. */
const partitionScope = z.string().regex(/^(\d{6}|\*)$/, 'must be a 6-digit administrative code or "*"');

export const tokenClaimsSchema = z.object({
  sub: z.string().min(1).max(128),
  role: z.enum(roles),
  org: z.string().min(1).max(200),
  partitions: z.array(partitionScope).min(1).max(tokenPartitionsMax),
});
export type TokenClaims = z.infer<typeof tokenClaimsSchema>;

/** The authenticated user of a request, with the token's expiry. */
export interface AuthUser extends TokenClaims {
  exp: number;
}

function secretKey(secret: string): Uint8Array {
  const key = new TextEncoder().encode(secret);
  if (key.byteLength < jwtSecretBytesMin)
    throw new Error(`JWT secret must be at least ${jwtSecretBytesMin} bytes`);
  return key;
}

/** Signs an HS256 bearer token (npm start, the CLI, tests). Throws on invalid claims or lifetime. */
export async function signToken(
  secret: string,
  claims: TokenClaims,
  ttlSeconds: number,
  now: Date = new Date(),
): Promise<string> {
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > tokenTtlSecondsMax) {
    throw new Error(`Token lifetime must be 1–${tokenTtlSecondsMax} seconds, got ${ttlSeconds}`);
  }
  const { sub, role, org, partitions } = tokenClaimsSchema.parse(claims);
  const issuedAt = Math.floor(now.getTime() / 1000);
  return new SignJWT({ role, org, partitions })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuer(tokenIssuer)
    .setAudience(tokenAudience)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + ttlSeconds)
    .sign(secretKey(secret));
}

function unauthenticated(
  message: string,
  error?: 'invalid_request' | 'invalid_token',
): Rejection<'unauthenticated'> {
  // RFC 6750 §3.1: a request without credentials gets the challenge without an error code.
  const challenge = error
    ? `Bearer realm="${realm}", error="${error}", error_description="${message}"`
    : `Bearer realm="${realm}"`;
  return new Rejection('unauthenticated', message, {}, 401, { 'www-authenticate': challenge });
}

/**
 * Verifies a token: HS256 only (no `alg: none`, no algorithm confusion), issuer, audience,
 * expiry (required), and the claims' shape. Throws a 401 `unauthenticated` rejection.
 */
export async function verifyToken(secret: string, token: string, now: Date = new Date()): Promise<AuthUser> {
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, secretKey(secret), {
      algorithms: ['HS256'],
      issuer: tokenIssuer,
      audience: tokenAudience,
      requiredClaims: ['exp', 'sub'],
      clockTolerance: clockToleranceSeconds,
      currentDate: now,
    }));
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired)
      throw unauthenticated('The token has expired', 'invalid_token');
    if (error instanceof joseErrors.JOSEError)
      throw unauthenticated('The token is not valid', 'invalid_token');
    throw error;
  }
  const claims = tokenClaimsSchema.safeParse(payload);
  if (!claims.success) throw unauthenticated('The token claims are not valid', 'invalid_token');
  // Frozen: a remembered user is shared by every request that carries the same token.
  Object.freeze(claims.data.partitions);
  return Object.freeze({ ...claims.data, exp: payload.exp as number });
}

/**
 * Verified tokens one verifier remembers. A service sees a few hundred staff, each with one token a
 * working day; 10,000 entries of ~300 bytes stay under 4 MiB, and only a token that verified can
 * enter, so nobody can fill the cache without the secret.
 */
export const verifiedTokensMax = 10_000;

/**
 * How long a verified token is trusted without checking its signature again. Short, so that a
 * verifier whose secret changes (or a keyring that drops a key) stops honouring old tokens within a
 * minute even if the cache were not cleared; long enough that a session's requests hit it.
 */
export const verifiedTokenTtlMs = 60_000;

export interface TokenCacheOptions {
  /** Bound on remembered tokens; the least recently used goes first. Default {@link verifiedTokensMax}. */
  entriesMax?: number;
  /** Default {@link verifiedTokenTtlMs}. */
  ttlMs?: number;
}

interface VerifiedToken {
  user: AuthUser;
  /** When it was verified (ms): a clock that went back re-verifies. */
  verifiedAtMs: number;
  /** First instant (ms) it is no longer trusted: the earlier of the TTL and the token's expiry. */
  untilMs: number;
}

/**
 * Verifies bearer tokens for one secret and remembers the ones that verified (decision 0044):
 * an HS256 check through WebCrypto costs a key import and an HMAC per request, several per cent of
 * a writer's CPU, while a session sends the same token hundreds of times.
 *
 * The cache is keyed by the SHA-256 of the exact token string (no bearer credential is kept in
 * memory), bound to this verifier's secret (a verifier for another secret never sees these
 * entries; {@link clear} forgets them all), bounded ({@link TokenCacheOptions.entriesMax}, least
 * recently used evicted), and an entry expires at the earlier of its TTL and the instant the slow
 * path would call the token expired (`exp` plus the clock tolerance). A token that fails
 * verification is never remembered; a remembered one past its time takes the slow path, which
 * refuses it with the same 401 as before.
 */
export class TokenVerifier {
  readonly #secret: string;
  readonly #entriesMax: number;
  readonly #ttlMs: number;
  /** Insertion order is recency order: a hit is deleted and set again. */
  readonly #entries = new Map<string, VerifiedToken>();

  constructor(secret: string, options: TokenCacheOptions = {}) {
    secretKey(secret); // fail at startup, not on the first request
    this.#secret = secret;
    this.#entriesMax = options.entriesMax ?? verifiedTokensMax;
    this.#ttlMs = options.ttlMs ?? verifiedTokenTtlMs;
    if (!Number.isInteger(this.#entriesMax) || this.#entriesMax < 0)
      throw new Error(`Token cache entriesMax must be a non-negative integer, got ${this.#entriesMax}`);
    if (!Number.isFinite(this.#ttlMs) || this.#ttlMs < 0)
      throw new Error(`Token cache ttlMs must be a non-negative number, got ${this.#ttlMs}`);
  }

  /** Remembered tokens (tests, metrics). */
  get size(): number {
    return this.#entries.size;
  }

  /** Forgets every remembered token: the next request of each verifies its signature again. */
  clear(): void {
    this.#entries.clear();
  }

  /** As {@link verifyToken}, answered from the cache when this exact token verified recently. */
  async verify(token: string, now: Date = new Date()): Promise<AuthUser> {
    const nowMs = now.getTime();
    const key = createHash('sha256').update(token).digest('base64');
    const hit = this.#entries.get(key);
    if (hit !== undefined) {
      this.#entries.delete(key);
      if (nowMs >= hit.verifiedAtMs && nowMs < hit.untilMs) {
        this.#entries.set(key, hit);
        return hit.user;
      }
    }
    const user = await verifyToken(this.#secret, token, now);
    if (this.#entriesMax > 0 && this.#ttlMs > 0) {
      // jose refuses when exp <= floor(now / 1000) - tolerance, i.e. from (exp + tolerance) s on.
      const expiredFromMs = (user.exp + clockToleranceSeconds) * 1000;
      const untilMs = Math.min(nowMs + this.#ttlMs, expiredFromMs);
      this.#entries.set(key, { user, verifiedAtMs: nowMs, untilMs });
      if (this.#entries.size > this.#entriesMax) {
        const oldest = this.#entries.keys().next().value as string;
        this.#entries.delete(oldest);
      }
    }
    return user;
  }
}

/** Tokens are a few hundred bytes; a header far beyond that is garbage or an attack. */
const authorizationHeaderBytesMax = 8192;

/** The bearer token of a request, or a 401 rejection. */
function bearerToken(request: FastifyRequest): string {
  const header = request.headers.authorization;
  if (header === undefined || header === '') throw unauthenticated('A bearer token is required');
  if (header.length > authorizationHeaderBytesMax)
    throw unauthenticated('The token is too long', 'invalid_request');
  const match = /^Bearer ([A-Za-z0-9_\-.]+)$/i.exec(header);
  if (!match) throw unauthenticated('The Authorization header must be: Bearer <token>', 'invalid_request');
  return match[1]!;
}

/**
 * Marks the hooks that require a token, so createApp can document such routes as needing a
 * bearer token in OpenAPI and refuse them at startup in an app created without auth.
 */
export const requiresToken: unique symbol = Symbol.for('fundtrace.requiresToken');

/** Whether a route hook (or any of an array of hooks) requires a token. */
export function hooksRequireToken(hooks: unknown): boolean {
  const list = Array.isArray(hooks) ? hooks : [hooks];
  return list.some((hook) => typeof hook === 'function' && requiresToken in hook);
}

export function markRequiresToken<T extends object>(hook: T): T {
  Object.defineProperty(hook, requiresToken, { value: true });
  return hook;
}

/**
 * Builds the `app.authenticate` hook for one secret: sets `request.user` or throws a 401. Verified
 * tokens are remembered ({@link TokenVerifier}) unless `tokenCache` is `false`.
 */
export function authenticator(secret: string, tokenCache: TokenCacheOptions | false = {}) {
  const verifier = new TokenVerifier(secret, tokenCache === false ? { entriesMax: 0 } : tokenCache);
  return markRequiresToken(async function authenticate(
    request: FastifyRequest,
    _reply: FastifyReply,
  ): Promise<void> {
    request.user = await verifier.verify(bearerToken(request));
  });
}

export interface RoleOptions {
  /**
   * The partition the request acts on (usually a route parameter). When given, the user's
   * `partitions` must contain it or `*`: a county officer cannot write another county's books.
   */
  partition?: (request: FastifyRequest) => string | undefined;
}

/**
 * A route hook that authenticates (if not done yet) and requires one of `allowed` roles and,
 * optionally, the request's partition in the user's scope. Use it as the route's `onRequest`
 * so refusals happen before the body is read:
 * `onRequest: requireRole(['finance'], { partition: (req) => (req.params as { partition: string }).partition })`.
 */
export function requireRole(allowed: readonly Role[], options: RoleOptions = {}) {
  if (allowed.length === 0) throw new Error('requireRole needs at least one role');
  return markRequiresToken(async function checkRole(
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<void> {
    if (!request.user) await request.server.authenticate(request, reply);
    const user = request.user;
    if (!user) throw new Error('authenticate returned without a user'); // broken invariant
    if (!allowed.includes(user.role)) {
      throw new Rejection(
        'forbidden',
        `This action needs the role ${allowed.join(' or ')}`,
        { role: user.role },
        403,
      );
    }
    if (options.partition) {
      const partition = options.partition(request);
      if (partition === undefined || partition === '') {
        throw new Rejection('forbidden', 'The request names no partition', {}, 403);
      }
      if (!user.partitions.includes('*') && !user.partitions.includes(partition)) {
        throw new Rejection('forbidden', `Partition ${partition} is outside your scope`, { partition }, 403);
      }
    }
  });
}

/** The authenticated user; for handlers behind `app.authenticate` or `requireRole`. */
export function currentUser(request: FastifyRequest): AuthUser {
  if (!request.user) throw new Error('currentUser called on a route without authentication'); // broken invariant
  return request.user;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `app.authenticate` / `requireRole`; null on public routes. */
    user: AuthUser | null;
  }
  interface FastifyInstance {
    /** Verifies the bearer token and sets `request.user`, or answers 401 `unauthenticated`. */
    authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  }
}
