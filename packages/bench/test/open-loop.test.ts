import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { measureGeneratorCeiling, openLoop } from '../src/open-loop';

// The end-to-end phase's load generator against real HTTP servers in this process: it keeps at
// most its window outstanding, stops at its deadline, counts refusals, warms its connections up
// before the clock starts. No timing is asserted beyond "the deadline stopped it".

interface Held {
  url: string;
  server: Server;
  peak: () => number;
  warmUps: () => number;
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** A server that answers each POST after `holdMs` with `status` and a sequence number, counting how many it holds at once. */
async function holdingServer(holdMs: number, status = 201): Promise<Held> {
  let open = 0;
  let peak = 0;
  let seq = 0;
  let warmUps = 0;
  const server = createServer((req, res) => {
    if (req.method === 'GET') {
      warmUps++;
      res.end('ok');
      return;
    }
    open++;
    peak = Math.max(peak, open);
    req.resume();
    req.on('end', () =>
      setTimeout(() => {
        open--;
        seq++;
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ lastSeq: seq }));
      }, holdMs),
    );
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/v1/x`, server, peak: () => peak, warmUps: () => warmUps };
}

const body = (i: number) => JSON.stringify({ commandId: `c-${i}` });

describe('openLoop', () => {
  it('keeps at most its window outstanding and hands every 201 to onAccepted', async () => {
    const held = await holdingServer(50);
    const seqs: number[] = [];
    const result = await openLoop({
      url: held.url,
      headers: {},
      rate: 2_000,
      total: 60,
      inFlightMax: 5,
      body,
      onAccepted: (b) => seqs.push(b.lastSeq as number),
    });
    expect(held.peak()).toBeLessThanOrEqual(5);
    expect(result).toMatchObject({ asked: 60, sent: 60, accepted: 60, failures: 0 });
    expect(seqs.sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(result.acceptLatencies).toHaveLength(60);
  });

  it('stops sending at its deadline and reports what it sent', async () => {
    const held = await holdingServer(100);
    const result = await openLoop({
      url: held.url,
      headers: {},
      rate: 1_000,
      total: 10_000,
      durationMs: 300,
      inFlightMax: 2,
      body,
    });
    expect(result.sent).toBeGreaterThanOrEqual(2);
    expect(result.sent).toBeLessThan(10_000);
    expect(result.accepted).toBe(result.sent);
  });

  it('with an infinite rate is a closed loop: the window stays full until the deadline', async () => {
    const held = await holdingServer(20);
    const result = await openLoop({
      url: held.url,
      headers: {},
      rate: Number.POSITIVE_INFINITY,
      total: Number.MAX_SAFE_INTEGER,
      durationMs: 300,
      inFlightMax: 4,
      body,
    });
    expect(held.peak()).toBe(4);
    // Each freed slot was refilled: more than one window's worth went out, all answered.
    expect(result.sent).toBeGreaterThan(4);
    expect(result).toMatchObject({ accepted: result.sent, failures: 0 });
  });

  it('counts a refusal as a failure, with its status', async () => {
    const held = await holdingServer(0, 409);
    const result = await openLoop({ url: held.url, headers: {}, rate: 500, total: 5, inFlightMax: 5, body });
    expect(result).toMatchObject({ sent: 5, accepted: 0, failures: 5 });
    expect(result.firstFailure).toContain('409');
  });

  it('opens its connections before the clock starts when asked', async () => {
    const held = await holdingServer(0);
    await openLoop({
      url: held.url,
      headers: {},
      rate: 500,
      total: 10,
      inFlightMax: 8,
      socketsMax: 4,
      warmUpPath: '/health',
      body,
    });
    expect(held.warmUps()).toBe(4);
  });
});

describe('measureGeneratorCeiling', () => {
  it('runs the generator against a trivial server in its own process', async () => {
    const ceiling = await measureGeneratorCeiling({
      rate: 200,
      seconds: 1,
      inFlightMax: 16,
      warmUpPath: '/health',
      body,
      headers: { authorization: 'Bearer x' },
    });
    expect(ceiling).toMatchObject({ askedPerS: 200, requests: 200 });
    expect(ceiling.achievedPerS).toBeGreaterThan(0);
  });
});
