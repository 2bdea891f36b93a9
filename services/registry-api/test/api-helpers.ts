import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { type Projector, startProjector } from '@fundtrace/books';
import { createLogger, type Role, signToken } from '@fundtrace/service-kit';
import type { TestInfra } from '@fundtrace/testkit';
import { afterAll, beforeAll } from 'vitest';
import { buildApp, type RegistryApp } from '../src/app';
import { loadRegistryConfig } from '../src/config';

export const jwtSecret = randomBytes(32).toString('hex');

export interface StartedApi extends RegistryApp {
  /** Every log line the service wrote, as text. */
  readonly logLines: string[];
  readonly env: Record<string, string>;
}

export function piiEnv(): Record<string, string> {
  return {
    PII_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    PII_ACTIVE_KEY: 'k1',
    PII_HMAC_KEY: randomBytes(32).toString('base64'),
  };
}

/** Where the test file's streams and database are (testkit's `useTestInfra()`). */
export interface ApiInfra {
  readonly ns: string;
  readonly databaseUrl: string;
  /** Makes the file's projector pick up the registry stream at once (see `useBooks`). */
  readonly discover?: () => Promise<void>;
}

/**
 * The projector, in process, writing the file's books (its database's `public` schema, which the
 * service reads when no schema is active): registry-api answers queries from them. Started after
 * the infrastructure and stopped before it.
 */
export function useBooks(infra: TestInfra): ApiInfra {
  let projector: Projector | undefined;
  beforeAll(() => {
    projector = startProjector({
      nc: infra.nc,
      db: infra.db,
      schema: 'public',
      ns: infra.ns,
    });
  });
  afterAll(async () => {
    await projector?.stop();
  });
  return {
    get ns() {
      return infra.ns;
    },
    get databaseUrl() {
      return infra.databaseUrl;
    },
    discover: () => projector!.discover(),
  };
}

/**
 * registry-api on the machine's NATS (or `env.NATS_URL`: a private server) under the test file's
 * namespace, with its key store in the test file's database, logging into memory.
 */
export async function startApi(
  infra: ApiInfra,
  env: Record<string, string> = piiEnv(),
  partitions = '411325',
): Promise<StartedApi> {
  const ns = infra.ns;
  const full = {
    ...env,
    DATABASE_URL: infra.databaseUrl,
    JWT_SECRET: jwtSecret,
    NATS_URL: env.NATS_URL ?? process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
    FUNDTRACE_NAMESPACE: ns,
    REGISTRY_PARTITIONS: partitions,
    LOG_LEVEL: 'debug',
  };
  const logLines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(
        ...String(chunk)
          .split('\n')
          .filter((l) => l !== ''),
      );
      done();
    },
  });
  const logger = createLogger({ name: 'registry-api', level: 'debug', destination });
  const built = await buildApp({ config: loadRegistryConfig(full), logger });
  await built.app.ready();
  await infra.discover?.();
  return { ...built, logLines, env };
}

export async function tokenFor(
  role: Role,
  partitions: string[] = ['411325'],
  sub = `${role}-officer`,
): Promise<string> {
  return signToken(jwtSecret, { sub, role, org: '内乡县扶贫办', partitions }, 3600);
}

export function auth(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}
