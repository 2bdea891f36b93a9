import { generateKeyPairSync } from 'node:crypto';
import { appendBatch, ensurePartitionStreams, lastSequence, silentLogger } from '@fundtrace/eventlog';
import { createEvent, encodeEvent, ledger, newEventId, subjectFor, utcTimestamp } from '@fundtrace/events';
import {
  decodeBase64,
  hashLeaf,
  openCheckpoint,
  verifyBundle,
  verifyConsistency,
  verifyInclusion,
} from '@fundtrace/merkle';
import { latestCheckpoint, readTreeHead } from '@fundtrace/merkle/pg';
import { signToken } from '@fundtrace/service-kit';
import {
  connectTestNats,
  createTestDatabase,
  deleteNamespaceStreams,
  type TestDatabase,
  testNamespace,
} from '@fundtrace/testkit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type LogKeeperApp } from '../src/app';
import { type LogKeeperConfig, loadLogKeeperConfig } from '../src/config';
import { checkpointSigner } from '../src/keeper/signing';
import { treeKeyFor } from '../src/streams';

/**
 * The log-keeper against the machine's NATS and PostgreSQL: real events appended
 * to a namespaced LEDGER_411325, hashed into the tree by the durable consumer,
 * signed on demand, and every HTTP answer checked with the verifier alone.
 */
const partition = '411325';
const stream = `LEDGER_${partition}`;
const secret = 'log-keeper-test-secret-0123456789abcdef';

let testDb: TestDatabase;
let nc: NatsConnection;
let ns: string;
let keeper: LogKeeperApp;
let verifierKey: string;
let config: LogKeeperConfig;
const appended: Uint8Array[] = [];

function payments(from: number, count: number) {
  const start = Date.UTC(2024, 3, 1);
  return Array.from({ length: count }, (_, k) => {
    const i = from + k;
    return createEvent(ledger.PaymentInstructed, {
      id: newEventId(start + i),
      partition,
      occurredAt: '2024-04-01T09:00:00+08:00',
      recordedAt: utcTimestamp(start + i),
      actor: { userId: 'clerk-7', role: 'finance', org: '内乡县财政局' },
      commandId: `roster-2024-04-${from}`,
      correlationId: 'roster-2024-04',
      data: {
        paymentId: `pay-${i}`,
        rosterId: 'roster-2024-04',
        row: i + 2,
        householdId: `hh-${1000 + i}`,
        programmeCode: 'dibao',
        period: '2024-04',
        quantity: 1,
        amountFen: 19_000n + BigInt(i),
        accountId: 'pool-411325',
        noticeId: null,
        acceptanceRef: null,
        registrySeq: 3,
        consumed: [{ trancheId: 'tr-central-2024-1', amountFen: 19_000n + BigInt(i) }],
      },
    });
  });
}

async function append(count: number): Promise<number> {
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  const name = `${ns}_${stream}`;
  const last = await lastSequence(jsm, name);
  const events = payments(appended.length, count);
  const messages = events.map((event, index) => {
    const bytes = encodeEvent(event);
    appended.push(bytes);
    return { subject: subjectFor(event, ns), bytes, msgId: `${event.commandId}:${index}` };
  });
  await appendBatch(js, { stream: name, messages, expectedLastSeq: last });
  return appended.length;
}

async function token(role: 'finance' | 'inspector' | 'registry', partitions = [partition]) {
  return signToken(secret, { sub: 'u1', role, org: '内乡县财政局', partitions }, 600);
}

async function signNow(atLeastSize: number) {
  const response = await keeper.app.inject({
    method: 'POST',
    url: `/v1/checkpoints/${stream}`,
    headers: { authorization: `Bearer ${await token('finance')}` },
    payload: { atLeastSize },
  });
  return response;
}

beforeAll(async () => {
  testDb = await createTestDatabase();
  nc = await connectTestNats('log-keeper-test');
  ns = testNamespace();
  await ensurePartitionStreams(await jetstreamManager(nc), { partition, ns });
  await append(40);
  const seed = generateKeyPairSync('ed25519')
    .privateKey.export({ format: 'der', type: 'pkcs8' })
    .toString('base64');
  config = loadLogKeeperConfig({
    DATABASE_URL: testDb.url,
    NATS_URL: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
    FUNDTRACE_NAMESPACE: ns,
    JWT_SECRET: secret,
    LOG_SIGNING_KEY: seed,
    LOG_LEVEL: 'silent',
    // Scheduled signing is exercised by its own test; here checkpoints are signed on demand.
    LOG_CHECKPOINT_INTERVAL_MS: '3600000',
  });
  keeper = await buildApp(config);
  await keeper.keeper.discover();
  verifierKey = config.signer.verifierKey;
});

afterAll(async () => {
  await keeper?.app.close();
  if (nc) {
    await deleteNamespaceStreams(await jetstreamManager(nc), ns);
    await nc.close();
  }
  await testDb?.drop();
});

describe('log-keeper', () => {
  it('publishes its verifier key', async () => {
    const response = await keeper.app.inject({ method: 'GET', url: '/v1/verifier-key' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      verifierKey,
      keyName: 'fundtrace.example',
      originPrefix: 'fundtrace.example',
    });
  });

  it('has no checkpoint before one is signed', async () => {
    const response = await keeper.app.inject({ method: 'GET', url: `/v1/streams/${stream}/checkpoint` });
    expect(response.statusCode).toBe(404);
    expect(response.json().error.code).toBe('checkpoint_not_found');
  });

  it('signs on demand once the tree holds the events, and the checkpoint commits to exactly them', async () => {
    const response = await signNow(40);
    expect(response.statusCode).toBe(201);
    const body = response.json();
    const checkpoint = openCheckpoint(body.note, verifierKey);
    expect(checkpoint).toMatchObject({ origin: `fundtrace.example/${stream}`, size: 40 });
    // The namespace of the test streams never shows: not in the API, not in the signed origin.
    expect(body).toMatchObject({ stream, origin: `fundtrace.example/${stream}`, size: 40 });
    // …but it keys the tree, so another namespace sharing the database keeps its own trees.
    expect((await readTreeHead(testDb.db, `${ns}_${stream}`)).size).toBe(40);
    expect((await readTreeHead(testDb.db, stream)).size).toBe(0);
    // Recompute the root from the bytes we appended: the keeper hashed exactly what is in the stream.
    const inclusion = await keeper.app.inject({
      method: 'GET',
      url: `/v1/streams/${stream}/proof/inclusion?seq=7`,
    });
    const proof = inclusion.json();
    expect(Buffer.from(decodeBase64(proof.leafHash)!).equals(Buffer.from(hashLeaf(appended[6]!)))).toBe(true);
    // Asking again at the same size returns the same note, not a new one.
    const again = await signNow(40);
    expect(again.statusCode).toBe(200);
    expect(again.json().note).toBe(body.note);
    const latest = await keeper.app.inject({ method: 'GET', url: `/v1/streams/${stream}/checkpoint` });
    expect(latest.json().note).toBe(body.note);
    const bySize = await keeper.app.inject({ method: 'GET', url: `/v1/streams/${stream}/checkpoints/40` });
    expect(bySize.json().note).toBe(body.note);
  });

  it('serves an inclusion proof for every event that verifies against the signed root', async () => {
    const cp = openCheckpoint(
      (await keeper.app.inject({ method: 'GET', url: `/v1/streams/${stream}/checkpoint` })).json().note,
      verifierKey,
    );
    for (let seq = 1; seq <= 40; seq++) {
      const response = await keeper.app.inject({
        method: 'GET',
        url: `/v1/streams/${stream}/proof/inclusion?seq=${seq}`,
      });
      expect(response.statusCode).toBe(200);
      const body = response.json();
      expect(body).toMatchObject({ seq, leafIndex: seq - 1, treeSize: 40 });
      const result = verifyInclusion({
        leafIndex: body.leafIndex,
        treeSize: cp.size,
        leafHash: hashLeaf(appended[seq - 1]!),
        proof: body.proof.map((p: string) => decodeBase64(p)!),
        rootHash: cp.rootHash,
      });
      expect(result, `seq ${seq}`).toEqual({ ok: true });
    }
  });

  it('keeps up with new events and proves the old checkpoint is a prefix of the new one', async () => {
    await append(25);
    const response = await signNow(65);
    expect(response.statusCode).toBe(201);
    const newer = openCheckpoint(response.json().note, verifierKey);
    const older = openCheckpoint(
      (await keeper.app.inject({ method: 'GET', url: `/v1/streams/${stream}/checkpoints/40` })).json().note,
      verifierKey,
    );
    const proof = (
      await keeper.app.inject({ method: 'GET', url: `/v1/streams/${stream}/proof/consistency?from=40&to=65` })
    ).json();
    expect(
      verifyConsistency({
        oldSize: 40,
        newSize: 65,
        oldRoot: older.rootHash,
        newRoot: newer.rootHash,
        proof: proof.proof.map((p: string) => decodeBase64(p)!),
      }),
    ).toEqual({ ok: true });

    const bundle = await keeper.app.inject({
      method: 'GET',
      url: `/v1/streams/${stream}/bundles/consistency?from=40`,
    });
    expect(bundle.statusCode).toBe(200);
    expect(verifyBundle(bundle.json(), verifierKey)).toMatchObject({ ok: true, oldSize: 40, newSize: 65 });
  });

  it('hands staff an inclusion bundle with the event that verifies offline', async () => {
    const response = await keeper.app.inject({
      method: 'GET',
      url: `/v1/streams/${stream}/bundles/inclusion?seq=50`,
      headers: { authorization: `Bearer ${await token('inspector')}` },
    });
    expect(response.statusCode).toBe(200);
    const bundle = response.json();
    expect(Buffer.from(decodeBase64(bundle.event)!).equals(Buffer.from(appended[49]!))).toBe(true);
    expect(verifyBundle(bundle, verifierKey)).toMatchObject({ ok: true, leafIndex: 49, treeSize: 65 });
    const atOlder = await keeper.app.inject({
      method: 'GET',
      url: `/v1/streams/${stream}/bundles/inclusion?seq=5&size=40`,
      headers: { authorization: `Bearer ${await token('finance')}` },
    });
    expect(verifyBundle(atOlder.json(), verifierKey)).toMatchObject({ ok: true, leafIndex: 4, treeSize: 40 });
  });

  it('refuses bundles with events to the public and to other counties', async () => {
    const anonymous = await keeper.app.inject({
      method: 'GET',
      url: `/v1/streams/${stream}/bundles/inclusion?seq=1`,
    });
    expect(anonymous.statusCode).toBe(401);
    const otherCounty = await keeper.app.inject({
      method: 'GET',
      url: `/v1/streams/${stream}/bundles/inclusion?seq=1`,
      headers: { authorization: `Bearer ${await token('inspector', ['411221'])}` },
    });
    expect(otherCounty.statusCode).toBe(403);
    const unsigned = await keeper.app.inject({
      method: 'POST',
      url: `/v1/checkpoints/${stream}`,
      payload: {},
    });
    expect(unsigned.statusCode).toBe(401);
    const wrongRole = await keeper.app.inject({
      method: 'POST',
      url: `/v1/checkpoints/${stream}`,
      headers: { authorization: `Bearer ${await token('registry')}` },
      payload: {},
    });
    expect(wrongRole.statusCode).toBe(403);
  });

  it.each([
    ['/v1/streams/LEDGER_41132/checkpoint', 400, 'validation_failed'],
    ['/v1/streams/ledger_411325/checkpoint', 400, 'validation_failed'],
    [`/v1/streams/${stream}/checkpoints/41`, 404, 'checkpoint_not_found'],
    [`/v1/streams/${stream}/proof/inclusion?seq=0`, 400, 'validation_failed'],
    [`/v1/streams/${stream}/proof/inclusion?seq=1.5`, 400, 'validation_failed'],
    [`/v1/streams/${stream}/proof/inclusion?seq=66&size=65`, 422, 'seq_out_of_range'],
    [`/v1/streams/${stream}/proof/inclusion?seq=1&size=66`, 404, 'size_beyond_tree'],
    [`/v1/streams/${stream}/proof/consistency?from=66&to=65`, 422, 'old_size_greater'],
    [`/v1/streams/${stream}/proof/consistency?from=0&to=65`, 422, 'old_size_zero'],
    [`/v1/streams/${stream}/proof/consistency?from=3&to=99`, 404, 'size_beyond_tree'],
    [`/v1/streams/${stream}/bundles/consistency?from=39`, 404, 'checkpoint_not_found'],
    ['/v1/streams/AUDIT_411325/checkpoint', 404, 'checkpoint_not_found'],
  ])('GET %s → %i %s', async (url, status, code) => {
    const response = await keeper.app.inject({ method: 'GET', url });
    expect(response.statusCode).toBe(status);
    expect(response.json().error.code).toBe(code);
  });

  it('refuses to sign a stream it does not keep, and says when the log is behind', async () => {
    const unknown = await keeper.app.inject({
      method: 'POST',
      url: '/v1/checkpoints/LEDGER_411221',
      headers: { authorization: `Bearer ${await token('inspector', ['*'])}` },
      payload: {},
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('stream_not_found');
    const ahead = await signNow(1_000);
    expect(ahead.statusCode).toBe(409);
    expect(ahead.json().error).toMatchObject({
      code: 'log_behind',
      details: { size: 65, atLeastSize: 1000 },
    });
  });

  it('signs without a body, and refuses a malformed one', async () => {
    const headers = { authorization: `Bearer ${await token('inspector')}` };
    const bare = await keeper.app.inject({ method: 'POST', url: `/v1/checkpoints/${stream}`, headers });
    expect(bare.statusCode, bare.body).toBe(200);
    expect(bare.json().size).toBe(65);
    for (const payload of [{ atLeastSize: -1 }, { atLeastSize: 'many' }, { atLeastSize: 3, extra: true }]) {
      const response = await keeper.app.inject({
        method: 'POST',
        url: `/v1/checkpoints/${stream}`,
        headers,
        payload,
      });
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.json().error.code).toBe('validation_failed');
    }
  });

  it('signs a stream created after start without waiting for the discovery timer', async () => {
    const fresh = '411221';
    await ensurePartitionStreams(await jetstreamManager(nc), { partition: fresh, ns, contexts: ['audit'] });
    const response = await keeper.app.inject({
      method: 'POST',
      url: `/v1/checkpoints/AUDIT_${fresh}`,
      headers: { authorization: `Bearer ${await token('inspector', [fresh])}` },
    });
    expect(response.statusCode).toBe(201);
    expect(response.json()).toMatchObject({ stream: `AUDIT_${fresh}`, size: 0 });
  });

  it('is ready while every stream is healthy', async () => {
    const response = await keeper.app.inject({ method: 'GET', url: '/ready' });
    expect(response.json()).toMatchObject({
      status: 'ready',
      checks: { merkle_log: 'ok', postgres: 'ok', nats: 'ok' },
    });
  });

  it('resumes after a restart from the last committed batch, and the new tree extends the old one', async () => {
    await keeper.app.close();
    await append(10);
    keeper = await buildApp(config);
    await keeper.keeper.discover();
    const response = await signNow(75);
    expect(response.statusCode).toBe(201);
    const bundle = await keeper.app.inject({
      method: 'GET',
      url: `/v1/streams/${stream}/bundles/consistency?from=65`,
    });
    expect(verifyBundle(bundle.json(), verifierKey)).toMatchObject({ ok: true, oldSize: 65, newSize: 75 });
    const inclusion = await keeper.app.inject({
      method: 'GET',
      url: `/v1/streams/${stream}/bundles/inclusion?seq=75`,
      headers: { authorization: `Bearer ${await token('finance')}` },
    });
    expect(verifyBundle(inclusion.json(), verifierKey)).toMatchObject({ ok: true, leafIndex: 74 });
  });

  it('scheduled signing signs only the streams that grew since their last checkpoint', async () => {
    const signing = checkpointSigner({
      db: testDb.db,
      signer: config.signer,
      originPrefix: 'fundtrace.example',
      treeKey: treeKeyFor(ns),
      logger: silentLogger(),
    });
    expect(await signing.signGrown([stream, 'AUDIT_411325'])).toEqual([]);
    await append(3);
    // The consumer appends asynchronously (possibly in more than one batch): sign until all 3 are in.
    const sizes: number[] = [];
    const deadline = Date.now() + 30_000;
    while (sizes.at(-1) !== 78 && Date.now() < deadline) {
      sizes.push(...(await signing.signGrown([stream, 'AUDIT_411325'])).map((c) => c.size));
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(sizes.at(-1)).toBe(78);
    expect(sizes.every((size, i) => size > 75 && (i === 0 || size > sizes[i - 1]!))).toBe(true);
    expect((await latestCheckpoint(testDb.db, `${ns}_${stream}`))?.size).toBe(78);
    expect(await signing.signGrown([stream])).toEqual([]);
  });
});

describe('log-keeper configuration', () => {
  const base = {
    JWT_SECRET: secret,
    LOG_SIGNING_KEY: Buffer.alloc(32, 7).toString('base64'),
  };

  it('derives the verifier key from the seed and the origin prefix', () => {
    const loaded = loadLogKeeperConfig({ ...base, LOG_ORIGIN_PREFIX: 'finance.neixiang.example/fundtrace' });
    expect(loaded.signer.verifierKey.startsWith('finance.neixiang.example/fundtrace+')).toBe(true);
    expect(loaded.env).not.toHaveProperty('LOG_SIGNING_KEY');
    expect(loaded.env.PORT).toBe(4104);
  });

  it('reads TRUST_PROXY for its per-address limit: off by default, a hop count or proxies; never true', () => {
    expect(loadLogKeeperConfig(base).env.TRUST_PROXY).toBe(false);
    expect(loadLogKeeperConfig({ ...base, TRUST_PROXY: '1' }).env.TRUST_PROXY).toBe(1);
    expect(loadLogKeeperConfig({ ...base, TRUST_PROXY: '10.0.0.0/8' }).env.TRUST_PROXY).toEqual([
      '10.0.0.0/8',
    ]);
    expect(() => loadLogKeeperConfig({ ...base, TRUST_PROXY: 'true' })).toThrow(
      /TRUST_PROXY: true would trust/,
    );
  });

  it('reports every problem at once without echoing the key', () => {
    try {
      loadLogKeeperConfig({
        JWT_SECRET: 'short',
        LOG_SIGNING_KEY: 'c2VjcmV0LWJ1dC10b28tc2hvcnQ=',
        LOG_ORIGIN_PREFIX: 'has space',
        LOG_CHECKPOINT_INTERVAL_MS: '10',
      });
      expect.unreachable();
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toMatch(/JWT_SECRET/);
      expect(message).toMatch(/LOG_SIGNING_KEY/);
      expect(message).toMatch(/LOG_ORIGIN_PREFIX/);
      expect(message).toMatch(/LOG_CHECKPOINT_INTERVAL_MS/);
      expect(message).not.toMatch(/c2VjcmV0/);
    }
    expect(() => loadLogKeeperConfig({ JWT_SECRET: secret })).toThrow(/LOG_SIGNING_KEY: .*required/);
  });
});
