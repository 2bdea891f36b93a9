import { randomBytes } from 'node:crypto';
import { type ServiceProcess, startServiceProcess } from '@fundtrace/testkit';

/**
 * A registry-api process for loading a generated county (411325) into namespace `ns`: the bench's
 * bulk loader sends the data set's household imports to it. Fresh random keys each time.
 */
export function startGeneratedRegistry(o: {
  ns: string;
  databaseUrl: string;
  jwtSecret: string;
  logDir: string;
}): Promise<ServiceProcess> {
  return startServiceProcess(
    'registry-api',
    {
      JWT_SECRET: o.jwtSecret,
      NATS_URL: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
      FUNDTRACE_NAMESPACE: o.ns,
      DATABASE_URL: o.databaseUrl,
      REGISTRY_PARTITIONS: '411325',
      PII_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      PII_ACTIVE_KEY: 'k1',
      PII_HMAC_KEY: randomBytes(32).toString('base64'),
    },
    { logDir: o.logDir },
  );
}
