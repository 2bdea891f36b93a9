// Types: packages/bench/src/autocannon.d.ts declares the part of autocannon's API used here.
import { loadavg } from 'node:os';
import autocannon from 'autocannon';
import { z } from 'zod';
import {
  type App,
  createApp,
  createLogger,
  requireRole,
  signToken,
  type TokenCacheOptions,
  TokenVerifier,
  verifyToken,
} from '../src/index';

/**
 * Requests/s of one small guarded route with every request's token verified (before decision
 * 0044) and with verified tokens remembered, beside the same route without auth (the kit's own
 * ceiling, measured in the same run). Usage:
 *   pnpm --filter @fundtrace/service-kit bench:token-cache -- [--seconds 5] [--rounds 2] [--connections 20] [--json]
 * The variants run interleaved, round by round, so a neighbour's load falls on all of them.
 */

const secret = 'bench-secret-0123456789abcdefghijklmnop';

type Variant = 'no_auth' | 'verify_every_request' | 'remembered_tokens';
const variants: readonly Variant[] = ['no_auth', 'verify_every_request', 'remembered_tokens'];

async function routeApp(
  auth: false | { secret: string; tokenCache: TokenCacheOptions | false },
): Promise<App> {
  const app = await createApp({
    name: 'token-cache-bench',
    version: '0',
    description: 'One route, guarded or not.',
    logger: createLogger({ name: 'token-cache-bench', level: 'warn' }),
    auth,
  });
  const params = z.object({ partition: z.string().regex(/^\d{6}$/) });
  const response = { 200: z.object({ partition: z.string(), sub: z.string() }) };
  if (auth === false) {
    app.get('/v1/partitions/:partition/ping', { schema: { params, response } }, async (request) => ({
      partition: request.params.partition,
      sub: 'anonymous',
    }));
  } else {
    app.get(
      '/v1/partitions/:partition/ping',
      {
        onRequest: requireRole(['finance'], {
          partition: (r) => (r.params as { partition: string }).partition,
        }),
        schema: { params, response },
      },
      async (request) => ({ partition: request.params.partition, sub: request.user?.sub ?? '' }),
    );
  }
  await app.listen({ port: 0, host: '127.0.0.1' });
  return app;
}

function flag(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index < 0 ? fallback : Number(process.argv[index + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
  return value;
}

const seconds = flag('seconds', 5);
const rounds = flag('rounds', 2);
const connections = flag('connections', 20);
const round2 = (xs: number[]) => xs.map((x) => Math.round(x * 100) / 100);

const loadStart = round2(loadavg());
const apps: Record<Variant, App> = {
  no_auth: await routeApp(false),
  verify_every_request: await routeApp({ secret, tokenCache: false }),
  remembered_tokens: await routeApp({ secret, tokenCache: {} }),
};
// A handful of users, as a county's finance office: each sends its own token again and again.
const tokens = await Promise.all(
  Array.from({ length: 8 }, (_, i) =>
    signToken(secret, { sub: `u-${i}`, role: 'finance', org: '内乡县财政局', partitions: ['411325'] }, 3600),
  ),
);
// The verification alone, in this process: microseconds per token, every time vs remembered.
async function microsecondsPerVerify(
  verify: (token: string) => Promise<unknown>,
  count: number,
): Promise<number> {
  const started = process.hrtime.bigint();
  for (let i = 0; i < count; i++) await verify(tokens[i % tokens.length]!);
  return Number(process.hrtime.bigint() - started) / 1000 / count;
}
const verifier = new TokenVerifier(secret);
const verifyCount = 20_000;
await microsecondsPerVerify((token) => verifyToken(secret, token), 1000); // warm up
const verifyMicros = {
  verifyToken: await microsecondsPerVerify((token) => verifyToken(secret, token), verifyCount),
  remembered: await microsecondsPerVerify((token) => verifier.verify(token), verifyCount),
};
const perSecond: Record<Variant, number[]> = { no_auth: [], verify_every_request: [], remembered_tokens: [] };
// CPU time of this process (server and load generator) per request: unlike requests/s, it hardly
// moves when neighbours take the cores, and the generator's share is the same in every variant.
const cpuMicrosPerRequest: Record<Variant, number[]> = {
  no_auth: [],
  verify_every_request: [],
  remembered_tokens: [],
};
/** One autocannon run against `variant`: requests/s and this process's CPU µs per request. */
async function load(variant: Variant, duration: number): Promise<{ perSecond: number; cpuMicros: number }> {
  const address = apps[variant].server.address() as { port: number };
  // Each connection carries one user's token. (A variable, not a literal: the shared
  // declaration of autocannon's options leaves setupClient out.)
  const options = {
    url: `http://127.0.0.1:${address.port}/v1/partitions/411325/ping`,
    connections,
    duration,
    setupClient: (client: { setHeaders: (headers: Record<string, string>) => void }) => {
      client.setHeaders({ authorization: `Bearer ${tokens[Math.floor(Math.random() * tokens.length)]}` });
    },
  };
  const cpuBefore = process.cpuUsage();
  const result = await autocannon(options);
  const cpu = process.cpuUsage(cpuBefore);
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${variant}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  return {
    perSecond: result.requests.average,
    cpuMicros: (cpu.user + cpu.system) / (result.requests.average * duration),
  };
}
/** Long enough for the JIT to settle on each route before anything counts. */
const warmUpSeconds = 2;
try {
  for (const variant of variants) await load(variant, warmUpSeconds);
  for (let round = 0; round < rounds; round++) {
    // Each round starts with another variant, so no variant always runs first after a pause.
    const order = variants.map((_, i) => variants[(i + round) % variants.length]!);
    for (const variant of order) {
      const measured = await load(variant, seconds);
      perSecond[variant].push(measured.perSecond);
      cpuMicrosPerRequest[variant].push(measured.cpuMicros);
    }
  }
} finally {
  for (const app of Object.values(apps)) await app.close();
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const ceiling = mean(perSecond.no_auth);
const report = {
  seconds,
  rounds,
  connections,
  loadAverageStart: loadStart,
  loadAverageEnd: round2(loadavg()),
  requestsPerSecond: Object.fromEntries(variants.map((v) => [v, Math.round(mean(perSecond[v]))])),
  ratioToNoAuth: Object.fromEntries(
    variants.map((v) => [v, Math.round((mean(perSecond[v]) / ceiling) * 1000) / 1000]),
  ),
  rememberedOverVerified:
    Math.round((mean(perSecond.remembered_tokens) / mean(perSecond.verify_every_request)) * 1000) / 1000,
  cpuMicrosecondsPerRequest: Object.fromEntries(
    variants.map((v) => [v, Math.round(mean(cpuMicrosPerRequest[v]) * 10) / 10]),
  ),
  perRound: perSecond,
  microsecondsPerVerification: {
    verifyToken: Math.round(verifyMicros.verifyToken * 10) / 10,
    remembered: Math.round(verifyMicros.remembered * 10) / 10,
  },
};
if (process.argv.includes('--json')) console.log(JSON.stringify(report, null, 2));
else {
  console.log(`token cache bench: ${connections} connections, ${rounds} × ${seconds} s per variant`);
  console.log(`load average ${loadStart.join(' ')} → ${report.loadAverageEnd.join(' ')}`);
  for (const v of variants) {
    console.log(
      `  ${v.padEnd(22)} ${String(report.requestsPerSecond[v]).padStart(7)} req/s  ${report.ratioToNoAuth[v]} of no auth  ${report.cpuMicrosecondsPerRequest[v]} µs CPU/request`,
    );
  }
  console.log(`  remembered / verified: ${report.rememberedOverVerified}`);
  const micros = report.microsecondsPerVerification;
  console.log(
    `  one verification: ${micros.verifyToken} µs (verifyToken), ${micros.remembered} µs (remembered)`,
  );
}
