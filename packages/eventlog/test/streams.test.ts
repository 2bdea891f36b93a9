import { streamName } from '@fundtrace/events';
import { connectTestNats, useTestInfra } from '@fundtrace/testkit';
import { DiscardPolicy, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import { describe, expect, it } from 'vitest';
import {
  duplicateWindowMs,
  ensurePartitionStreams,
  messageBytesMax,
  requiredPartitionStream,
  StreamConfigMismatchError,
  StreamMissingError,
  streamConfigFor,
  verifyStream,
} from '../src';
import { partition } from './support/fixtures';

// Proves that streams are created with the audit properties, that an existing
// stream is verified and never silently reconfigured, and that the server then
// refuses to delete or purge events.
const infra = useTestInfra({ database: false });

describe('ensurePartitionStreams', () => {
  it('creates LEDGER_, REGISTRY_ and AUDIT_<code> with file storage, no limits, deny delete/purge', async () => {
    const names = await ensurePartitionStreams(infra.jsm, { partition, ns: infra.ns });
    expect(names).toEqual(
      ['ledger', 'registry', 'audit'].map((c) => streamName(c as 'ledger', partition, infra.ns)),
    );
    for (const name of names) {
      const { config } = await infra.jsm.streams.info(name);
      expect(config).toMatchObject({
        storage: StorageType.File,
        retention: RetentionPolicy.Limits,
        discard: DiscardPolicy.New,
        max_msgs: -1,
        max_bytes: -1,
        max_age: 0,
        max_msg_size: messageBytesMax,
        duplicate_window: nanos(duplicateWindowMs),
        num_replicas: 1,
        deny_delete: true,
        deny_purge: true,
        allow_rollup_hdrs: false,
      });
    }
    // Idempotent: a second run (every service start) verifies and succeeds.
    expect(await ensurePartitionStreams(infra.jsm, { partition, ns: infra.ns })).toEqual(names);
  });

  it('is safe when several processes ensure the same streams at once', async () => {
    const others = await Promise.all([connectTestNats('ensure-a'), connectTestNats('ensure-b')]);
    try {
      const managers = await Promise.all(others.map((nc) => jetstreamManager(nc)));
      // Nested under this file's namespace, so the file's cleanup removes these streams too.
      const ns = `${infra.ns}_c`;
      const results = await Promise.all(
        managers.map((jsm) => ensurePartitionStreams(jsm, { partition: '410300', ns })),
      );
      expect(results[0]).toEqual(results[1]);
    } finally {
      await Promise.all(others.map((nc) => nc.close()));
    }
  });

  it('the server refuses to delete or purge an event', async () => {
    const [ledger] = await ensurePartitionStreams(infra.jsm, {
      partition,
      ns: infra.ns,
      contexts: ['ledger'],
    });
    await infra.js.publish(`${infra.ns}.ledger.${partition}.account.keep`, new Uint8Array([1]));
    await expect(infra.jsm.streams.deleteMessage(ledger!, 1)).rejects.toThrow();
    await expect(infra.jsm.streams.purge(ledger!)).rejects.toThrow();
    expect((await infra.jsm.streams.info(ledger!)).state.messages).toBeGreaterThanOrEqual(1);
  });

  it('names every difference of a misconfigured stream and leaves it as it is', async () => {
    const required = requiredPartitionStream('registry', { partition: '411221', ns: infra.ns });
    await infra.jsm.streams.add({
      ...streamConfigFor(required),
      deny_delete: false,
      max_age: nanos(86_400_000),
      duplicate_window: nanos(60_000),
    });
    const error = await ensurePartitionStreams(infra.jsm, {
      partition: '411221',
      ns: infra.ns,
      contexts: ['registry'],
    }).catch((e) => e);
    expect(error).toBeInstanceOf(StreamConfigMismatchError);
    expect(error.stream).toBe(required.name);
    expect(error.differences.map((d: { field: string }) => d.field).sort()).toEqual([
      'deny_delete',
      'duplicate_window_ms',
      'max_age',
    ]);
    expect(error.message).toContain('deny_delete is false, expected true');
    expect((await infra.jsm.streams.info(required.name)).config.deny_delete).toBe(false);
  });

  it('reports a replica count that differs from the required one', async () => {
    const required = requiredPartitionStream('audit', { partition, ns: infra.ns });
    await ensurePartitionStreams(infra.jsm, { partition, ns: infra.ns, contexts: ['audit'] });
    await expect(verifyStream(infra.jsm, { ...required, replicas: 3 })).rejects.toMatchObject({
      differences: [{ field: 'num_replicas', expected: 3, actual: 1 }],
    });
  });

  it('verifyStream reports a missing stream as StreamMissingError', async () => {
    const required = requiredPartitionStream('ledger', { partition: '430626', ns: infra.ns });
    await expect(verifyStream(infra.jsm, required)).rejects.toBeInstanceOf(StreamMissingError);
  });
});
