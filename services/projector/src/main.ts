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
  // Every ack is a request; a stack captured for each is CPU the batches need (docs/decisions/0053).
  asyncTraces: false,
});

let supervisor: Awaited<ReturnType<typeof superviseProjector>> | undefined;
const handle = {
  schema: () => supervisor?.schema() ?? '',
  lag: () => supervisor?.lag() ?? Promise.resolve([]),
  blocked: () => supervisor?.blocked() ?? [],
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
  ackWaitMs: config.PROJECTOR_ACK_WAIT_MS,
  maxWaitMs: config.PROJECTOR_MAX_WAIT_MS,
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

// A broken invariant or a gap stops the books for good (a poison event only holds its stream up
// until an operator quarantines it, see /ready): exit non-zero so the
// operator (and the orchestrator) sees it, with the error naming the event in the log.
supervisor.done.catch(async (error: unknown) => {
  logger.fatal(
    { err: error instanceof Error ? error.message : String(error) },
    'projection stopped; exiting',
  );
  await service.shutdown('projection failed');
  process.exit(1);
});
