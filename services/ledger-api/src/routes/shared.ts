import { defineRejections } from '@fundtrace/service-kit';
import type { FastifyReply } from 'fastify';
import { rejectionStatus } from '../ledger/rejections';
import { type LedgerWriter, PartitionBusyError, RegistryBehindError } from '../writer/writer';

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
      `本服务不记账套 ${partition} 的账；本服务记账的账套为 ${[...writers.keys()].join('、')}。请核对账套代码，或改用记该账套的服务地址。`,
      { partition },
    );
  }
  return writer;
}

/**
 * Temporary conditions, answered 503 with Retry-After (the only non-4xx
 * refusals): another instance kept winning the append race, or the registry
 * tail is behind so household checks cannot be made.
 */
export function partitionBusy(error: unknown, reply: FastifyReply) {
  const code =
    error instanceof PartitionBusyError
      ? 'partition_busy'
      : error instanceof RegistryBehindError
        ? 'registry_unavailable'
        : undefined;
  if (code === undefined) return undefined;
  return reply
    .status(503)
    .header('retry-after', String(busyRetryAfterSeconds))
    .send({ error: { code, message: (error as Error).message, details: {} } });
}
