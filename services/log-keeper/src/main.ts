import { runService } from '@fundtrace/service-kit';
import { buildApp } from './app';
import { loadLogKeeperConfig } from './config';

const config = loadLogKeeperConfig();
const { app, keeper } = await buildApp(config);
const running = await runService(app, { port: config.env.PORT, host: config.env.HOST });
app.log.info({ verifierKey: config.signer.verifierKey }, 'signing checkpoints');
// A stream whose tree cannot be trusted stops the whole service: a supervisor restarts it,
// and the durable consumers resume from the last committed batch.
keeper.done.catch(async (error: unknown) => {
  app.log.fatal({ err: error instanceof Error ? error.message : String(error) }, 'merkle log stopped');
  process.exitCode = 1;
  await running.shutdown('merkle log failure');
});
