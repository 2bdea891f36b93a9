/**
 * The whole product as it runs in production, for the reliability suites: all six services as
 * child processes (`node --import tsx services/<name>/src/main.ts`, each the leader of its own
 * process group, stdout+stderr appended to `<logDir>/<name>.log`), on free loopback ports, against
 * a fresh test database and stream namespace on the machine's PostgreSQL and NATS, with freshly
 * generated secrets, and a small county written through the real APIs (the notice board's fixture
 * `loadCounty`: households, money down central → province → city → county, projects, notices, a
 * paid roster, a resolved objection).
 *
 * Use it from a test file:
 *
 * ```ts
 * const product = useProduct();                  // beforeAll starts everything, afterAll stops it
 * it('…', async () => {
 *   const before = await product.streamSequences();
 *   const token = await product.token('finance', [product.county]);
 *   const res = await fetch(`${product.urls['ledger-api']}/v1/partitions/411325/…`, { … });
 *   expect(await product.appendedSince(before)).toEqual([]);
 *   product.services['projector'].proc.signal('SIGKILL');   // faults: a ManagedProcess per service
 *   await product.restart('projector');                       // same env, same port, same log file
 * });
 * ```
 *
 * Startup costs one tsx compile per service (about 15–60 s on the shared machine) plus the county.
 * Logs of a file whose tests all passed are removed afterwards; FUNDTRACE_KEEP_LOGS=1 keeps them.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultOriginPrefix, parseSigningKey } from '@fundtrace/merkle';
import { generateHouseholds, generateVillages, type HouseholdInput, townshipsOf } from '@fundtrace/pii';
import { type Role, signToken } from '@fundtrace/service-kit';
import {
  connectTestNats,
  createTestDatabase,
  deleteNamespaceStreams,
  freePorts,
  type ManagedProcess,
  runEveryStep,
  StopWaiting,
  spawnManaged,
  stopProcess,
  type TestDatabase,
  testNamespace,
  waitUntil,
} from '@fundtrace/testkit';
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { county, loadCounty } from '../../../services/notice-board/test/support/county';

const root = join(import.meta.dirname, '..', '..', '..');

/** Every service, in the order they start (they stop together). */
export const serviceNames = [
  'registry-api',
  'ledger-api',
  'projector',
  'log-keeper',
  'audit-api',
  'notice-board',
] as const;
export type ServiceName = (typeof serviceNames)[number];

/** How long a service may take to answer /health: tsx compiles on start and the machine is shared. */
const serviceStartTimeoutMs = 180_000;
/** How long the projector and the log-keeper may take to catch up with the streams. */
const catchUpTimeoutMs = 180_000;
/** SIGTERM first; a service still running after this is killed. */
const stopGraceMs = 15_000;

export interface ProductSecrets {
  readonly JWT_SECRET: string;
  readonly PII_KEYS: string;
  readonly PII_ACTIVE_KEY: string;
  readonly PII_HMAC_KEY: string;
  readonly LOG_SIGNING_KEY: string;
}

export interface RunningService {
  readonly name: ServiceName;
  readonly url: string;
  readonly port: number;
  readonly env: Readonly<Record<string, string>>;
  readonly logFile: string;
  /** The current process (replaced by `restart`). */
  proc: ManagedProcess;
}

export interface ProductOptions {
  /** Households registered (default 24) in this many villages (default 4). */
  readonly households?: number;
  readonly villages?: number;
  /** Level of every service's log (default `info`: every request is logged, so greps see them). */
  readonly logLevel?: string;
  /** Extra variables per service (e.g. a lower notice-board rate limit). */
  readonly env?: Partial<Record<ServiceName, Record<string, string>>>;
  /** Where the logs go; default `test-output/reliability/<namespace>/` (git-ignored). */
  readonly logDir?: string;
}

export interface Product {
  readonly county: string;
  readonly ns: string;
  readonly database: TestDatabase;
  readonly secrets: ProductSecrets;
  readonly urls: Readonly<Record<ServiceName, string>>;
  readonly services: Readonly<Record<ServiceName, RunningService>>;
  readonly logDir: string;
  /** The households as registry staff typed them, in clear: what must never leak. */
  readonly households: readonly HouseholdInput[];
  readonly villages: readonly string[];
  readonly notices: { readonly paid: string; readonly open: string; readonly roster: string };
  readonly nc: NatsConnection;
  readonly jsm: JetStreamManager;
  /** A bearer token signed with the product's secret (ttl in seconds, default an hour). */
  token(role: Role, partitions: readonly string[], ttlSeconds?: number): Promise<string>;
  /** Last sequence of every stream of this namespace (streams not yet created are absent). */
  streamSequences(): Promise<Map<string, number>>;
  /** `stream: before → after` for every stream that grew since `before` (a new stream counts). */
  appendedSince(before: Map<string, number>): Promise<string[]>;
  /** Waits until the projector and the log-keeper have caught up with every stream. */
  waitForCatchUp(): Promise<void>;
  /** Names of the services whose process has exited or whose /health does not answer 200. */
  unhealthy(): Promise<ServiceName[]>;
  /** Restarts a service (after it was killed or stopped) with the same env, port and log file. */
  restart(name: ServiceName): Promise<void>;
  /** Everything every service has logged so far, per service. */
  logs(): Record<ServiceName, string>;
  stop(): Promise<void>;
}

async function healthy(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/health`, { signal: AbortSignal.timeout(5_000) })).ok;
  } catch {
    return false;
  }
}

function launch(service: Omit<RunningService, 'proc'>): ManagedProcess {
  return spawnManaged(
    process.execPath,
    ['--import', 'tsx', join(root, 'services', service.name, 'src', 'main.ts')],
    { cwd: root, logFile: service.logFile, env: { ...service.env } },
  );
}

async function waitHealthy(service: RunningService): Promise<void> {
  await waitUntil(
    async () => {
      if (!service.proc.isRunning()) throw new StopWaiting(`exited:\n${service.proc.logTail(30)}`);
      return healthy(service.url);
    },
    serviceStartTimeoutMs,
    () => `${service.name} did not answer ${service.url}/health`,
  );
}

export function generateSecrets(): ProductSecrets {
  return {
    JWT_SECRET: randomBytes(32).toString('base64url'),
    PII_KEYS: `t1:${randomBytes(32).toString('base64')}`,
    PII_ACTIVE_KEY: 't1',
    PII_HMAC_KEY: randomBytes(32).toString('base64'),
    LOG_SIGNING_KEY: randomBytes(32).toString('base64'),
  };
}

/** Starts every service, loads the county and waits until the read side has caught up. */
export async function startProduct(options: ProductOptions = {}): Promise<Product> {
  const ns = testNamespace();
  const logDir = options.logDir ?? join(root, 'test-output', 'reliability', ns);
  mkdirSync(logDir, { recursive: true });
  const database = await createTestDatabase();
  const nc = await connectTestNats(`fundtrace-reliability-${ns}`);
  const jsm = await jetstreamManager(nc);
  const secrets = generateSecrets();
  const ports = await freePorts(serviceNames.length);
  const urls = Object.fromEntries(
    serviceNames.map((name, i) => [name, `http://127.0.0.1:${ports[i]}`]),
  ) as Record<ServiceName, string>;

  const villages = generateVillages(county, options.villages ?? 4);
  const households = generateHouseholds({
    county,
    count: options.households ?? 24,
    seed: 'reliability',
    villages: villages.map((v) => v.code),
  });
  const names: Record<string, string> = {};
  for (const t of townshipsOf(county)) names[t.code] = t.name;
  for (const v of villages) names[v.code] = v.name;
  const gazetteerFile = join(logDir, 'gazetteer.json');
  writeFileSync(gazetteerFile, JSON.stringify(names));

  const base: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    ...secrets,
    DATABASE_URL: database.url,
    NATS_URL: process.env.NATS_URL || 'nats://127.0.0.1:4222',
    FUNDTRACE_NAMESPACE: ns,
    HOST: '127.0.0.1',
    LOG_LEVEL: options.logLevel ?? 'info',
  };
  const perService: Record<ServiceName, Record<string, string>> = {
    'registry-api': { REGISTRY_PARTITIONS: county },
    'ledger-api': { LOG_KEEPER_URL: urls['log-keeper'] },
    projector: {},
    'log-keeper': { LOG_CHECKPOINT_INTERVAL_MS: '1000' },
    'audit-api': {
      AUDIT_PARTITIONS: county,
      LOG_VERIFIER_KEY: parseSigningKey(defaultOriginPrefix, secrets.LOG_SIGNING_KEY).verifierKey,
      // Rules run only when asked (POST /v1/rules/run): a scheduled run would append findings
      // while a test compares stream sequences.
      RULES_INTERVAL_MS: '0',
    },
    'notice-board': {
      LEDGER_API_URL: urls['ledger-api'],
      LOG_KEEPER_PUBLIC_URL: urls['log-keeper'],
      NOTICE_GAZETTEER_FILE: gazetteerFile,
      NOTICE_CHECKPOINT_POLL_MS: '200',
    },
  };
  const services = Object.fromEntries(
    serviceNames.map((name, i) => {
      const spec = {
        name,
        url: urls[name],
        port: ports[i]!,
        env: { ...base, ...perService[name], ...options.env?.[name], PORT: String(ports[i]) },
        logFile: join(logDir, `${name}.log`),
      };
      // The board reads the projector's schema pointer at start: it is launched once the projector runs.
      return [name, { ...spec, proc: name === 'notice-board' ? undefined : launch(spec) }];
    }),
  ) as unknown as Record<ServiceName, RunningService>;

  const streamSequences = async () => {
    const sequences = new Map<string, number>();
    for await (const info of jsm.streams.list()) {
      if (info.config.name.startsWith(`${ns}_`)) sequences.set(info.config.name, info.state.last_seq);
    }
    return sequences;
  };

  const waitForCatchUp = () =>
    waitUntil(
      async () => {
        for (const [stream, last] of await streamSequences()) {
          if (last === 0) continue;
          const plain = stream.slice(ns.length + 1);
          const projected = await sql<{ n: string | null }>`
            select max(seq)::text as n from books.events where stream = ${plain}`.execute(database.db);
          const signed = await sql<{ n: string | null }>`
            select max(size)::text as n from public.merkle_checkpoints where stream = ${stream}`.execute(
            database.db,
          );
          if (Number(projected.rows[0]?.n ?? 0) < last || Number(signed.rows[0]?.n ?? 0) < last) return false;
        }
        return true;
      },
      catchUpTimeoutMs,
      () => 'the projector and the log-keeper did not catch up with the streams',
    );

  let stopped = false;
  // The services stop together (one grace period, not six in a row: on the loaded machine six
  // sequential SIGTERMs could outlast afterAll's timeout, and then the streams and the database
  // were never removed); then the streams, the connection and the database go, each step tried
  // even if one before it failed, and the first failure is thrown instead of swallowed.
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await runEveryStep([
      async () => {
        const outcomes = await Promise.allSettled(
          serviceNames.map(async (name) => {
            const proc = services[name].proc as ManagedProcess | undefined;
            if (proc) await stopProcess(proc, 'SIGTERM', stopGraceMs);
          }),
        );
        const failed = outcomes.find((outcome) => outcome.status === 'rejected');
        if (failed) throw failed.reason;
      },
      () => deleteNamespaceStreams(jsm, ns),
      () => nc.close(),
      () => database.drop(),
    ]);
  };

  try {
    for (const name of serviceNames) {
      if (name === 'notice-board') services[name].proc = launch(services[name]);
      await waitHealthy(services[name]);
    }
    const notices = await loadCounty(
      {
        ledger: urls['ledger-api'],
        registry: urls['registry-api'],
        projector: urls.projector,
        logKeeper: urls['log-keeper'],
      },
      secrets.JWT_SECRET,
      households,
    );
    await waitForCatchUp();
    return {
      county,
      ns,
      database,
      secrets,
      urls,
      services,
      logDir,
      households,
      villages: villages.map((v) => v.code),
      notices,
      nc,
      jsm,
      token: (role, partitions, ttlSeconds = 3600) =>
        signToken(
          secrets.JWT_SECRET,
          { sub: `reliability-${role}`, role, org: '测试单位', partitions: [...partitions] },
          ttlSeconds,
        ),
      streamSequences,
      async appendedSince(before) {
        const grown: string[] = [];
        for (const [stream, last] of await streamSequences()) {
          const was = before.get(stream);
          if (was === undefined ? last > 0 : last > was) grown.push(`${stream}: ${was ?? 'none'} → ${last}`);
        }
        return grown;
      },
      waitForCatchUp,
      async unhealthy() {
        const bad: ServiceName[] = [];
        for (const name of serviceNames) {
          const service = services[name];
          if (!service.proc.isRunning() || !(await healthy(service.url))) bad.push(name);
        }
        return bad;
      },
      async restart(name) {
        const service = services[name];
        if (service.proc.isRunning()) await stopProcess(service.proc, 'SIGTERM', stopGraceMs);
        service.proc = launch(service);
        await waitHealthy(service);
      },
      logs() {
        return Object.fromEntries(
          serviceNames.map((name) => [name, readFileSync(services[name].logFile, 'utf8')]),
        ) as Record<ServiceName, string>;
      },
      stop,
    };
  } catch (error) {
    const tails = serviceNames
      .map((name) => `--- ${name} ---\n${services[name].proc?.logTail(15) ?? '(not started)'}`)
      .join('\n');
    await stop().catch(() => undefined);
    throw new Error(`${(error as Error).message}\n${tails}`);
  }
}

/**
 * `beforeAll` starts the product, `afterAll` stops it and removes its database and streams. The
 * returned object's properties are usable inside tests and hooks (not at module level).
 */
export function useProduct(options: ProductOptions = {}): Product {
  let product: Product | undefined;
  let failed = false;
  beforeAll(async () => {
    product = await startProduct(options);
  }, 900_000);
  afterEach(({ task }) => {
    if (task.result?.state === 'fail') failed = true;
  });
  afterAll(async () => {
    await product?.stop();
    // The logs of a run that passed are not needed (the greps read them); a failure's are kept.
    if (product && !failed && !process.env.FUNDTRACE_KEEP_LOGS)
      rmSync(product.logDir, { recursive: true, force: true });
  }, 120_000);
  return new Proxy({} as Product, {
    get(_target, key) {
      if (product === undefined) throw new Error('useProduct: the product is read before beforeAll ran');
      return product[key as keyof Product];
    },
  });
}

/** Every log file written under a product's log directory (for greps after a suite). */
export function logFiles(logDir: string): string[] {
  return readdirSync(logDir)
    .filter((f) => f.endsWith('.log'))
    .map((f) => join(logDir, f));
}
