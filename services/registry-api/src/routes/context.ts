import type { Actor } from '@fundtrace/events';
import { type AuthUser, currentUser, defineRejections, type Role, requireRole } from '@fundtrace/service-kit';
import type { FastifyRequest } from 'fastify';
import { registryMessage } from '../households/rejection-messages';
import type { RegistryRejection } from '../households/rejections';
import { registryRejectionStatuses } from '../households/rejections';
import type { ImportService } from '../imports/import-service';
import type { RegistryWriter } from '../writer/registry-writer';

export const registryRejections = defineRejections(registryRejectionStatuses);

/** One county served by this instance: its writer and its imports. */
export interface County {
  readonly writer: RegistryWriter;
  readonly imports: ImportService;
}

export type Counties = ReadonlyMap<string, County>;

/** Registry staff write; finance and inspectors read (ISSUE #4). */
export const writerRoles: readonly Role[] = ['registry'];
export const readerRoles: readonly Role[] = ['registry', 'finance', 'inspector'];

const partitionOf = (request: FastifyRequest) => (request.params as { partition?: string }).partition;
export const canWrite = requireRole(writerRoles, { partition: partitionOf });
export const canRead = requireRole(readerRoles, { partition: partitionOf });

export function county(counties: Counties, partition: string): County {
  const found = counties.get(partition);
  if (found === undefined) {
    throw registryRejections.reject(
      'partition_not_served',
      registryMessage('partition_not_served', { partition }),
      {
        partition,
      },
    );
  }
  return found;
}

export function actorOf(user: AuthUser): Actor {
  return { userId: user.sub, role: user.role, org: user.org };
}

export function userOf(request: FastifyRequest): AuthUser {
  return currentUser(request);
}

/** A decider rejection as the HTTP error (problems in details, never personal data). */
export function rejected(rejection: RegistryRejection): Error {
  return registryRejections.reject(rejection.code, rejection.message, { problems: rejection.problems });
}

/** Business date → the envelope's occurredAt: midnight in China Standard Time (UTC+8, no DST). */
export function occurredAtOf(date: string): string {
  return `${date}T00:00:00+08:00`;
}
