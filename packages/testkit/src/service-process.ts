import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePorts } from './ports';
import { type ManagedProcess, StopWaiting, spawnManaged, stopProcess, waitUntil } from './process';

const root = join(import.meta.dirname, '..', '..', '..');

/** How long a service may take to answer /health: tsx compiles on start and the machine is shared. */
export const serviceStartTimeoutMs = 180_000;
/** SIGTERM first; a service still running after this is killed. */
const stopGraceMs = 15_000;

export type ServiceName =
  | 'ledger-api'
  | 'registry-api'
  | 'projector'
  | 'audit-api'
  | 'notice-board'
  | 'log-keeper';

/** A service run as the operator runs it (`node --import tsx services/<name>/src/main.ts`). */
export interface ServiceProcess {
  readonly name: ServiceName;
  readonly url: string;
  readonly port: number;
  readonly logFile: string;
  /** The current process (replaced by `restart`). */
  proc: ManagedProcess;
  /** SIGKILL to the whole process group: no shutdown hook runs. */
  kill(): Promise<void>;
  /** SIGTERM, SIGKILL after a grace period. */
  stop(): Promise<void>;
  /** Starts it again with the same environment, port and log file, and waits for /health. */
  restart(): Promise<void>;
  /** Answers when /health (or `path`) answers 200. */
  waitHealthy(path?: string): Promise<void>;
}

export interface ServiceProcessOptions {
  /** Where `<name><suffix>.log` (stdout and stderr) goes; created if missing. */
  readonly logDir: string;
  /** Default: a free port. */
  readonly port?: number;
  readonly suffix?: string;
}

/**
 * Starts `services/<name>` as its own process group (killed with the test process), with only PATH,
 * HOME, HOST 127.0.0.1, LOG_LEVEL warn and PORT besides `env`, and waits until /health answers; a
 * process that exits first fails at once with its log's tail.
 */
export async function startServiceProcess(
  name: ServiceName,
  env: Record<string, string>,
  options: ServiceProcessOptions,
): Promise<ServiceProcess> {
  const port = options.port ?? (await freePorts(1))[0]!;
  mkdirSync(options.logDir, { recursive: true });
  const logFile = join(options.logDir, `${name}${options.suffix ?? ''}.log`);
  const fullEnv = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    ...env,
    PORT: String(port),
  };
  const launch = () =>
    spawnManaged(process.execPath, ['--import', 'tsx', join(root, 'services', name, 'src', 'main.ts')], {
      cwd: root,
      logFile,
      env: fullEnv,
    });
  const url = `http://127.0.0.1:${port}`;
  const service: ServiceProcess = {
    name,
    url,
    port,
    logFile,
    proc: launch(),
    async kill() {
      service.proc.signal('SIGKILL');
      await service.proc.exited;
    },
    async stop() {
      await stopProcess(service.proc, 'SIGTERM', stopGraceMs);
    },
    async restart() {
      if (service.proc.isRunning()) await service.stop();
      service.proc = launch();
      await service.waitHealthy();
    },
    async waitHealthy(path = '/health') {
      await waitUntil(
        async () => {
          if (!service.proc.isRunning()) throw new StopWaiting(`exited:\n${service.proc.logTail(30)}`);
          const response = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(5_000) });
          return response.ok;
        },
        serviceStartTimeoutMs,
        () => `${name} did not answer ${url}${path}`,
      );
    },
  };
  await service.waitHealthy();
  return service;
}
