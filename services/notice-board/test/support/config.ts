import { randomToken } from '@fundtrace/testkit';
import { type NoticeBoardConfig, readConfig } from '../../src/config';

/**
 * A board's config for an in-process test over `databaseUrl` (the books in its `public` schema):
 * a fresh namespace and secret, any port, silent; `env` adds to or overrides it.
 */
export function boardTestConfig(databaseUrl: string, env: Record<string, string> = {}): NoticeBoardConfig {
  return readConfig({
    DATABASE_URL: databaseUrl,
    NATS_URL: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
    FUNDTRACE_NAMESPACE: `nb${randomToken(6)}`,
    JWT_SECRET: randomToken(40),
    NOTICE_FALLBACK_SCHEMA: 'public',
    PORT: '0',
    LOG_LEVEL: 'silent',
    ...env,
  });
}
