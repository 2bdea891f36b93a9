import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testConfig } from './config';
import { readRunLedger, runLedgerVariable } from './run-ledger';

/**
 * vitest globalSetup (vitest.config.ts): before the run, a directory where every test process notes
 * the stream namespaces and databases it creates (./run-ledger.ts); after the run (./leftovers.ts),
 * whatever of them is still on the shared NATS and PostgreSQL is listed under "LEFTOVERS" and then
 * removed, so one file whose cleanup did not run (a hook that timed out, a swallowed error) neither
 * clutters the servers nor goes unseen. Decision 0117: reported and removed, the run's result unchanged;
 * FUNDTRACE_LEFTOVERS=fail makes leftovers fail the run (for hunting them, not for CI).
 */
export default function setup(): () => Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'fundtrace-test-run-'));
  // Set before vitest starts its workers: the forks inherit it.
  process.env[runLedgerVariable] = dir;
  return async () => {
    const servers = { natsUrl: testConfig.natsUrl, databaseServerUrl: testConfig.databaseServerUrl };
    try {
      const ledger = readRunLedger(dir);
      // Loaded here, not at the top: its PostgreSQL and NATS clients cost ~0.9 s of CPU to import
      // (tsx, load 3-5), which every run paid before its first test started.
      const { findLeftovers, removeLeftovers } = await import('./leftovers');
      const leftovers = await findLeftovers(ledger, servers);
      const count = leftovers.streams.length + leftovers.databases.length;
      if (count === 0) {
        console.log(
          `LEFTOVERS: none (${ledger.namespaces.length} namespaces and ${ledger.databases.length} databases of this run checked)`,
        );
        return;
      }
      console.error(
        [
          `LEFTOVERS: ${leftovers.streams.length} JetStream stream(s) and ${leftovers.databases.length} database(s) created by this run outlived their test file (removed now):`,
          ...leftovers.streams.map((name) => `  stream ${name}`),
          ...leftovers.databases.map((name) => `  database ${name}`),
        ].join('\n'),
      );
      await removeLeftovers(leftovers, servers);
      if (process.env.FUNDTRACE_LEFTOVERS === 'fail') {
        throw new Error(`${count} stream(s)/database(s) outlived their test file (FUNDTRACE_LEFTOVERS=fail)`);
      }
    } catch (error) {
      if (process.env.FUNDTRACE_LEFTOVERS === 'fail') throw error;
      console.error(`LEFTOVERS: the check did not complete: ${(error as Error).message}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}
