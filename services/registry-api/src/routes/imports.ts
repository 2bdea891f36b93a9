import { type App, errorResponseSchema } from '@fundtrace/service-kit';
import { z } from 'zod';
import { registryMessage } from '../households/rejection-messages';
import { commandDigest } from '../writer/digest';
import { actorOf, type Counties, canWrite, county, registryRejections, userOf } from './context';
import { dryRunView, importBody, importJobView, partitionParams } from './schemas';

/**
 * Largest import request: 200,000 rows of about 250 bytes of JSON each is ~50 MB; twice that
 * leaves room for long names and extra columns. Every other route keeps the kit's 1 MiB.
 */
export const importBodyBytesMax = 128 * 1024 * 1024;

const errors = {
  400: errorResponseSchema,
  401: errorResponseSchema,
  403: errorResponseSchema,
  404: errorResponseSchema,
  409: errorResponseSchema,
  413: errorResponseSchema,
  422: errorResponseSchema,
};

export function importRoutes(app: App, counties: Counties): void {
  app.post(
    '/v1/partitions/:partition/imports',
    {
      onRequest: canWrite,
      bodyLimit: importBodyBytesMax,
      // A dry run decides against the county's state in memory and appends nothing: it answers
      // while NATS is away; a real import is refused then (503 nats_unavailable), after validation.
      config: { natsOptional: (request) => (request.body as z.output<typeof importBody>).dryRun },
      schema: {
        summary: 'Import households from roster rows: all rows are checked, any bad row rejects the file',
        tags: ['imports'],
        params: partitionParams,
        body: importBody,
        response: { 200: z.union([dryRunView, importJobView]), 202: importJobView, ...errors },
      },
    },
    async (request, reply) => {
      const { writer, imports } = county(counties, request.params.partition);
      const { commandId, dryRun, header, rows } = request.body;
      const outcome = await imports.start(
        header,
        rows,
        {
          commandId,
          // A dry run is not a command; its digest only has to be the real import's, to compare.
          digest: commandDigest('import', writer.partition, { header, rows }, writer.keyring.hmacKey),
          actor: actorOf(userOf(request)),
          occurredAt: new Date().toISOString(),
          correlationId: commandId,
        },
        dryRun,
      );
      switch (outcome.kind) {
        case 'idempotency_key_reused':
          throw registryRejections.reject(
            'idempotency_key_reused',
            registryMessage('idempotency_key_reused', { commandId }),
          );
        case 'rejected':
          request.log.info(
            { importId: commandId, rows: outcome.rows, errors: outcome.errors.length },
            'import rejected',
          );
          throw registryRejections.reject(
            'import_rows_invalid',
            registryMessage('import_rows_invalid', { count: outcome.errors.length }),
            {
              errors: outcome.errors,
              rows: outcome.rows,
              households: outcome.households,
            },
          );
        case 'dry_run':
          return reply
            .status(200)
            .send({ dryRun: true as const, rows: outcome.rows, households: outcome.households });
        case 'started':
          request.log.info(
            { importId: commandId, rows: outcome.job.rows, households: outcome.job.households },
            'import started',
          );
          return reply.status(outcome.job.status === 'done' ? 200 : 202).send({ ...outcome.job });
      }
    },
  );

  app.get(
    '/v1/partitions/:partition/imports/:importId',
    {
      onRequest: canWrite,
      schema: {
        summary: "An import's progress",
        tags: ['imports'],
        params: partitionParams.extend({ importId: z.string().max(128) }),
        response: { 200: importJobView, ...errors },
      },
    },
    async (request) => {
      const { imports } = county(counties, request.params.partition);
      const job = imports.job(request.params.importId);
      if (job === undefined)
        throw registryRejections.reject(
          'import_not_found',
          registryMessage('import_not_found', { importId: request.params.importId }),
        );
      return { ...job };
    },
  );
}
