import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type App, signToken } from '@fundtrace/service-kit';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { buildApp, type LedgerAppDeps, startWriters } from '../src/app';
import { readConfig } from '../src/config';
import type { Writers } from '../src/routes/shared';
import { testNowMs } from './fixtures';

/**
 * ledger-api as an integration test drives it through `app.inject` (or `app.listen`): built on the
 * test file's NATS connection and namespace, one writer per partition rebuilt from its stream,
 * the writers' clock at {@link testNowMs}, quiet logs. `app.close()` stops it.
 */
export async function startTestApp(
  infra: { readonly js: JetStreamClient; readonly jsm: JetStreamManager; readonly ns: string },
  o: {
    partitions: readonly string[];
    jwtSecret: string;
    /** More of buildApp's dependencies (a notice hook, another clock). */
    deps?: Omit<LedgerAppDeps, 'nats'>;
  },
): Promise<{ app: App; writers: Writers }> {
  const config = readConfig({
    JWT_SECRET: o.jwtSecret,
    FUNDTRACE_NAMESPACE: infra.ns,
    LEDGER_PARTITIONS: o.partitions.join(','),
    LOG_LEVEL: 'silent',
  });
  const built = await buildApp(config, {
    nats: { js: infra.js, jsm: infra.jsm },
    now: () => testNowMs,
    ...o.deps,
  });
  await startWriters(built.writers, infra.jsm, infra.ns);
  await built.app.ready();
  return built;
}

/**
 * ledger-api as the CLI reaches it (the CLI's end-to-end tests): {@link startTestApp} listening on
 * a free local port, a finance clerk's token for `partitions`, and a temp directory for the files
 * the CLI reads. `close()` stops the app and removes the directory.
 */
export async function startCliTestApp(
  infra: Parameters<typeof startTestApp>[0],
  o: { partitions: readonly string[]; jwtSecret: string },
): Promise<{
  app: App;
  writers: Writers;
  url: string;
  token: string;
  dir: string;
  close(): Promise<void>;
}> {
  const { app, writers } = await startTestApp(infra, o);
  const dir = mkdtempSync(join(tmpdir(), 'ledger-cli-'));
  const close = async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const token = await signToken(
      o.jwtSecret,
      { sub: 'clerk', role: 'finance', org: '内乡县财政局', partitions: [...o.partitions] },
      3600,
    );
    return { app, writers, url, token, dir, close };
  } catch (error) {
    await close();
    throw error;
  }
}
