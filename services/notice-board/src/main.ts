import { runService } from '@fundtrace/service-kit';
import { buildApp } from './app';
import { readConfig } from './config';

const config = readConfig();
const app = await buildApp(config);
await runService(app, { port: config.PORT, host: config.HOST });
