import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What one vitest run created on the shared servers. The global setup (./global-setup.ts) names a
 * directory in FUNDTRACE_TEST_RUN_DIR; every test process appends one line per stream namespace and
 * database it makes (one file per process, appends of a few bytes). At the end of the run the
 * teardown looks for what is still there: only names this run wrote down, never another engineer's
 * concurrent run on the same servers.
 */
export const runLedgerVariable = 'FUNDTRACE_TEST_RUN_DIR';

export type LedgerKind = 'namespace' | 'database';

/** Notes that this process created `name` (no-op outside a run with a global setup). */
export function noteCreated(kind: LedgerKind, name: string): void {
  const dir = process.env[runLedgerVariable];
  if (!dir) return;
  try {
    appendFileSync(join(dir, `${process.pid}.txt`), `${kind} ${name}\n`);
  } catch {
    // ENOENT: the run has ended and removed its directory (a straggling process): nothing left to
    // report to. One append, no existence check before it: this runs for every namespace and database.
  }
}

export interface RunLedger {
  readonly namespaces: readonly string[];
  readonly databases: readonly string[];
}

export function readRunLedger(dir: string): RunLedger {
  const namespaces = new Set<string>();
  const databases = new Set<string>();
  for (const file of readdirSync(dir)) {
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      const [kind, name] = line.split(' ');
      if (!name) continue;
      if (kind === 'namespace') namespaces.add(name);
      if (kind === 'database') databases.add(name);
    }
  }
  return { namespaces: [...namespaces].sort(), databases: [...databases].sort() };
}
