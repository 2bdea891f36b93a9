import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultDatabaseServerUrl, defaultNatsUrl } from '@fundtrace/devstack';
import { connectNats } from '@fundtrace/eventlog';
import { freePorts } from '@fundtrace/testkit';
import { jetstreamManager } from '@nats-io/jetstream';
import {
  benchPrefix,
  claimNamespace,
  createMarkedDatabase,
  dropMarkedDatabase,
  newRunToken,
  releaseNamespace,
} from './guard';
import { openLoop } from './open-loop';
import { e2eBody, e2eInFlightMax, e2eSocketsMax, fixedSecrets } from './run';
import { startService, tokensFor } from './stack';
import { percentile } from './stats';

/**
 * Where a single command's time goes in ledger-api: the writer at capacity (OpenAccount, 256
 * requests outstanding, closed loop) with `node --cpu-prof`, then the profile summed by
 * category (idle, GC, our code, the NATS client, fastify/HTTP, zod) and the top self-time frames.
 * Not part of `pnpm bench` (a profiler slows what it watches); run it when the end-to-end rate
 * moves, and write what it shows into packages/bench/ANALYSIS.md.
 *
 *   pnpm exec tsx packages/bench/src/profile-writer.ts [--seconds 15] [--in-flight 256]
 */

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '15' },
    'in-flight': { type: 'string', default: String(e2eInFlightMax) },
  },
});
const seconds = Number(values.seconds);
const inFlightMax = Number(values['in-flight']);
const natsUrl = process.env.NATS_URL ?? defaultNatsUrl;
const serverUrl = process.env.DATABASE_SERVER_URL ?? defaultDatabaseServerUrl;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Which part of the process a frame belongs to, by its script. */
function category(node: ProfileNode): string {
  const { functionName, url } = node.callFrame;
  if (functionName === '(idle)') return 'idle (waiting for NATS, the client, a CPU)';
  if (functionName === '(garbage collector)') return 'garbage collector';
  if (functionName === '(program)') return 'V8 / native (program)';
  if (url.includes('@nats-io')) return 'NATS client';
  if (url.includes('/zod/')) return 'zod (command and event schemas)';
  if (/fastify|find-my-way|avvio|light-my-request|pino|helmet/.test(url)) return 'fastify, logging';
  if (url.includes('packages/events/')) return 'packages/events (encode)';
  if (url.includes('services/ledger-api/')) return 'ledger-api (decide, evolve, writer)';
  if (url.includes('packages/eventlog/')) return 'packages/eventlog (append)';
  if (url.startsWith('node:') || url === '') return 'node core (http, net, streams)';
  return 'other libraries';
}

function short(url: string): string {
  return url.replace(/^.*\/(node_modules\/\.pnpm\/[^/]+\/node_modules\/|work\/main\/)/, '');
}

function summarise(profile: Profile): { categories: [string, number][]; frames: [string, number][] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // A native frame (no script) is named after the nearest caller that has one, so `writeBuffer`
  // says whose bytes it writes.
  const caller = (id: number): string => {
    for (let p = parent.get(id); p !== undefined; p = parent.get(p)) {
      const f = byId.get(p)!.callFrame;
      if (f.url !== '' && !f.url.startsWith('node:'))
        return ` ← ${f.functionName || '(anonymous)'} ${short(f.url)}`;
    }
    return '';
  };
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const categories = new Map<string, number>();
  const frames = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    const c = category(node);
    categories.set(c, (categories.get(c) ?? 0) + us);
    const f = node.callFrame;
    const native = f.url === '' || f.url.startsWith('node:');
    const key = `${f.functionName || '(anonymous)'} ${short(f.url)}:${f.lineNumber + 1}${native ? caller(id) : ''}`;
    frames.set(key, (frames.get(key) ?? 0) + us);
  }
  const sorted = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]);
  return { categories: sorted(categories), frames: sorted(frames).slice(0, 20) };
}

const token = newRunToken();
const ns = `${benchPrefix}${token}p`;
const dbName = `${benchPrefix}_${token}_p`;
const nc = await connectNats(natsUrl, { name: 'fundtrace-bench-profile' });
const jsm = await jetstreamManager(nc);
const profileDir = mkdtempSync(join(tmpdir(), 'fundtrace-profile-'));
try {
  await claimNamespace(jsm, ns, token);
  const url = await createMarkedDatabase(serverUrl, dbName, token);
  const secrets = fixedSecrets();
  const [port] = await freePorts(1);
  const ledger = await startService(
    'ledger-api',
    port!,
    {
      natsUrl,
      databaseUrl: url,
      ns,
      secrets,
      partitions: { ledger: ['411325'], counties: ['411325'] },
    },
    {},
    ['--cpu-prof', `--cpu-prof-dir=${profileDir}`],
  );
  const { finance } = await tokensFor(secrets.JWT_SECRET);
  // Closed loop through the end-to-end phase's own client (src/open-loop.ts: node:http keep-alive,
  // connections opened before the clock, one waiter for a free slot). fetch cost 516–1,158 µs of
  // CPU a request against the trivial server, node:http 150–252 µs, and a Promise.race over the
  // window is O(window) a request: on the same two cores that was CPU taken from ledger-api.
  const sockets = Math.min(inFlightMax, e2eSocketsMax);
  const load = await openLoop({
    url: `${ledger.url}/v1/partitions/411325/accounts`,
    headers: { authorization: `Bearer ${finance}` },
    rate: Number.POSITIVE_INFINITY,
    total: Number.MAX_SAFE_INTEGER,
    durationMs: seconds * 1000,
    inFlightMax,
    socketsMax: sockets,
    warmUpPath: '/health',
    body: (i) => e2eBody(ns, i),
  });
  await ledger.stop();
  const accepted = load.acceptLatencies;
  console.log(
    `${load.accepted} commands accepted in ${(load.ms / 1000).toFixed(1)} s = ${load.achievedPerS}/s with ${inFlightMax} outstanding on ${sockets} connections (${load.failures} failed${load.failures > 0 ? `, first: ${load.firstFailure}` : ''}); request → 201 p50 ${percentile(accepted, 0.5).toFixed(1)} ms, p99 ${percentile(accepted, 0.99).toFixed(1)} ms; client ${load.cpuUsPerRequest} µs CPU a request; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
  if (file === undefined) throw new Error(`ledger-api wrote no profile into ${profileDir}`);
  const { categories, frames } = summarise(
    JSON.parse(readFileSync(join(profileDir, file), 'utf8')) as Profile,
  );
  const total = categories.reduce((a, [, us]) => a + us, 0);
  console.log('\nledger-api wall time by category (whole process life: start, load, stop)');
  for (const [c, us] of categories) console.log(`  ${((us / total) * 100).toFixed(1).padStart(5)} %  ${c}`);
  console.log('\ntop self-time frames');
  for (const [f, us] of frames) console.log(`  ${((us / total) * 100).toFixed(1).padStart(5)} %  ${f}`);
} finally {
  await releaseNamespace(jsm, ns, token).catch((e: unknown) => console.error(String(e)));
  await dropMarkedDatabase(serverUrl, dbName, token).catch((e: unknown) => console.error(String(e)));
  await nc.close();
  rmSync(profileDir, { recursive: true, force: true });
}
