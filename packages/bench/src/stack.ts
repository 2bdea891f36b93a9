import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { signToken } from '@fundtrace/service-kit';

/**
 * The services under test, run as the operator runs them (`tsx services/<name>/src/main.ts`),
 * as children of the bench process: one process tree, nothing left behind.
 */

export const repoRoot = join(import.meta.dirname, '..', '..', '..');
/** A service answering /health later than this is broken, not slow (a 1M-event rebuild is ~30 s). */
const serviceStartTimeoutMs = 300_000;
/** Tokens outlive the longest run (the whole bench must finish in 30 minutes). */
const tokenTtlSeconds = 4 * 3600;

export type ServiceName =
  | 'registry-api'
  | 'ledger-api'
  | 'projector'
  | 'notice-board'
  | 'audit-api'
  | 'log-keeper';

export interface RunningService {
  name: ServiceName;
  url: string;
  child: ChildProcess;
  /** Milliseconds from spawn to the first healthy answer (includes the writer's rebuild). */
  startMs: number;
  stop(): Promise<void>;
  /** Resident memory of the process now, from /proc (bytes); null where /proc is absent. */
  rssBytes(): number | null;
}

/** Every service this process started and has not stopped, for an interrupted run to stop them. */
const running = new Set<RunningService>();

/** Stops every service still running (an interrupted run: nothing is left behind). */
export async function stopAllServices(): Promise<void> {
  await Promise.all([...running].map((s) => s.stop()));
}

export interface StackEnv {
  natsUrl: string;
  databaseUrl: string;
  ns: string;
  secrets: Record<string, string>;
  partitions: { ledger: string[]; counties: string[] };
}

export async function startService(
  name: ServiceName,
  port: number,
  env: StackEnv,
  extra: Record<string, string> = {},
  /** Node options before the script (e.g. `--cpu-prof`, which NODE_OPTIONS refuses). */
  nodeArgs: readonly string[] = [],
): Promise<RunningService> {
  const main = join(repoRoot, 'services', name, 'src', 'main.ts');
  const started = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', main], {
    cwd: repoRoot,
    env: {
      ...process.env,
      ...env.secrets,
      NATS_URL: env.natsUrl,
      DATABASE_URL: env.databaseUrl,
      FUNDTRACE_NAMESPACE: env.ns,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      LEDGER_PARTITIONS: env.partitions.ledger.join(','),
      REGISTRY_PARTITIONS: env.partitions.counties.join(','),
      AUDIT_PARTITIONS: env.partitions.counties.join(','),
      ...extra,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + serviceStartTimeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode}: ${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} did not answer /health within ${serviceStartTimeoutMs / 1000} s: ${stderr}`);
    }
    try {
      const response = await fetch(`${url}/health`);
      if (response.ok) break;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  const startMs = performance.now() - started;
  const service: RunningService = {
    name,
    url,
    child,
    startMs,
    rssBytes: () => {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
        const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
        return kb === undefined ? null : Number(kb) * 1024;
      } catch {
        return null;
      }
    },
    stop: async () => {
      running.delete(service);
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
  running.add(service);
  return service;
}

export async function tokensFor(secret: string): Promise<{ finance: string; registry: string }> {
  const claims = (role: string) => ({
    sub: `bench-${role}`,
    role,
    org: 'fundtrace-bench',
    partitions: ['*'],
  });
  return {
    finance: await signToken(secret, claims('finance') as never, tokenTtlSeconds),
    registry: await signToken(secret, claims('registry') as never, tokenTtlSeconds),
  };
}
