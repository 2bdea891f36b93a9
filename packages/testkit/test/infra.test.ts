import { ensurePartitionStreams } from '@fundtrace/eventlog';
import { jetstreamManager } from '@nats-io/jetstream';
import { sql } from 'kysely';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
  connectTestNats,
  containerRuntimeAvailable,
  createTestDatabase,
  deleteNamespaceStreams,
  testNamespace,
  useTestInfra,
} from '../src';

// Proves the per-file rig: a fresh migrated database and a private namespace,
// both gone afterwards.
const infra = useTestInfra();

async function databaseExists(name: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await client.connect();
  try {
    return (await client.query('select 1 from pg_database where datname = $1', [name])).rowCount === 1;
  } finally {
    await client.end();
  }
}

describe('useTestInfra', () => {
  it('gives this file a migrated database of its own and a namespace', async () => {
    expect(infra.database.name).toMatch(/^ft_test_[0-9a-z]{10}$/);
    const { rows } = await sql<{ n: string }>`select count(*)::text as n from projection_checkpoints`.execute(
      infra.db,
    );
    expect(rows).toEqual([{ n: '0' }]);
    expect(infra.ns).toMatch(/^t[0-9a-z]{8}$/);
    expect((await infra.jsm.getAccountInfo()).streams).toBeGreaterThanOrEqual(0);
  });
});

describe('createTestDatabase', () => {
  it('creates ft_test_<random> with the migrations applied and drops it', async () => {
    const a = await createTestDatabase();
    const b = await createTestDatabase();
    expect(a.name).not.toBe(b.name);
    expect(await databaseExists(a.name)).toBe(true);
    await sql`insert into projection_checkpoints (consumer, stream, last_seq) values ('c', 's', 1)`.execute(
      a.db,
    );
    await a.drop();
    await a.drop(); // twice is harmless
    expect(await databaseExists(a.name)).toBe(false);
    await b.drop();
  });
});

describe('namespaces', () => {
  it('are unique and short', () => {
    const names = new Set(Array.from({ length: 1_000 }, testNamespace));
    expect(names.size).toBe(1_000);
    for (const ns of names) expect(ns).toMatch(/^t[0-9a-z]{8}$/);
  });

  it('deleteNamespaceStreams removes that namespace only, and refuses the production one', async () => {
    const nc = await connectTestNats();
    const jsm = await jetstreamManager(nc);
    const mine = testNamespace();
    const theirs = testNamespace();
    try {
      await ensurePartitionStreams(jsm, { partition: '411325', ns: mine });
      await ensurePartitionStreams(jsm, { partition: '411325', ns: theirs, contexts: ['audit'] });
      const deleted = await deleteNamespaceStreams(jsm, mine);
      expect(deleted.sort()).toEqual([
        `${mine}_AUDIT_411325`,
        `${mine}_LEDGER_411325`,
        `${mine}_REGISTRY_411325`,
      ]);
      expect(await jsm.streams.info(`${theirs}_AUDIT_411325`)).toBeDefined();
      await expect(deleteNamespaceStreams(jsm, '')).rejects.toBeInstanceOf(RangeError);
    } finally {
      await deleteNamespaceStreams(jsm, theirs);
      await nc.close();
    }
  });
});

describe('containerRuntimeAvailable', () => {
  it('answers a boolean without throwing, whether or not docker exists', async () => {
    expect(typeof (await containerRuntimeAvailable())).toBe('boolean');
  });
});
