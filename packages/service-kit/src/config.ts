import { isIP } from 'node:net';
import { z } from 'zod';

/** Thrown by {@link loadConfig}; `problems` lists every invalid variable, one line each. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `- ${problem}`).join('\n')}`);
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/**
 * Parses the environment once (STYLE 9). Every problem is reported in one error, so an operator
 * fixes a deployment in one round instead of one variable per restart. Values are never echoed:
 * a misplaced secret must not end up in a crash log. The result is deeply frozen.
 */
export function loadConfig<TSchema extends z.ZodType>(
  schema: TSchema,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Readonly<z.output<TSchema>> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const name = issue.path.map(String).join('.') || '(environment)';
      const missing = issue.path.length === 1 && env[String(issue.path[0])] === undefined;
      return `${name}: ${missing && issue.code === 'invalid_type' ? 'is required but not set' : issue.message}`;
    });
    throw new ConfigError(problems);
  }
  return deepFreeze(result.data);
}

/**
 * {@link loadConfig} plus a value derived from the raw environment that the schema cannot check on
 * its own (key material: a keyring, a verifier key). `derive` answers the value, or the problems it
 * found (never echoing a secret), or `undefined` when its variables are missing (the schema reports
 * those). Every problem of both is reported in one {@link ConfigError}.
 */
export function loadConfigWith<TSchema extends z.ZodType, T>(
  schema: TSchema,
  env: Readonly<Record<string, string | undefined>>,
  derive: (
    env: Readonly<Record<string, string | undefined>>,
  ) => { value: T } | { problems: string[] } | undefined,
): { readonly parsed: Readonly<z.output<TSchema>>; readonly derived: T } {
  const problems: string[] = [];
  let parsed: Readonly<z.output<TSchema>> | undefined;
  try {
    parsed = loadConfig(schema, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  const derived = derive(env);
  if (derived !== undefined && 'problems' in derived) problems.push(...derived.problems);
  if (problems.length > 0 || parsed === undefined || derived === undefined || !('value' in derived)) {
    throw new ConfigError(problems);
  }
  return { parsed, derived: derived.value };
}

/** pino's levels; `silent` turns logging off (benchmarks). */
export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

/** HS256 needs a key at least as long as its 256-bit output (RFC 7518 §3.2). */
export const jwtSecretBytesMin = 32;

/** Long enough for any test or benchmark prefix; stream names must stay readable in `nats stream ls`. */
export const namespaceLengthMax = 32;

/**
 * The variables every service shares (docs/CONVENTIONS.md), as zod schemas with the development
 * defaults. A service's config.ts composes them:
 * `loadConfig(z.object({ ...commonEnv, PORT: port(4101) }))`.
 */
export const databaseUrl = z
  .url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// URL' })
  .default('postgres://postgres@127.0.0.1:5432/fundtrace');

export const natsUrl = z
  .string()
  .regex(/^(nats|tls):\/\/[^\s,]+(,(nats|tls):\/\/[^\s,]+)*$/, 'must be nats:// URLs separated by commas')
  .default('nats://127.0.0.1:4222');

/** Prefix of stream names and subjects; one NATS token, so letters, digits and underscores only. */
export const namespace = z
  .string()
  .max(namespaceLengthMax)
  .regex(/^[A-Za-z0-9_]*$/, 'must contain only letters, digits and underscores')
  .default('');

export const jwtSecret = z
  .string({ error: 'is required (npm start writes a development secret to .data/)' })
  .refine((secret) => Buffer.byteLength(secret, 'utf8') >= jwtSecretBytesMin, {
    message: `must be at least ${jwtSecretBytesMin} bytes`,
  });

/**
 * Replicas of the streams a writer creates: 1 on a single server (development), 3 on a JetStream
 * cluster (production, ARCHITECTURE.md). Existing streams are verified against it, never changed.
 */
export const streamReplicas = z.coerce.number().int().min(1).max(5).default(1);

/**
 * The variables of a service that writes event streams (ledger-api, registry-api, audit-api): each
 * creates the streams it writes, or verifies them, with eventlog's `ensurePartitionStreams`. One
 * definition, so every writer reads the same name with the same bounds: writers share streams (ledger-api
 * creates the REGISTRY stream it tails), and one left at 1 refuses to start on an R3 stream.
 */
export const streamWriterEnv = {
  STREAM_REPLICAS: streamReplicas,
} as const;

/** A listen port with the service's default from docs/CONVENTIONS.md. 0 asks the OS for a free port. */
export const port = (defaultPort: number) => z.coerce.number().int().min(0).max(65_535).default(defaultPort);

/**
 * Which peers may tell a service the client's address (`X-Forwarded-For`), for per-address rate
 * limits and logs behind a reverse proxy: `false` (the peer is the client; the default, so a
 * client cannot forge its address), a hop count (trust that many proxies in front of the
 * service), or the proxies' addresses and CIDR ranges (`loopback`, `linklocal` and `uniquelocal`
 * name proxy-addr's ranges). Everything fastify's `trustProxy` accepts except `true`, which would
 * let any client forge its address.
 */
export type TrustProxy = false | number | readonly string[];

/** More proxies than any deployment puts in front of a service: a bigger count is a typo. */
export const trustProxyHopsMax = 10;

const namedRanges: ReadonlySet<string> = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** An IPv4/IPv6 address, a CIDR range of one, or a named range. */
function isProxyAddress(entry: string): boolean {
  if (namedRanges.has(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * `TRUST_PROXY`: unset, empty, `false` or `0` — off; `1`…`10` — that many proxies; else a comma
 * list of addresses, CIDR ranges and named ranges (`10.0.0.0/8,::1`, `loopback`).
 */
export const trustProxy = z
  .string()
  .optional()
  .transform((text, ctx): TrustProxy => {
    const value = (text ?? '').trim();
    if (value === '' || value === 'false' || value === '0') return false;
    if (/^\d+$/.test(value)) {
      const hops = Number(value);
      if (hops <= trustProxyHopsMax) return hops;
      ctx.addIssue({ code: 'custom', message: `a hop count must be 1–${trustProxyHopsMax}` });
      return z.NEVER;
    }
    if (value === 'true') {
      ctx.addIssue({
        code: 'custom',
        message: 'true would trust any client to name its own address; give the hop count or the proxies',
      });
      return z.NEVER;
    }
    const entries = value.split(',').map((entry) => entry.trim());
    const bad = entries.filter((entry) => !isProxyAddress(entry));
    if (bad.length > 0) {
      ctx.addIssue({
        code: 'custom',
        message: `must be false, a hop count, or addresses / CIDR ranges separated by commas; not: ${bad.join(', ')}`,
      });
      return z.NEVER;
    }
    return entries;
  });

/** Loopback by default: a development service must not be reachable from the network by accident. */
export const host = z.string().min(1).default('127.0.0.1');

export const logLevel = z.enum(logLevels).default('info');

/** The shared variables under their environment names (PORT is per service, see {@link port}). */
export const commonEnv = {
  DATABASE_URL: databaseUrl,
  NATS_URL: natsUrl,
  FUNDTRACE_NAMESPACE: namespace,
  JWT_SECRET: jwtSecret,
  HOST: host,
  LOG_LEVEL: logLevel,
} as const;
