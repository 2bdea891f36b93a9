import { migrateToLatest, setActiveSchema } from '@fundtrace/db';
import { createTestDatabase, databaseUrlOn, freePorts, type TestDatabase } from '@fundtrace/testkit';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, createLogger, dbPlugin, natsPlugin } from '../src/index';
import { logCapture } from './sample-app';

const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => database.drop());

async function bareApp() {
  const logs = logCapture();
  const app = await createApp({
    name: 'plugins',
    version: '0',
    description: 'plugin tests',
    logger: createLogger({ name: 'plugins', destination: logs.stream }),
    auth: false,
  });
  return { app, logs };
}

describe('natsPlugin and dbPlugin against the real servers', () => {
  it('decorate the app, report ready, and close their connections with the app', async () => {
    const { app } = await bareApp();
    await app.register(natsPlugin, { url: natsUrl, name: 'plugins-test' });
    await app.register(dbPlugin, { url: database.url, applicationName: 'plugins-test' });

    const ready = await app.inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json().checks).toEqual({ nats: 'ok', postgres: 'ok' });

    const { rows } = await sql<{ name: string; big: bigint }>`
      select application_name as name, 4611686018427387904::int8 as big
      from pg_stat_activity where pid = pg_backend_pid()`.execute(app.db);
    expect(rows[0]).toEqual({ name: 'plugins-test', big: 4611686018427387904n });
    const account = await app.jsm.getAccountInfo();
    expect(account.api.total).toBeGreaterThan(0);

    const nc = app.nats;
    const db = app.db;
    await app.close();
    expect(nc.isClosed()).toBe(true);
    await expect(sql`select 1`.execute(db)).rejects.toThrow();
  });

  it('report postgres not ready, by name only, when the database is unreachable', async () => {
    const { app, logs } = await bareApp();
    try {
      await app.register(dbPlugin, {
        url: databaseUrlOn(database.url, 'ft_test_does_not_exist'),
        applicationName: 'plugins-test',
      });
      const response = await app.inject({ method: 'GET', url: '/ready' });
      expect(response.statusCode).toBe(503);
      expect(response.json()).toEqual({
        status: 'not_ready',
        checks: { postgres: 'failed' },
        failing: ['postgres'],
      });
      expect(response.body).not.toContain('does_not_exist');
      expect(logs.text()).toContain('ft_test_does_not_exist');
    } finally {
      await app.close();
    }
  });

  it('follow the active read-model schema when asked to', async () => {
    await migrateToLatest(database.db, { schema: 'rm_one' });
    await migrateToLatest(database.db, { schema: 'rm_two' });
    await setActiveSchema(database.db, 'rm_one');
    const { app, logs } = await bareApp();
    try {
      await app.register(dbPlugin, {
        url: database.url,
        schema: { active: true },
        applicationName: 'reader',
      });
      const path = async () =>
        (await sql<{ path: string }>`select current_setting('search_path') as path`.execute(app.db)).rows[0]
          ?.path;
      expect(await path()).toBe('rm_one');
      await setActiveSchema(database.db, 'rm_two');
      // Not expect.poll's default 1 s: NOTIFY, a pool switch and this query took up to 0.8 s at load 19.
      await expect.poll(path, { timeout: 20_000 }).toBe('rm_two');
      expect(logs.text()).toContain('read models switched');
      expect((await app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('fail startup when NATS cannot be reached', async () => {
    const { app } = await bareApp();
    const [port] = await freePorts(1);
    await expect(
      app.register(natsPlugin, { url: `nats://127.0.0.1:${port}`, name: 'nowhere' }),
    ).rejects.toThrow();
    await app.close().catch(() => {});
  });
});
