import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePartitionStreams } from '@fundtrace/eventlog';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectTestNats, createTestDatabase, deleteNamespaceStreams, testNamespace } from '../src';
import { testConfig } from '../src/config';
import { findLeftovers, removeLeftovers } from '../src/leftovers';
import { readRunLedger, runLedgerVariable } from '../src/run-ledger';

// The run ledger behind the global setup's LEFTOVERS report (decision 0117): what a test creates is
// written down, and what of it outlives its cleanup is found and removed, nothing of anyone else's.
const servers = { natsUrl: testConfig.natsUrl, databaseServerUrl: testConfig.databaseServerUrl };
let dir: string;
let outer: string | undefined;

beforeEach(() => {
  outer = process.env[runLedgerVariable];
  dir = mkdtempSync(join(tmpdir(), 'fundtrace-ledger-test-'));
  process.env[runLedgerVariable] = dir;
});
afterEach(() => {
  if (outer === undefined) delete process.env[runLedgerVariable];
  else process.env[runLedgerVariable] = outer;
  rmSync(dir, { recursive: true, force: true });
});

describe('run ledger', () => {
  it('notes every namespace and database made, and finds and removes only what was left of them', async () => {
    const left = testNamespace();
    const cleaned = testNamespace();
    const database = await createTestDatabase({ migrate: false });
    const dropped = await createTestDatabase({ migrate: false });
    await dropped.drop();
    delete process.env[runLedgerVariable];
    const unrecorded = testNamespace();
    const ledger = readRunLedger(dir);
    expect(ledger.namespaces).toEqual([left, cleaned].sort());
    expect(ledger.databases).toEqual([database.name, dropped.name].sort());

    const nc = await connectTestNats();
    const jsm = await jetstreamManager(nc);
    try {
      await ensurePartitionStreams(jsm, { partition: '411325', ns: left, contexts: ['ledger'] });
      // A namespace a test derives from its own (`${ns}r`) is still this run's.
      await ensurePartitionStreams(jsm, { partition: '411325', ns: `${left}r`, contexts: ['audit'] });
      await ensurePartitionStreams(jsm, { partition: '411325', ns: cleaned, contexts: ['ledger'] });
      await ensurePartitionStreams(jsm, { partition: '411325', ns: unrecorded, contexts: ['ledger'] });
      await deleteNamespaceStreams(jsm, cleaned);

      const leftovers = await findLeftovers(ledger, servers);
      expect(leftovers).toEqual({
        streams: [`${left}_LEDGER_411325`, `${left}r_AUDIT_411325`],
        databases: [database.name],
      });
      await database.db.destroy();
      await removeLeftovers(leftovers, servers);
      expect(await findLeftovers(ledger, servers)).toEqual({ streams: [], databases: [] });
      expect(await jsm.streams.info(`${unrecorded}_LEDGER_411325`)).toBeDefined();
    } finally {
      for (const ns of [left, `${left}r`, cleaned, unrecorded]) await deleteNamespaceStreams(jsm, ns);
      await database.drop().catch(() => undefined);
      await nc.close();
    }
  });

  it('writes nothing when no run directory is set', () => {
    delete process.env[runLedgerVariable];
    testNamespace();
    expect(readRunLedger(dir)).toEqual({ namespaces: [], databases: [] });
  });
});
