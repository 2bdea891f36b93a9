import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { claimPort, freePortProbesMax, freePorts, portClaimTtlMs } from '../src/ports';

// freePorts hands a port to one caller only until its server has had time to bind (decision 0118).
// A private claims directory per test: the machine-wide one is shared with every running test.
const dirs: string[] = [];
const claimsDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'fundtrace-port-claims-test-'));
  dirs.push(dir);
  return dir;
};
/** The kernel's range for `listen(0)` (and outgoing connections). */
const ephemeralRange = () =>
  readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number) as [
    number,
    number,
  ];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('claimPort', () => {
  it('gives a port to the first claimer, refuses it to the next until the claim is stale', () => {
    const dir = claimsDir();
    const now = Date.now();
    expect(claimPort(40_001, now, dir)).toBe(true);
    expect(claimPort(40_001, now + 1_000, dir)).toBe(false);
    expect(claimPort(40_001, now + portClaimTtlMs - 1, dir)).toBe(false);
    expect(claimPort(40_001, now + portClaimTtlMs + 1, dir)).toBe(true);
    expect(claimPort(40_001, now + portClaimTtlMs + 2, dir)).toBe(false);
  });
});

describe('freePorts', () => {
  it('never hands out a port another caller claimed, even when the kernel offers it', async () => {
    // Half of the kernel's ephemeral range claimed by "other test processes": the kernel offers
    // claimed ports all the time, and freePorts must pass over every one of them.
    const dir = claimsDir();
    const [low, high] = ephemeralRange();
    const claimed = new Set<number>();
    for (let port = low; port <= high; port++) {
      if ((port * 2_654_435_761) % 2 ** 32 < 2 ** 31) {
        claimed.add(port);
        writeFileSync(join(dir, String(port)), '');
      }
    }
    const ports = await freePorts(20, { claimsDir: dir });
    expect(new Set(ports).size).toBe(20);
    expect(ports.filter((port) => claimed.has(port))).toEqual([]);
    // And what it handed out is now claimed in turn: a second caller gets other ports.
    const again = await freePorts(20, { claimsDir: dir });
    expect(again.filter((port) => ports.includes(port) || claimed.has(port))).toEqual([]);
  });

  it('names the claims directory when every port the kernel offers is claimed', async () => {
    const dir = claimsDir();
    const [low, high] = ephemeralRange();
    for (let port = low; port <= high; port++) writeFileSync(join(dir, String(port)), '');
    await expect(freePorts(2, { claimsDir: dir })).rejects.toThrow(
      `0 of 2 free TCP ports found after ${freePortProbesMax} probes: every other port the kernel offered is claimed in ${dir}`,
    );
  });
});
