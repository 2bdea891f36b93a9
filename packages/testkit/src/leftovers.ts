import { dropDatabase } from '@fundtrace/db';
import type { JetStreamManager } from '@nats-io/jetstream';
import { jetstreamManager } from '@nats-io/jetstream';
import pg from 'pg';
import { runEveryStep } from './cleanup';
import { databaseUrlOn } from './database';
import { connectTestNats } from './nats';
import type { RunLedger } from './run-ledger';

/**
 * The end of a run's ledger (./run-ledger.ts): what of the namespaces and databases the run wrote
 * down is still on the servers, and its removal. Only the global setup's teardown needs this (and
 * its PostgreSQL and NATS clients); the test processes only note names.
 */
export interface Leftovers {
  /** Streams whose name starts with a recorded namespace (`<ns>_…`, and derived ones like `<ns>r_…`). */
  readonly streams: readonly string[];
  readonly databases: readonly string[];
}

export interface LeftoverServers {
  readonly natsUrl: string;
  readonly databaseServerUrl: string;
}

async function withStreams(natsUrl: string, use: (jsm: JetStreamManager) => Promise<void>): Promise<void> {
  const nc = await connectTestNats('fundtrace-test-leftovers', natsUrl);
  try {
    await use(await jetstreamManager(nc));
  } finally {
    await nc.close();
  }
}

/**
 * What of `ledger` still exists on the servers. A namespace matches streams that start with it:
 * tests derive second namespaces from their own (`${ns}r`), and 9 random characters do not prefix
 * another run's namespace.
 */
export async function findLeftovers(ledger: RunLedger, servers: LeftoverServers): Promise<Leftovers> {
  const streams: string[] = [];
  if (ledger.namespaces.length > 0) {
    await withStreams(servers.natsUrl, async (jsm) => {
      for await (const name of jsm.streams.names()) {
        if (ledger.namespaces.some((ns) => name.startsWith(ns))) streams.push(name);
      }
    });
  }
  let databases: string[] = [];
  if (ledger.databases.length > 0) {
    const client = new pg.Client({ connectionString: servers.databaseServerUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ datname: string }>(
        'select datname from pg_database where datname = any($1::text[]) order by datname',
        [ledger.databases],
      );
      databases = rows.map((row) => row.datname);
    } finally {
      await client.end();
    }
  }
  return { streams: streams.sort(), databases };
}

/**
 * Deletes leftover streams and drops leftover databases: every one tried (NATS unreachable still
 * lets the databases go), the first failure thrown.
 */
export async function removeLeftovers(leftovers: Leftovers, servers: LeftoverServers): Promise<void> {
  await runEveryStep([
    () =>
      leftovers.streams.length > 0 &&
      withStreams(servers.natsUrl, (jsm) =>
        runEveryStep(leftovers.streams.map((name) => () => jsm.streams.delete(name))),
      ),
    ...leftovers.databases.map((name) => () => dropDatabase(databaseUrlOn(servers.databaseServerUrl, name))),
  ]);
}
