import { spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { trackProcessGroup, untrackProcessGroup } from './cleanup';

export interface ManagedProcess {
  readonly pid: number;
  /** Resolves when the process has exited (for any reason). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  isRunning(): boolean;
  /**
   * Sends a signal to the server's whole tree: its process group and every descendant, since
   * PostgreSQL's backends each start a session of their own (setsid) and a group signal alone
   * would leave them running, or stopped for ever after the postmaster is gone.
   */
  signal(signal: NodeJS.Signals): void;
  /**
   * Freezes the whole tree (SIGSTOP) and resolves once every thread of every process in it is
   * stopped. `kill()` returns before the kernel has stopped a thread running on another core,
   * and a server has been seen to answer a request sent right after the signal.
   */
  freeze(): Promise<void>;
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
  function signal(name: NodeJS.Signals): void {
    // Found before the signal: once a killed postmaster is gone its children belong to init.
    const children = descendants(pid!);
    sendSignal(-pid!, name);
    for (const child of children) sendSignal(child, name);
  }
  return {
    pid,
    exited,
    isRunning: () => running,
    signal,
    async freeze() {
      signal('SIGSTOP');
      await waitUntil(
        async () => {
          if (!running) return true;
          // A child forked between the group signal and the scan is stopped on the next probe.
          const moving = treeNotStopped(pid);
          for (const p of moving) sendSignal(p, 'SIGSTOP');
          return moving.length === 0;
        },
        freezeTimeoutMs,
        () => `process group ${pid} (${command}) did not stop after SIGSTOP`,
      );
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

const freezeTimeoutMs = 10_000;

/** Fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses). */
function statFields(path: string): string[] | undefined {
  try {
    const text = readFileSync(path, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined; // the process or thread is gone
  }
}

function sendSignal(target: number, name: NodeJS.Signals): void {
  try {
    process.kill(target, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

interface ProcessStat {
  readonly pid: number;
  readonly state: string;
  readonly ppid: number;
  readonly pgid: number;
}

function processes(): ProcessStat[] {
  const found: ProcessStat[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(`/proc/${entry}/stat`);
    if (fields === undefined) continue;
    found.push({ pid: Number(entry), state: fields[0]!, ppid: Number(fields[1]), pgid: Number(fields[2]) });
  }
  return found;
}

/** Every process below `root` (children, their children, …), found through /proc. */
function descendants(root: number, all: readonly ProcessStat[] = processes()): number[] {
  const found: number[] = [];
  let frontier = [root];
  while (frontier.length > 0) {
    const parents = new Set(frontier);
    frontier = all.filter((p) => parents.has(p.ppid)).map((p) => p.pid);
    found.push(...frontier);
  }
  return found;
}

/** The processes of `root`'s tree (its group and its descendants) with a thread not yet stopped. */
function treeNotStopped(root: number): number[] {
  const all = processes();
  const tree = new Set([...all.filter((p) => p.pgid === root).map((p) => p.pid), ...descendants(root, all)]);
  const moving: number[] = [];
  for (const pid of tree) {
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue; // gone
    }
    const stopped = tasks.every((task) => {
      const state = statFields(`/proc/${pid}/task/${task}/stat`)?.[0];
      return state === undefined || state === 'T' || state === 'Z' || state === 'X';
    });
    if (!stopped) moving.push(pid);
  }
  return moving;
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
