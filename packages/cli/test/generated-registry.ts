import { randomBytes } from 'node:crypto';
import { type ServiceProcess, startServiceProcess } from '@fundtrace/testkit';

/**
 * A registry-api process writing county 411325's registry in namespace `ns`, with fresh random
 * PII keys each time: what the CLI's registry import talks to, and what the bench's bulk loader
 * sends a generated data set's household imports to.
 */
export function startGeneratedRegistry(o: {
  ns: string;
  databaseUrl: string;
  jwtSecret: string;
  logDir: string;
  /** Default: testkit's (warn); `info` logs each import's start and end. */
  logLevel?: string;
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
      ...(o.logLevel === undefined ? {} : { LOG_LEVEL: o.logLevel }),
    },
    { logDir: o.logDir },
  );
}
