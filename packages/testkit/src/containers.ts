import { execFile } from 'node:child_process';

/** `docker info` answers within this on a machine that has a daemon; past it, there is none to use. */
const dockerProbeTimeoutMs = 5_000;

/**
 * Whether a container runtime answers (`docker info` reaches a daemon). The rig
 * uses the machine's services (and private servers from installed binaries)
 * whatever the answer: see docs/decisions/0004-test-infrastructure.md for why
 * testcontainers is not a dependency.
 */
export function containerRuntimeAvailable(): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(
      'docker',
      ['info', '--format', '{{.ServerVersion}}'],
      { timeout: dockerProbeTimeoutMs },
      (error, stdout) => {
        resolve(error === null && stdout.trim().length > 0);
      },
    );
  });
}
