import { randomBytes } from 'node:crypto';
import { createDb } from '@fundtrace/db';
import type { JetStreamManager } from '@nats-io/jetstream';
import { sql } from 'kysely';

/**
 * The benchmark only ever touches what it created. It makes its own database and stream
 * namespace, each carrying a marker with this run's token, and refuses to clean up (or run
 * against) anything that lacks that marker: an operator pointing it at production by mistake
 * loses nothing.
 */

/** Prefix of every database and namespace a run creates, so a leftover is recognisable. */
export const benchPrefix = 'ftbench';
/** The marker table in a bench database. */
const markerTable = 'fundtrace_bench_marker';

export class RefusedError extends Error {
  override name = 'RefusedError';
}

export function newRunToken(): string {
  return randomBytes(4).toString('hex');
}

/** Database URL of `name` on the server of `serverUrl`. */
export function databaseUrlOn(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Creates database `name` with the marker; refuses when it already exists. */
export async function createMarkedDatabase(serverUrl: string, name: string, token: string): Promise<string> {
  const admin = createDb<unknown>(serverUrl, { max: 1, applicationName: 'fundtrace-bench' });
  try {
    const { rows } = await sql<{
      n: number;
    }>`select count(*)::int as n from pg_database where datname = ${name}`.execute(admin);
    if ((rows[0]?.n ?? 0) > 0)
      throw new RefusedError(`database ${name} exists; the benchmark only uses databases it creates`);
    await sql`create database ${sql.id(name)}`.execute(admin);
  } finally {
    await admin.destroy();
  }
  const url = databaseUrlOn(serverUrl, name);
  const db = createDb<unknown>(url, { max: 1, applicationName: 'fundtrace-bench' });
  try {
    await sql`create table ${sql.id(markerTable)} (token text not null, created_at timestamptz not null default now())`.execute(
      db,
    );
    await sql`insert into ${sql.id(markerTable)} (token) values (${token})`.execute(db);
  } finally {
    await db.destroy();
  }
  return url;
}

/** Drops database `name` if, and only if, it carries this run's marker. */
export async function dropMarkedDatabase(serverUrl: string, name: string, token: string): Promise<void> {
  const url = databaseUrlOn(serverUrl, name);
  const db = createDb<unknown>(url, { max: 1, applicationName: 'fundtrace-bench' });
  let marked = false;
  try {
    const { rows } = await sql<{ token: string }>`select token from ${sql.id(markerTable)}`.execute(db);
    marked = rows.length === 1 && rows[0]!.token === token;
  } catch {
    marked = false;
  } finally {
    await db.destroy();
  }
  if (!marked) throw new RefusedError(`database ${name} does not carry this run's marker; not dropping it`);
  const admin = createDb<unknown>(serverUrl, { max: 1, applicationName: 'fundtrace-bench' });
  try {
    await sql`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${name} and pid <> pg_backend_pid()`.execute(
      admin,
    );
    await sql`drop database if exists ${sql.id(name)}`.execute(admin);
  } finally {
    await admin.destroy();
  }
}

/** The marker stream of namespace `ns`: it holds nothing, its description names the run. */
export function markerStream(ns: string): string {
  return `${ns}_BENCH_MARKER`;
}

/** Claims namespace `ns`: refuses when any stream of it exists, then creates the marker stream. */
export async function claimNamespace(jsm: JetStreamManager, ns: string, token: string): Promise<void> {
  if (!ns.startsWith(benchPrefix)) throw new RefusedError(`namespace ${ns} is not a benchmark namespace`);
  for await (const name of jsm.streams.names())
    if (name.startsWith(`${ns}_`))
      throw new RefusedError(`stream ${name} exists; the benchmark only uses streams it creates`);
  await jsm.streams.add({
    name: markerStream(ns),
    subjects: [`${ns}.bench-marker`],
    description: `fundtrace-bench ${token}`,
    max_msgs: 1,
  });
}

/** Deletes every stream of `ns`, if and only if the marker stream names this run. Returns the names. */
export async function releaseNamespace(jsm: JetStreamManager, ns: string, token: string): Promise<string[]> {
  let description: string | undefined;
  try {
    description = (await jsm.streams.info(markerStream(ns))).config.description;
  } catch {
    description = undefined;
  }
  if (description !== `fundtrace-bench ${token}`)
    throw new RefusedError(`namespace ${ns} does not carry this run's marker; not deleting its streams`);
  const doomed: string[] = [];
  for await (const name of jsm.streams.names()) if (name.startsWith(`${ns}_`)) doomed.push(name);
  // The marker goes last, so an interrupted cleanup can be finished by the same token.
  doomed.sort((a, b) => Number(a === markerStream(ns)) - Number(b === markerStream(ns)));
  for (const name of doomed) await jsm.streams.delete(name);
  return doomed;
}
