import { streamName } from '@fundtrace/events';
import type { TestInfra } from '@fundtrace/testkit';
import { beforeAll } from 'vitest';
import { appendBatch, ensurePartitionStreams, lastSequence } from '../../src';
import { createAppliedTable } from './applied-table';
import { accountsOpened, partition } from './fixtures';

export interface LedgerStream {
  /** The test partition's LEDGER stream under the file's namespace (set before the tests run). */
  readonly name: string;
  /** Appends `count` AccountOpened events of one command; resolves with the stream's last sequence. */
  append(commandId: string, count: number): Promise<number>;
}

/** The runner tests' stream and `applied` table, created before the file's tests. */
export function useLedgerStream(infra: TestInfra): LedgerStream {
  let name = '';
  beforeAll(async () => {
    await ensurePartitionStreams(infra.jsm, { partition, ns: infra.ns, contexts: ['ledger'] });
    name = streamName('ledger', partition, infra.ns);
    await createAppliedTable(infra.db);
  });
  return {
    get name() {
      return name;
    },
    async append(commandId, count) {
      const start = await lastSequence(infra.jsm, name);
      const result = await appendBatch(infra.js, {
        stream: name,
        messages: accountsOpened(infra.ns, commandId, count),
        expectedLastSeq: start,
      });
      return result.lastSeq;
    },
  };
}
