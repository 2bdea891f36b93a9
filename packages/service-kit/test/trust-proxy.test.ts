import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  type App,
  ConfigError,
  createApp,
  createLogger,
  limitPerAddress,
  loadConfig,
  type TrustProxy,
  trustProxy,
} from '../src/index';

/**
 * TRUST_PROXY: who may name the client's address for per-address rate limits. Off, a forged
 * X-Forwarded-For changes nothing (every request of one peer shares its budget); on, the address a
 * trusted proxy forwards is the client's, and a header from a peer that is not a trusted proxy is
 * still ignored.
 */

const perMinute = 2;

async function limitedApp(trust: TrustProxy | undefined): Promise<App> {
  const app = await createApp({
    name: 'proxy-test',
    version: '0',
    description: 'trustProxy test',
    logger: createLogger({ name: 'proxy-test', level: 'silent' }),
    auth: false,
    ...(trust === undefined ? {} : { trustProxy: trust }),
  });
  await limitPerAddress(app, perMinute);
  app.get('/page', async (request) => ({ ip: request.ip }));
  await app.ready();
  return app;
}

/** Status codes of `count` requests from `peer` carrying `forwarded` (or no header). */
async function statuses(app: App, peer: string, forwarded: string | null, count = 1): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const response = await app.inject({
      method: 'GET',
      url: '/page',
      remoteAddress: peer,
      headers: forwarded === null ? {} : { 'x-forwarded-for': forwarded },
    });
    out.push(response.statusCode);
  }
  return out;
}

async function ipSeen(app: App, peer: string, forwarded: string): Promise<string> {
  const response = await app.inject({
    method: 'GET',
    url: '/page',
    remoteAddress: peer,
    headers: { 'x-forwarded-for': forwarded },
  });
  return response.json().ip;
}

const proxy = '10.0.0.5';

describe('trustProxy and per-address limits', () => {
  it('off (the default): a spoofed X-Forwarded-For is ignored, one peer is one budget', async () => {
    for (const trust of [undefined, false] as const) {
      const app = await limitedApp(trust);
      try {
        expect(await ipSeen(app, proxy, '203.0.113.1')).toBe(proxy);
        // Each request claims another client; all count against the peer's one budget.
        expect(await statuses(app, proxy, '203.0.113.2')).toEqual([200]);
        expect(await statuses(app, proxy, '203.0.113.3')).toEqual([429]);
        expect(await statuses(app, '10.0.0.6', '203.0.113.2')).toEqual([200]);
      } finally {
        await app.close();
      }
    }
  });

  it('a trusted proxy (address or CIDR): each forwarded client has its own budget; others still cannot forge', async () => {
    for (const trust of [
      [proxy],
      ['10.0.0.0/24'],
      loadConfig(z.object({ T: trustProxy }), { T: '10.0.0.0/24, ::1' }).T,
    ]) {
      const app = await limitedApp(trust);
      try {
        expect(await ipSeen(app, proxy, '203.0.113.1')).toBe('203.0.113.1');
        expect(await statuses(app, proxy, '203.0.113.1', 2)).toEqual([200, 429]);
        expect(await statuses(app, proxy, '203.0.113.9', 3)).toEqual([200, 200, 429]);
        // A peer outside the trusted range: its header is ignored, its own address is limited.
        const outsider = '198.51.100.7';
        expect(await ipSeen(app, outsider, '203.0.113.50')).toBe(outsider);
        expect(await statuses(app, outsider, '203.0.113.51')).toEqual([200]);
        expect(await statuses(app, outsider, '203.0.113.52')).toEqual([429]);
      } finally {
        await app.close();
      }
    }
  });

  it('a hop count trusts only that many proxies: what a client prepends is not its address', async () => {
    const app = await limitedApp(1);
    try {
      // The client forged "1.1.1.1"; the one proxy appended the address it saw.
      expect(await ipSeen(app, proxy, '1.1.1.1, 203.0.113.7')).toBe('203.0.113.7');
      expect(await statuses(app, proxy, '1.1.1.1, 203.0.113.7')).toEqual([200]);
      expect(await statuses(app, proxy, '9.9.9.9, 203.0.113.7')).toEqual([429]);
    } finally {
      await app.close();
    }
  });
});

describe('TRUST_PROXY', () => {
  const parse = (value: string | undefined) =>
    loadConfig(z.object({ TRUST_PROXY: trustProxy }), { TRUST_PROXY: value }).TRUST_PROXY;

  it('reads off, hop counts and address lists', () => {
    for (const off of [undefined, '', 'false', '0', ' ']) expect(parse(off), String(off)).toBe(false);
    expect(parse('1')).toBe(1);
    expect(parse('10')).toBe(10);
    expect(parse('10.0.0.1')).toEqual(['10.0.0.1']);
    expect(parse('10.0.0.0/8, 192.168.1.0/24,fd00::/8,::1,loopback')).toEqual([
      '10.0.0.0/8',
      '192.168.1.0/24',
      'fd00::/8',
      '::1',
      'loopback',
    ]);
  });

  it.each([
    ['true', /true would trust any client/],
    ['11', /hop count must be 1–10/],
    ['10.0.0.0/33', /not: 10.0.0.0\/33/],
    ['proxy.example.com', /not: proxy.example.com/],
    ['10.0.0.1,,10.0.0.2', /addresses \/ CIDR ranges/],
    ['::1/129', /not: ::1\/129/],
    ['10.0.0.1/8/8', /not: 10.0.0.1\/8\/8/],
  ])('refuses %s by name', (value, message) => {
    expect(() => parse(value)).toThrow(ConfigError);
    expect(() => parse(value)).toThrow(message);
  });
});
