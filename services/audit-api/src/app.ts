import { createDb } from '@fundtrace/db';
import type { Logger } from '@fundtrace/eventlog';
import { beijingDate, loadGazetteer } from '@fundtrace/events';
import { toHex } from '@fundtrace/merkle';
import { loadReference } from '@fundtrace/rules';
import { type App, createApp, dbPlugin, natsPlugin } from '@fundtrace/service-kit';
import type { AuditConfig } from './config';
import { AuditWriter } from './findings/writer';
import { findingRoutes } from './routes/findings';
import { progressRoutes } from './routes/progress';
import { proofRoutes } from './routes/proofs';
import { ruleRoutes } from './routes/rules';
import { traceRoutes } from './routes/traces';
import { trailRoutes } from './routes/trail';
import { RuleRunner, scheduleRules } from './rules/runner';

export const serviceName = 'audit-api';
export const serviceVersion = '0.1.0';

export interface AuditApp {
  readonly app: App;
  readonly writers: ReadonlyMap<string, AuditWriter>;
  readonly runner: RuleRunner;
}

export interface BuildAuditAppOptions {
  readonly config: AuditConfig;
  /** The wall clock (tests pin it); used for default dates, never inside a rule or decider. */
  readonly now?: () => number;
}

/**
 * Builds audit-api without listening (tests use app.inject): the books (the live read-model schema),
 * the log-keeper's Merkle tables, NATS, one AUDIT writer per served partition, the rule runner and
 * its schedule, and the routes.
 */
export async function buildApp(options: BuildAuditAppOptions): Promise<AuditApp> {
  const { env, verifier, verifierKey } = options.config;
  const now = options.now ?? Date.now;
  const app = await createApp({
    name: serviceName,
    version: serviceVersion,
    description:
      'For inspectors (纪检监察, 审计): traces of any yuan up to its 文号 and down to households, trails, spending progress, proofs from the verifiable log, and warnings (预警) with their review workflow.',
    logLevel: env.LOG_LEVEL,
    auth: { secret: env.JWT_SECRET },
  });
  await app.register(dbPlugin, {
    url: env.DATABASE_URL,
    schema: { active: true, fallback: 'public' },
    applicationName: serviceName,
  });
  await app.register(natsPlugin, { url: env.NATS_URL, name: serviceName });
  // The log-keeper's trees and checkpoints live in its own schema, not in the blue/green books.
  const logDb = createDb(env.DATABASE_URL, {
    schema: env.LOG_DB_SCHEMA,
    applicationName: `${serviceName}-log`,
    max: 4,
  });
  app.addHook('onClose', async () => {
    await logDb.destroy();
  });
  const logger = app.log as unknown as Logger;
  const writers = new Map<string, AuditWriter>();
  for (const partition of env.AUDIT_PARTITIONS) {
    writers.set(
      partition,
      await AuditWriter.open({
        js: app.js,
        jsm: app.jsm,
        partition,
        ns: env.FUNDTRACE_NAMESPACE,
        replicas: env.STREAM_REPLICAS,
        logger,
        now,
      }),
    );
  }
  const reference = loadReference(env.RULES_PROGRAMMES_FILE);
  const { programmes } = reference;
  const runner = new RuleRunner({
    db: app.db,
    writers,
    reference,
    params: env.RULES_PARAMS,
    logger,
  });
  const today = () => beijingDate(now());
  const schedule = scheduleRules({
    runner,
    partitions: env.AUDIT_PARTITIONS,
    intervalMs: env.RULES_INTERVAL_MS,
    today,
    logger,
  });
  app.addHook('onClose', async () => {
    await schedule.stop();
  });
  const evidence = { logDb, jsm: app.jsm, ns: env.FUNDTRACE_NAMESPACE, keyId: toHex(verifier.keyId) };
  traceRoutes(app, evidence);
  trailRoutes(app);
  progressRoutes(app, now, { places: loadGazetteer(env.AUDIT_GAZETTEER_FILE), programmes });
  proofRoutes(app, { ...evidence, verifier, verifierKey });
  findingRoutes(app, writers);
  ruleRoutes(app, runner, today);
  return { app, writers, runner };
}
