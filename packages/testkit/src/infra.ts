import type { Database } from '@fundtrace/db';
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll } from 'vitest';
import { runEveryStep } from './cleanup';
import { createTestDatabase, type TestDatabase } from './database';
import { connectTestNats, deleteNamespaceStreams, testNamespace } from './nats';

export interface TestInfra {
  readonly database: TestDatabase;
  readonly db: Kysely<Database>;
  readonly databaseUrl: string;
  /** This file's stream namespace. */
  readonly ns: string;
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
}

export interface UseTestInfraOptions {
  /** Create a database (default true). */
  readonly database?: boolean;
  /** Connect to NATS and reserve a namespace (default true). */
  readonly nats?: boolean;
}

/**
 * Wires `beforeAll`/`afterAll` so the calling test file gets its own database and
 * stream namespace, and returns an object whose properties are usable inside tests
 * and hooks (reading one at module level, before `beforeAll` ran, throws).
 */
export function useTestInfra(options: UseTestInfraOptions = {}): TestInfra {
  const wantDatabase = options.database ?? true;
  const wantNats = options.nats ?? true;
  let database: TestDatabase | undefined;
  let nc: NatsConnection | undefined;
  let js: JetStreamClient | undefined;
  let jsm: JetStreamManager | undefined;
  const ns = testNamespace();

  beforeAll(async () => {
    if (wantDatabase) database = await createTestDatabase();
    if (wantNats) {
      nc = await connectTestNats(`fundtrace-test-${ns}`);
      js = jetstream(nc);
      jsm = await jetstreamManager(nc);
    }
  });

  afterAll(async () => {
    const [manager, connection, testDatabase] = [jsm, nc, database];
    await runEveryStep([
      () => manager && deleteNamespaceStreams(manager, ns),
      () => connection?.close(),
      () => testDatabase?.drop(),
    ]);
  });

  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) {
      throw new Error(`useTestInfra: ${what} is not available (disabled, or read before beforeAll ran)`);
    }
    return value;
  };
  return {
    get database() {
      return need(database, 'the database');
    },
    get db() {
      return need(database, 'the database').db;
    },
    get databaseUrl() {
      return need(database, 'the database').url;
    },
    ns,
    get nc() {
      return need(nc, 'NATS');
    },
    get js() {
      return need(js, 'NATS');
    },
    get jsm() {
      return need(jsm, 'NATS');
    },
  };
}
