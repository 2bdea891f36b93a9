import { randomBytes } from 'node:crypto';
import { dropDatabase, ensureDatabase } from '../src/index';

/** The machine's PostgreSQL (CONVENTIONS: tests use the real thing). */
const baseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/fundtrace';

/** A URL naming a database that does not exist yet, unique to this call. */
export function uniqueDatabaseUrl(label: string): string {
  const url = new URL(baseUrl);
  url.pathname = `/fundtrace_test_${label}_${randomBytes(4).toString('hex')}`;
  return url.toString();
}

/** Creates a fresh database for one test file; call the returned drop in afterAll. */
export async function freshDatabase(label: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const url = uniqueDatabaseUrl(label);
  await ensureDatabase(url);
  return { url, drop: () => dropDatabase(url) };
}
