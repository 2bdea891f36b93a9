import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { trackDirectory, untrackDirectory } from './cleanup';
import { testConfig } from './config';
import { freePorts } from './ports';
import { type ManagedProcess, StopWaiting, spawnManaged, stopProcess, waitUntil } from './process';

/** How long a (re)started PostgreSQL may take to accept connections (crash recovery included). */
const postgresReadyTimeoutMs = 60_000;
/** SIGTERM is "smart shutdown" (waits for clients); SIGINT is "fast" and what a test wants. */
const postgresStopGraceMs = 15_000;
/** The OS user PostgreSQL refuses to run without (it will not run as root). */
const postgresOsUser = 'postgres';

export interface PrivatePostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`, trust auth. */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  pid(): number | undefined;
  isRunning(): boolean;
  /** Signals the postmaster and its backends (SIGKILL: a crash); resolves when a killing signal took effect. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Freezes the server and every backend (SIGSTOP): connections hang, as on a stalled host. */
  pause(): Promise<void>;
  resume(): void;
  /** Starts it again on the same port and data (stopping it first if it runs); waits for connections. */
  restart(): Promise<void>;
  /** Stops it and removes its data. */
  stop(): Promise<void>;
}

function osUserIds(user: string): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

async function acceptsQueries(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query('select 1');
    return true;
  } finally {
    await client.end();
  }
}

/**
 * Starts a private PostgreSQL (the machine's installed binaries) in a temp dir on a
 * free port with trust auth, for fault tests that kill, pause and restart it.
 * Running as root, the server runs as the `postgres` OS user (spawned with its uid,
 * the equivalent of `runuser -u postgres --`), and its dir is owned by that user.
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = testConfig.postgresBinDir;
  const ids = process.getuid?.() === 0 ? osUserIds(postgresOsUser) : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'ft-pg-'));
  trackDirectory(dir);
  const dataDir = join(dir, 'data');
  const socketDir = join(dir, 'socket');
  mkdirSync(dataDir, { mode: 0o700 });
  mkdirSync(socketDir);
  if (ids !== undefined) for (const path of [dir, dataDir, socketDir]) chownSync(path, ids.uid, ids.gid);
  const [port] = await freePorts(1);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;

  // --no-sync: initdb's own fsyncs only matter for a machine crash during setup.
  execFileSync(
    join(bin, 'initdb'),
    ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync'],
    { cwd: dir, stdio: 'pipe', ...(ids ?? {}) },
  );

  let proc: ManagedProcess | undefined;
  const start = async () => {
    proc = spawnManaged(
      join(bin, 'postgres'),
      [
        '-D',
        dataDir,
        '-p',
        String(port),
        '-k',
        socketDir,
        '-c',
        'listen_addresses=127.0.0.1',
        // Small: several private servers and the machine's own share 24 GiB.
        '-c',
        'shared_buffers=32MB',
        '-c',
        'max_connections=40',
      ],
      { cwd: dir, logFile: join(dir, 'postgres.log'), ...(ids ?? {}) },
    );
    const started = proc;
    await waitUntil(
      async () => {
        if (!started.isRunning()) throw new StopWaiting('postgres exited');
        return acceptsQueries(url);
      },
      postgresReadyTimeoutMs,
      () => `private PostgreSQL on port ${port} did not accept connections:\n${started.logTail()}`,
    );
  };
  const stopServer = async () => {
    if (proc !== undefined) await stopProcess(proc, 'SIGINT', postgresStopGraceMs);
  };

  try {
    await start();
  } catch (error) {
    await stopServer();
    throw error;
  }

  return {
    url,
    port: port!,
    dataDir,
    pid: () => proc?.pid,
    isRunning: () => proc?.isRunning() ?? false,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      const current = proc;
      if (current === undefined || !current.isRunning()) return;
      current.signal(signal);
      if (signal === 'SIGKILL' || signal === 'SIGTERM' || signal === 'SIGINT' || signal === 'SIGQUIT') {
        await current.exited;
      }
    },
    async pause() {
      await proc?.freeze();
    },
    resume() {
      proc?.signal('SIGCONT');
    },
    async restart() {
      await stopServer();
      // After a SIGKILL, backends may still hold the old shared memory for a moment;
      // the new postmaster refuses to start until they are gone, so retry the start.
      await waitUntil(
        async () => {
          try {
            await start();
            return true;
          } catch (error) {
            await stopServer();
            throw error;
          }
        },
        postgresReadyTimeoutMs,
        () => `private PostgreSQL on port ${port} did not restart:\n${proc?.logTail() ?? ''}`,
      );
    },
    async stop() {
      await stopServer();
      rmSync(dir, { recursive: true, force: true });
      untrackDirectory(dir);
    },
  };
}
