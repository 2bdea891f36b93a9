import { runService } from '@fundtrace/service-kit';
import { buildApp } from './app';
import { loadAuditConfig } from './config';

const config = loadAuditConfig();
const { app } = await buildApp({ config });
await runService(app, { port: config.env.PORT, host: config.env.HOST });
