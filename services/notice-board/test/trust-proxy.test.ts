import { createTestDatabase, randomToken, type TestDatabase } from '@fundtrace/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app';
import { readConfig } from '../src/config';
import { boardTestConfig } from './support/config';

// TRUST_PROXY on the board itself: its page budget per reader address. Off (the default), a
// reader cannot buy a fresh budget by sending another X-Forwarded-For; behind the configured
// proxy, each reader it forwards has its own budget.
describe('notice board page limits behind a reverse proxy', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });

  const board = (trustProxy: string | undefined) =>
    buildApp(
      boardTestConfig(database.url, {
        NOTICE_PAGES_PER_MINUTE: '2',
        ...(trustProxy === undefined ? {} : { TRUST_PROXY: trustProxy }),
      }),
    );
  const page = async (app: Awaited<ReturnType<typeof board>>, peer: string, reader: string) =>
    (
      await app.inject({
        method: 'GET',
        url: '/',
        remoteAddress: peer,
        headers: { 'x-forwarded-for': reader },
      })
    ).statusCode;

  it('ignores a spoofed X-Forwarded-For when TRUST_PROXY is unset', async () => {
    const app = await board(undefined);
    try {
      expect([
        await page(app, '10.0.0.5', '203.0.113.1'),
        await page(app, '10.0.0.5', '203.0.113.2'),
      ]).toEqual([200, 200]);
      expect(await page(app, '10.0.0.5', '203.0.113.3')).toBe(429);
    } finally {
      await app.close();
    }
  });

  it('counts each reader a trusted proxy forwards, and only from that proxy', async () => {
    const app = await board('10.0.0.5');
    try {
      for (const reader of ['203.0.113.1', '203.0.113.2', '203.0.113.3'])
        expect(await page(app, '10.0.0.5', reader), reader).toBe(200);
      expect(await page(app, '10.0.0.5', '203.0.113.1')).toBe(200);
      expect(await page(app, '10.0.0.5', '203.0.113.1')).toBe(429);
      // Another peer claiming a fresh reader is counted as itself.
      expect([
        await page(app, '10.0.0.9', '203.0.113.7'),
        await page(app, '10.0.0.9', '203.0.113.8'),
      ]).toEqual([200, 200]);
      expect(await page(app, '10.0.0.9', '203.0.113.9')).toBe(429);
    } finally {
      await app.close();
    }
  });

  it('refuses TRUST_PROXY=true at start', () => {
    expect(() => readConfig({ JWT_SECRET: randomToken(40), TRUST_PROXY: 'true' })).toThrow(
      /TRUST_PROXY: true would trust/,
    );
  });
});
