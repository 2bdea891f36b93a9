import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  databaseUrlFor,
  discoverInfrastructure,
  InfrastructureMissingError,
  probeNats,
  probePostgres,
  redactUrl,
} from '../src/index';

// Proves that npm start / npm test find the machine's servers, and that where none
// answers they either start private ones (nats-server from PATH, embedded PostgreSQL)
// or say exactly what is missing.
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'ft-devstack-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * A port the kernel reports free now. A random pick in 42000-42899 or 54000-54899 (as before) lies in
 * the ephemeral range, where the machine's own outgoing connections and other test runs' servers
 * take ports: the embedded server then failed to bind once in a while.
 */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP address for a probe socket');
  return address.port;
}

describe('discoverInfrastructure', () => {
  it('uses the PostgreSQL and NATS that already answer', async () => {
    const infra = await discoverInfrastructure({ dataDir: tempDir(), startIfMissing: false });
    expect(await probePostgres(infra.databaseServerUrl)).toMatch(/PostgreSQL/);
    expect(await probeNats(infra.natsUrl)).toBe('jetstream');
    expect(infra.notes.join('\n')).toMatch(/found/);
    await infra.stop();
  });

  it('names what to install when nothing answers and starting is not allowed', async () => {
    const attempt = discoverInfrastructure({
      dataDir: tempDir(),
      startIfMissing: false,
      env: {},
      defaults: { databaseServerUrl: 'postgres://postgres@127.0.0.1:1/postgres' },
    });
    await expect(attempt).rejects.toBeInstanceOf(InfrastructureMissingError);
    await expect(attempt).rejects.toThrow(/Install PostgreSQL/);
  });

  it('refuses an explicit DATABASE_URL that does not answer instead of silently using another server', async () => {
    await expect(
      discoverInfrastructure({
        dataDir: tempDir(),
        startIfMissing: true,
        env: { DATABASE_URL: 'postgres://postgres:secret@127.0.0.1:1/x' },
      }),
    ).rejects.toThrow(/DATABASE_URL is set \(postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/x\)/);
  });

  it('starts a private nats-server with JetStream when none answers, and stops it', async () => {
    const infra = await discoverInfrastructure({
      dataDir: tempDir(),
      startIfMissing: true,
      env: {},
      defaults: { natsUrl: 'nats://127.0.0.1:1', embeddedNatsPort: await freePort() },
    });
    expect(infra.notes.join('\n')).toMatch(/started .*nats-server/);
    expect(await probeNats(infra.natsUrl)).toBe('jetstream');
    await infra.stop();
    expect(await probeNats(infra.natsUrl)).toBeNull();
  });
});

describe('urls', () => {
  it('derives another database on the same server and hides passwords', () => {
    expect(databaseUrlFor('postgres://postgres:pw@127.0.0.1:5432/postgres', 'fundtrace')).toBe(
      'postgres://postgres:pw@127.0.0.1:5432/fundtrace',
    );
    expect(redactUrl('postgres://u:pw@h/d')).toBe('postgres://u:***@h/d');
    expect(redactUrl('::')).toBe('<unparseable url>');
  });
});

describe('embedded PostgreSQL', () => {
  it('is initialised and started when no PostgreSQL answers, and keeps its data across restarts', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const options = {
      dataDir,
      startIfMissing: true,
      env: {},
      defaults: { databaseServerUrl: 'postgres://postgres@127.0.0.1:1/postgres', embeddedPostgresPort: port },
    };
    const first = await discoverInfrastructure(options);
    expect(first.notes.join('\n')).toMatch(/started an embedded one/);
    const pg = await import('pg');
    const client = new pg.default.Client({ connectionString: first.databaseServerUrl });
    await client.connect();
    await client.query('create table kept (n int); insert into kept values (42)');
    await client.end();
    await first.stop();

    const second = await discoverInfrastructure(options);
    const again = new pg.default.Client({ connectionString: second.databaseServerUrl });
    await again.connect();
    expect((await again.query('select n from kept')).rows).toEqual([{ n: 42 }]);
    await again.end();
    await second.stop();
  });
});
