// `npm start`: find or start PostgreSQL and NATS, migrate, start every service,
// load the demo county on first run, print URLs and demo tokens. Ctrl-C stops all.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { createDb, ensureDatabase, migrateToLatest } from '@fundtrace/db';
import {
  databaseUrlFor,
  discoverInfrastructure,
  loadOrCreateDevSecrets,
  signalPolicy,
} from '@fundtrace/devstack';
import { defaultOriginPrefix, parseSigningKey } from '@fundtrace/merkle';
import { signToken } from '@fundtrace/service-kit';
import { demoChain, demoCounty, demoGazetteer, loadDemo, signDemoCheckpoints } from './demo';

const root = join(import.meta.dirname, '..');
/**
 * Secrets, endpoints.json, the demo marker and any private servers. FUNDTRACE_DATA_DIR starts from
 * a clean slate without touching `.data/` (with FUNDTRACE_NAMESPACE and FUNDTRACE_DATABASE_URL the
 * new stack shares no stream, table or secret with the old one; the ports stay 4101–4106).
 */
const dataDir = process.env.FUNDTRACE_DATA_DIR
  ? resolve(process.env.FUNDTRACE_DATA_DIR)
  : join(root, '.data');
/** Services in start order, with their development ports (docs/CONVENTIONS.md). */
export const services = [
  { name: 'registry-api', port: 4102 },
  { name: 'ledger-api', port: 4101 },
  { name: 'projector', port: 4103 },
  { name: 'log-keeper', port: 4104 },
  { name: 'audit-api', port: 4105 },
  { name: 'notice-board', port: 4106 },
] as const;
/** How long a service may take to answer /health after it is started. */
const serviceStartTimeoutMs = 90_000;
/** Demo tokens last a working day. */
const demoTokenTtlSeconds = 12 * 3600;

mkdirSync(dataDir, { recursive: true });
const infra = await discoverInfrastructure({
  dataDir,
  startIfMissing: true,
  log: (l) => console.log(`· ${l}`),
});
for (const note of infra.notes) console.log(`· ${note}`);

const databaseUrl =
  process.env.FUNDTRACE_DATABASE_URL ?? databaseUrlFor(infra.databaseServerUrl, 'fundtrace');
await ensureDatabase(databaseUrl);
{
  const db = createDb(databaseUrl);
  await migrateToLatest(db);
  await db.destroy();
}
console.log('· database migrated');

const secrets = loadOrCreateDevSecrets(dataDir);
// The notice board names the demo county's townships and villages instead of printing their codes.
const gazetteerFile = join(dataDir, 'gazetteer.json');
writeFileSync(gazetteerFile, `${JSON.stringify(demoGazetteer(), null, 2)}\n`);
// audit-api checks proofs against the log-keeper's public key, derived from the dev signing key.
const logOriginPrefix = process.env.LOG_ORIGIN_PREFIX ?? defaultOriginPrefix;
const logVerifierKey = parseSigningKey(logOriginPrefix, secrets.LOG_SIGNING_KEY).verifierKey;
const baseEnv: NodeJS.ProcessEnv = {
  ...process.env,
  ...secrets,
  LOG_ORIGIN_PREFIX: logOriginPrefix,
  LOG_VERIFIER_KEY: logVerifierKey,
  // audit-api runs the rules over every level of the demo chain, so 截留 (money a province or
  // city holds back) is found too, not only the county's warnings.
  AUDIT_PARTITIONS: process.env.AUDIT_PARTITIONS ?? demoChain.join(','),
  NOTICE_GAZETTEER_FILE: process.env.NOTICE_GAZETTEER_FILE ?? gazetteerFile,
  // The same names in the inspectors' 旬报 by township or village.
  AUDIT_GAZETTEER_FILE: process.env.AUDIT_GAZETTEER_FILE ?? gazetteerFile,
  DATABASE_URL: databaseUrl,
  NATS_URL: infra.natsUrl,
  HOST: '127.0.0.1',
  // Request logs would bury the URLs below; LOG_LEVEL=info shows them.
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
};
const urls = Object.fromEntries(services.map((s) => [s.name, `http://127.0.0.1:${s.port}`]));
for (const s of services) baseEnv[`${s.name.toUpperCase().replace('-', '_')}_URL`] = urls[s.name];

const children: ChildProcess[] = [];
let stopping = false;
async function stopAll(code: number): Promise<never> {
  stopping = true;
  console.log('\nstopping services…');
  for (const child of [...children].reverse()) child.kill('SIGTERM');
  await Promise.all(
    children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : null)),
  );
  await infra.stop();
  process.exit(code);
}
// One Ctrl-C arrives several times (relayed by npm, pnpm and tsx): only a later one forces the exit.
const onSignal = signalPolicy();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    const action = onSignal(signal);
    if (action === 'stop' && !stopping) void stopAll(0);
    else if (action === 'force') process.exit(130);
  });
}
// If we die some other way, take the services with us.
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
});

async function waitHealthy(name: string, url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + serviceStartTimeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`${name} exited with code ${child.exitCode}; see its log above`);
    try {
      const response = await fetch(`${url}/health`);
      if (response.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${name} did not answer ${url}/health within ${serviceStartTimeoutMs / 1000} s`);
}

const started: string[] = [];
for (const service of services) {
  const main = join(root, 'services', service.name, 'src', 'main.ts');
  if (!existsSync(main)) continue;
  const child = spawn(process.execPath, ['--import', 'tsx', main], {
    cwd: root,
    env: { ...baseEnv, PORT: String(service.port) },
    stdio: ['ignore', 'inherit', 'inherit'],
    // Its own process group: Ctrl-C reaches only us, and we stop the services in order
    // (a service that also got the terminal's SIGINT would take our SIGTERM as a second signal).
    detached: true,
  });
  children.push(child);
  child.on('exit', (code) => {
    if (!stopping) {
      console.error(`${service.name} stopped unexpectedly (code ${code}); stopping everything`);
      void stopAll(1);
    }
  });
  try {
    await waitHealthy(service.name, urls[service.name]!, child);
  } catch (error) {
    console.error(String(error));
    await stopAll(1);
  }
  started.push(service.name);
}

const tokens = {
  finance: await signToken(
    secrets.JWT_SECRET,
    {
      sub: 'demo-finance',
      role: 'finance',
      org: '内乡县财政局',
      partitions: ['*'],
    },
    demoTokenTtlSeconds,
  ),
  registry: await signToken(
    secrets.JWT_SECRET,
    {
      sub: 'demo-registry',
      role: 'registry',
      org: '内乡县乡村振兴局',
      partitions: [demoCounty],
    },
    demoTokenTtlSeconds,
  ),
  inspector: await signToken(
    secrets.JWT_SECRET,
    {
      sub: 'demo-inspector',
      role: 'inspector',
      org: '内乡县纪委监委',
      partitions: ['*'],
    },
    demoTokenTtlSeconds,
  ),
};
const endpoints = {
  services: Object.fromEntries(started.map((name) => [name, urls[name]])),
  tokens,
  nats: infra.natsUrl,
  database: databaseUrl.replace(/:[^:@/]+@/, ':***@'),
};
const endpointsFile = join(dataDir, 'endpoints.json');
writeFileSync(endpointsFile, `${JSON.stringify(endpoints, null, 2)}\n`);

const demoMarker = join(dataDir, 'demo-loaded.json');
if (!existsSync(demoMarker)) {
  console.log(`· loading the demo county ${demoCounty} (first run only)`);
  const summary = await loadDemo(endpoints);
  writeFileSync(
    demoMarker,
    `${JSON.stringify({ loadedAt: new Date().toISOString(), ...summary }, null, 2)}\n`,
  );
}

// Every start: the books as they stand are signed now, so evidence verifies from the first minute.
for (const problem of await signDemoCheckpoints(endpoints)) console.log(`· not signed: ${problem}`);

console.log('\nfundtrace is running:');
for (const name of started) {
  console.log(`  ${name.padEnd(13)} ${urls[name]}   (API docs ${urls[name]}/docs)`);
}
const endpointsShown = endpointsFile.startsWith(`${root}/`) ? relative(root, endpointsFile) : endpointsFile;
console.log(`\ndemo tokens (Authorization: Bearer …), also in ${endpointsShown}:`);
for (const [role, token] of Object.entries(tokens)) console.log(`  ${role.padEnd(10)} ${token}`);
// The CLI finds endpoints.json and the token secret under the same FUNDTRACE_DATA_DIR.
const cliHint = process.env.FUNDTRACE_DATA_DIR ? ` (with FUNDTRACE_DATA_DIR=${dataDir})` : '';
console.log(`\nCLI: pnpm fundtrace --help${cliHint}      Ctrl-C stops everything.`);
