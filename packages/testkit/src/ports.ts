import { closeSync, mkdirSync, openSync, readdirSync, statSync, unlinkSync, utimesSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Where handed-out ports are noted, one empty file per port, shared by every test process on the
 * machine (both workers of a run and every other engineer's runs use this testkit).
 */
export const portClaimsDir = join(tmpdir(), 'fundtrace-test-ports');

/**
 * How long a handed-out port stays off limits to other freePorts callers: longer than a service
 * takes from the probe to its bind (a tsx compile, 15-60 s on the loaded machine) and than a
 * private server's kill-and-restart on the same port in a fault test.
 */
export const portClaimTtlMs = 15 * 60_000;

/**
 * Claims `port` for this caller unless another caller claimed it less than `portClaimTtlMs` ago.
 * An O_EXCL create decides between two claimers at once; a stale claim is taken over.
 */
export function claimPort(port: number, nowMs = Date.now(), claimsDir = portClaimsDir): boolean {
  mkdirSync(claimsDir, { recursive: true });
  const file = join(claimsDir, String(port));
  try {
    closeSync(openSync(file, 'wx'));
    // The claim's time is `nowMs`, not the file system's coarse clock (it lags Date.now by up to
    // a tick, which made a claim look older than it was).
    utimesSync(file, nowMs / 1000, nowMs / 1000);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  let claimedAt: number;
  try {
    claimedAt = statSync(file).mtimeMs;
  } catch {
    return claimPort(port, nowMs, claimsDir); // removed in between: try the exclusive create again
  }
  if (nowMs - claimedAt < portClaimTtlMs) return false;
  // Stale: refresh it. Two callers taking over the same stale claim at the same instant both win;
  // that needs the kernel to offer one port to both within the same moment, past the TTL.
  utimesSync(file, nowMs / 1000, nowMs / 1000);
  return true;
}

/** Ports the kernel may offer to one freePorts call before it gives up (each held open meanwhile). */
export const freePortProbesMax = 1_000;

/** Removes claims older than the TTL (so the directory does not grow without bound). */
function sweepStaleClaims(nowMs: number, claimsDir: string): void {
  let names: string[];
  try {
    names = readdirSync(claimsDir);
  } catch {
    return;
  }
  for (const name of names) {
    try {
      const file = join(claimsDir, name);
      if (nowMs - statSync(file).mtimeMs > 2 * portClaimTtlMs) unlinkSync(file);
    } catch {
      // Another process swept or refreshed it.
    }
  }
}

/**
 * `count` distinct free TCP ports on 127.0.0.1, all held open together while choosing so that
 * they differ. Between this call and the server's bind (tsx compiles for 15-60 s under load) the
 * kernel would hand the same port to the next `listen(0)` of another test process, and two servers
 * would race for it (EADDRINUSE: a failed file by chance). So every port handed out is claimed in
 * `portClaimsDir` for `portClaimTtlMs`, and a port someone else claimed is skipped (kept open while
 * choosing, so the kernel offers another). Decision 0118. What remains: a port taken meanwhile by
 * a process that does not use this function; servers fail loudly then.
 */
export async function freePorts(count: number, options: { claimsDir?: string } = {}): Promise<number[]> {
  const claimsDir = options.claimsDir ?? portClaimsDir;
  const servers: Server[] = [];
  const nowMs = Date.now();
  sweepStaleClaims(nowMs, claimsDir);
  try {
    const ports: number[] = [];
    for (let probes = 0; ports.length < count; probes++) {
      if (probes >= freePortProbesMax)
        throw new Error(
          `${ports.length} of ${count} free TCP ports found after ${freePortProbesMax} probes: every other port ` +
            `the kernel offered is claimed in ${claimsDir} (a claim holds a port ${portClaimTtlMs / 60_000} min; ` +
            'remove the directory if no other test run is going on)',
        );
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
      });
      const address = server.address();
      if (address === null || typeof address === 'string')
        throw new Error('no TCP address for a probe socket');
      if (claimPort(address.port, nowMs, claimsDir)) ports.push(address.port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }
}
