import { connectNats, ensurePartitionStreams, lastSequence } from '@fundtrace/eventlog';
import { type Context, streamName } from '@fundtrace/events';
import { defaultOriginPrefix, parseSigningKey } from '@fundtrace/merkle';
import { generateHouseholds } from '@fundtrace/pii';
import {
  type PrivateNats,
  recordReliability,
  startPrivateNats,
  testNamespace,
  useTestInfra,
} from '@fundtrace/testkit';
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, faultLogDir, type ServiceProcess, startService, token, until } from './support/faults';
import { generateSecrets } from './support/services';

/**
 * registry-api and audit-api on a three-node JetStream cluster with R3 streams (STREAM_REPLICAS=3,
 * the production setting): registry-api verifies the REGISTRY stream ledger-api created R3, audit-api
 * creates its AUDIT stream R3, and both write commands to them. Without the setting (default 1) a
 * writer refuses to start on an R3 stream, naming the difference, rather than write to a stream
 * configured otherwise than it requires.
 */

const infra = useTestInfra({ nats: false });
const partition = '411325';
const secrets = generateSecrets();
const secret = secrets.JWT_SECRET;
const ns = testNamespace();
const replicas = 3;
let cluster: PrivateNats;
let nc: NatsConnection;
let jsm: JetStreamManager;
const services: ServiceProcess[] = [];

beforeAll(async () => {
  cluster = await startPrivateNats({ cluster: { size: replicas } });
  nc = await connectNats([...cluster.urls], { name: 'fault-cluster-writers' });
  jsm = await jetstreamManager(nc);
  // ledger-api creates the LEDGER and REGISTRY streams of its partitions (it tails the registry).
  await ensurePartitionStreams(jsm, { partition, ns, contexts: ['ledger', 'registry'], replicas });
}, 300_000);

afterAll(async () => {
  for (const service of services.reverse()) await service.stop().catch(() => undefined);
  await nc?.close().catch(() => undefined);
  await cluster?.stop();
});

/** The stream's configured replicas, and how many servers hold a copy (leader + followers). */
async function placement(context: Context): Promise<{ configured: number; servers: number }> {
  const info = await jsm.streams.info(streamName(context, partition, ns));
  return { configured: info.config.num_replicas, servers: 1 + (info.cluster?.replicas?.length ?? 0) };
}

describe('writers on R3 streams of a three-node cluster', () => {
  it('registry-api and audit-api start on R3 streams with STREAM_REPLICAS=3 and write commands; with the default they refuse to start', async () => {
    const logDir = faultLogDir(ns);
    const env = {
      NATS_URL: cluster.urls.join(','),
      FUNDTRACE_NAMESPACE: ns,
      JWT_SECRET: secret,
      DATABASE_URL: infra.databaseUrl,
    };
    const registryEnv = {
      ...env,
      REGISTRY_PARTITIONS: partition,
      PII_KEYS: secrets.PII_KEYS,
      PII_ACTIVE_KEY: secrets.PII_ACTIVE_KEY,
      PII_HMAC_KEY: secrets.PII_HMAC_KEY,
    };

    // The default (1) verifies the R3 stream and stops the start, naming the difference.
    const refused = await startService('registry-api', registryEnv, { logDir, suffix: '-r1' }).then(
      (service) => {
        services.push(service);
        return null;
      },
      (error: Error) => error.message,
    );
    expect(refused, 'registry-api started on an R3 stream it requires to be R1').not.toBeNull();
    expect(refused).toContain('num_replicas is 3, expected 1');

    const registry = await startService(
      'registry-api',
      { ...registryEnv, STREAM_REPLICAS: String(replicas) },
      { logDir },
    );
    services.push(registry);
    const audit = await startService(
      'audit-api',
      {
        ...env,
        STREAM_REPLICAS: String(replicas),
        AUDIT_PARTITIONS: partition,
        LOG_VERIFIER_KEY: parseSigningKey(defaultOriginPrefix, secrets.LOG_SIGNING_KEY).verifierKey,
        RULES_INTERVAL_MS: '0',
      },
      { logDir },
    );
    services.push(audit);
    services.push(await startService('projector', env, { logDir }));
    // audit-api created its AUDIT stream on start, R3 like the others.
    for (const context of ['registry', 'audit'] as const) {
      expect(await placement(context), context).toEqual({ configured: replicas, servers: replicas });
    }

    // registry-api writes: two households bound to one 一卡通 account (一卡多户).
    const registrar = await token(secret, 'registry', [partition]);
    const [first, second] = generateHouseholds({ county: partition, villages: 1, count: 2, seed: 'r3' });
    expect(first?.account, 'the generator gave the first household an account').toBeTruthy();
    const shared = { ...second!, account: { ...first!.account!, holderMemberNo: 1 } };
    let registryEvents = 0;
    for (const [i, household] of [first!, shared].entries()) {
      const answer = await call('POST', `${registry.url}/v1/partitions/${partition}/households`, registrar, {
        commandId: `r3-reg-${i}`,
        household,
      });
      expect(answer.status, JSON.stringify(answer.body)).toBe(201);
      expect(answer.body.firstSeq).toBe(registryEvents + 1);
      registryEvents += answer.body.events;
      expect(answer.body.lastSeq).toBe(registryEvents);
    }
    // Each: HouseholdRegistered and AccountBound at least (a lifted household also its exit).
    expect(registryEvents).toBeGreaterThanOrEqual(4);
    expect(await lastSequence(jsm, streamName('registry', partition, ns))).toBe(registryEvents);

    // audit-api writes: the rule run over the projected books raises the 一卡多户 finding.
    await until('the projector to book both households', async () => {
      const { rows } = await sql<{ n: string }>`select count(*)::text as n from books.households`.execute(
        infra.db,
      );
      return rows[0]?.n === '2';
    });
    const inspector = await token(secret, 'inspector', [partition]);
    const run = await call('POST', `${audit.url}/v1/rules/run`, inspector, {
      partition,
      rules: [{ id: 'shared_account' }],
      correlationId: 'r3-rules',
    });
    expect(run.status, JSON.stringify(run.body)).toBe(200);
    expect(run.body.raised).toHaveLength(1);
    const auditStream = streamName('audit', partition, ns);
    expect(await lastSequence(jsm, auditStream)).toBe(1);
    expect(run.body.raised[0].seq).toBe(1);
    expect(await placement('audit')).toEqual({ configured: replicas, servers: replicas });

    recordReliability({
      suite: 'fault',
      name: 'writers on R3 streams',
      injected:
        'registry-api and audit-api started on a three-node nats-server cluster whose streams are R3, once with the default STREAM_REPLICAS (1) and then with STREAM_REPLICAS=3',
      iterations: 1,
      checked:
        'with the default registry-api refused to start, naming num_replicas 3 vs 1; with 3 it verified the REGISTRY stream and audit-api created its AUDIT stream on three servers; two households registered and the 一卡多户 finding raised (1 event) on the R3 streams',
      result: 'passed',
      details: { registryEvents, auditEvents: 1 },
    });
  }, 600_000);
});
