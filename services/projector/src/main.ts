import { connectNats } from '@fundtrace/eventlog';
import { createLogger, runService } from '@fundtrace/service-kit';
import { buildApp } from './app';
import { readConfig } from './config';
import { superviseProjector } from './supervisor';

const config = readConfig();
const logger = createLogger({ name: 'projector', level: config.LOG_LEVEL });
const nc = await connectNats(config.NATS_URL.split(','), {
  name: 'projector',
  logger,
  waitOnFirstConnect: true,
});

let supervisor: Awaited<ReturnType<typeof superviseProjector>> | undefined;
const handle = {
  schema: () => supervisor?.schema() ?? '',
  lag: () => supervisor?.lag() ?? Promise.resolve([]),
  failed: () => supervisor?.failed(),
};
const { app, applied } = await buildApp({
  projector: handle,
  logger,
  checks: {
    nats: async () => {
      if (nc.isClosed()) throw new Error('NATS connection closed');
      await nc.flush();
    },
  },
});
supervisor = await superviseProjector({
  url: config.DATABASE_URL,
  nc,
  ns: config.FUNDTRACE_NAMESPACE,
  initialSchema: config.PROJECTOR_SCHEMA,
  batchSize: config.PROJECTOR_BATCH_SIZE,
  logger,
  onBatch: (stream, count) => applied.inc({ stream }, count),
});
const service = await runService(app, {
  port: config.PORT,
  host: config.HOST,
  onShutdown: [
    async () => {
      await supervisor?.stop();
      await nc.drain();
    },
  ],
});
logger.info({ address: service.address, schema: supervisor.schema() }, 'projector running');

// A broken invariant, a gap or a poison event stops the books for good: exit non-zero so the
// operator (and the orchestrator) sees it, with the error naming the event in the log.
supervisor.done.catch(async (error: unknown) => {
  logger.fatal(
    { err: error instanceof Error ? error.message : String(error) },
    'projection stopped; exiting',
  );
  await service.shutdown('projection failed');
  process.exit(1);
});
