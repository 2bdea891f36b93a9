/**
 * A projector process for the crash test: it applies one batch, commits, and
 * kills itself with SIGKILL before acking — the worst moment to die.
 * Run with `node --import tsx`; configured by argv: natsUrl databaseUrl stream durable ackWaitMs.
 */
import { createDb } from '@fundtrace/db';
import { connectNats, runProjection } from '../../src';
import { recordApplied } from './applied-table';

const [natsUrl, databaseUrl, stream, durable, ackWaitMs] = process.argv.slice(2);
if (!natsUrl || !databaseUrl || !stream || !durable || !ackWaitMs) {
  throw new Error('usage: projection-child natsUrl databaseUrl stream durable ackWaitMs');
}
const nc = await connectNats(natsUrl, { name: 'projection-child' });
const db = createDb(databaseUrl);
const runner = runProjection({
  nc,
  db,
  stream,
  durable,
  batchSize: 10,
  maxWaitMs: 1_000,
  ackWaitMs: Number(ackWaitMs),
  handler: recordApplied(durable),
  afterCommit: (batch) => {
    process.stdout.write(`committed ${batch.firstSeq}..${batch.lastSeq}\n`);
    process.kill(process.pid, 'SIGKILL');
  },
});
await runner.done;
