import { runService } from '@fundtrace/service-kit';
import { buildApp, startWriters } from './app';
import { readConfig } from './config';

// Listen and shut down; building the app is app.ts's job (STYLE 1).
const config = readConfig();
const { app, writers } = await buildApp(config);
await startWriters(writers, app.jsm, config.FUNDTRACE_NAMESPACE, config.STREAM_REPLICAS);
await runService(app, { port: config.PORT, host: config.HOST });
