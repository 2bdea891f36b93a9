import { runService } from '@fundtrace/service-kit';
import { buildApp } from './app';
import { loadRegistryConfig } from './config';

const config = loadRegistryConfig();
const { app } = await buildApp({ config });
await runService(app, { port: config.env.PORT, host: config.env.HOST });
