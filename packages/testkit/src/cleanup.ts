import { rmSync } from 'node:fs';

/**
 * Servers and temp dirs that must not outlive the test process, whatever way it
 * ends: normal exit, an uncaught error, SIGINT/SIGTERM. Cleanup on `exit` must be
 * synchronous, so it only sends SIGKILL to process groups and removes directories.
 */
const processGroups = new Set<number>();
const directories = new Set<string>();
let installed = false;

function cleanupSync(): void {
  for (const pgid of processGroups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  processGroups.clear();
  for (const dir of directories) rmSync(dir, { recursive: true, force: true });
  directories.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', cleanupSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      cleanupSync();
      // Re-raise with the default handler now that ours is gone.
      process.kill(process.pid, signal);
    });
  }
}

/** Kill this process group (a server and its children) when the test process ends. */
export function trackProcessGroup(pgid: number): void {
  install();
  processGroups.add(pgid);
}

export function untrackProcessGroup(pgid: number): void {
  processGroups.delete(pgid);
}

/** Remove this directory when the test process ends. */
export function trackDirectory(dir: string): void {
  install();
  directories.add(dir);
}

export function untrackDirectory(dir: string): void {
  directories.delete(dir);
}

/**
 * Runs every cleanup step in order even when one before it fails (NATS down after a fault test must
 * not leave the database behind), then throws the first failure.
 */
export async function runEveryStep(steps: ReadonlyArray<() => unknown>): Promise<void> {
  const failures: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      failures.push(error);
    }
  }
  if (failures.length > 0) throw failures[0];
}
