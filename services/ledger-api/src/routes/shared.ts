import { defineRejections } from '@fundtrace/service-kit';
import type { FastifyReply } from 'fastify';
import { rejectionStatus } from '../ledger/rejections';
import { type LedgerWriter, PartitionBusyError } from '../writer/writer';

/** The ledger's closed union of refusals with their HTTP statuses, plus the edge's own. */
export const ledgerRejections = defineRejections({
  ...rejectionStatus,
  partition_not_served: 404,
  not_found: 404,
});

export type Writers = ReadonlyMap<string, LedgerWriter>;

/** Seconds a client waits before retrying a command that lost the append race too often. */
export const busyRetryAfterSeconds = 1;

export function writerFor(writers: Writers, partition: string): LedgerWriter {
  const writer = writers.get(partition);
  if (!writer) {
    throw ledgerRejections.reject(
      'partition_not_served',
      `This ledger-api does not write the books of ${partition}; it writes ${[...writers.keys()].join(', ')}.`,
      { partition },
    );
  }
  return writer;
}

/** Another instance kept winning the append race: 503 with Retry-After, the one non-4xx refusal. */
export function partitionBusy(error: unknown, reply: FastifyReply) {
  if (!(error instanceof PartitionBusyError)) return undefined;
  return reply
    .status(503)
    .header('retry-after', String(busyRetryAfterSeconds))
    .send({ error: { code: 'partition_busy', message: error.message, details: {} } });
}
