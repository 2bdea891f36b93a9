import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join, resolve } from 'node:path';

const workspace = resolve(import.meta.dirname, '..', '..', '..', '..');

export interface ProjectorChild {
  readonly process: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL to the whole process group: no shutdown hook runs, nothing is flushed or acked. */
  kill(): Promise<void>;
  /** SIGTERM: the graceful shutdown an orchestrator would ask for. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs the projector service as a real process: `node --import tsx services/projector/src/main.ts`. */
export function spawnProjector(env: Record<string, string>, logFile: string): ProjectorChild {
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn('node', ['--import', 'tsx', join('services', 'projector', 'src', 'main.ts')], {
    cwd: workspace,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'warn', ...env },
  });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => {
    child.once('exit', (code, signal) => done({ code, signal }));
  });
  const signal = (name: NodeJS.Signals) => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, name);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  };
  return {
    process: child,
    exited,
    async kill() {
      signal('SIGKILL');
      await exited;
    },
    async stop() {
      signal('SIGTERM');
      return exited;
    },
  };
}
