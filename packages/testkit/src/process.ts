import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { trackProcessGroup, untrackProcessGroup } from './cleanup';

export interface ManagedProcess {
  readonly pid: number;
  /** Resolves when the process has exited (for any reason). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  isRunning(): boolean;
  /** Sends a signal to the whole process group (a server and the children it forked). */
  signal(signal: NodeJS.Signals): void;
  /** The last lines of its combined output, for error messages. */
  logTail(lines?: number): string;
}

export interface SpawnOptions {
  readonly cwd: string;
  /** Combined stdout and stderr go here (appended). */
  readonly logFile: string;
  readonly uid?: number;
  readonly gid?: number;
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Starts a server as the leader of its own process group, so that a signal reaches
 * every process it forks (PostgreSQL's backends pause and die with the postmaster),
 * and registers it for killing when the test process ends.
 */
export function spawnManaged(
  command: string,
  args: readonly string[],
  options: SpawnOptions,
): ManagedProcess {
  const log = openSync(options.logFile, 'a');
  const child = spawn(command, [...args], {
    cwd: options.cwd,
    detached: true,
    stdio: ['ignore', log, log],
    env: options.env ?? process.env,
    ...(options.uid === undefined ? {} : { uid: options.uid }),
    ...(options.gid === undefined ? {} : { gid: options.gid }),
  });
  closeSync(log);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${command}`);
  trackProcessGroup(pid);
  let running = true;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      running = false;
      untrackProcessGroup(pid);
      resolve({ code, signal });
    });
  });
  // Do not keep the test process alive just because a server runs.
  child.unref();
  return {
    pid,
    exited,
    isRunning: () => running,
    signal(signal) {
      try {
        process.kill(-pid, signal);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      }
    },
    logTail(lines = 20) {
      try {
        return readFileSync(options.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
      } catch {
        return '';
      }
    },
  };
}

/** Thrown by a probe to end `waitUntil` at once (the process it waits for has exited). */
export class StopWaiting extends Error {
  override name = 'StopWaiting';
}

/**
 * Polls `probe` until it resolves true, or throws after `timeoutMs` with `describe()`.
 * A probe that throws is retried (the server is not up yet), except with `StopWaiting`.
 */
export async function waitUntil(
  probe: () => Promise<boolean>,
  timeoutMs: number,
  describe: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await probe()) return;
    } catch (error) {
      if (error instanceof StopWaiting) throw new Error(`${describe()} (${error.message})`);
      lastError = error;
    }
    if (Date.now() > deadline) {
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`${describe()}${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Stops a process: `signal` first, SIGKILL if it is still there after `graceMs`. */
export async function stopProcess(
  proc: ManagedProcess,
  signal: NodeJS.Signals,
  graceMs: number,
): Promise<void> {
  if (!proc.isRunning()) return;
  proc.signal(signal);
  // A paused (SIGSTOP) server only acts on the signal once it runs again.
  proc.signal('SIGCONT');
  const timer = setTimeout(() => proc.signal('SIGKILL'), graceMs);
  await proc.exited;
  clearTimeout(timer);
}
