import { connectNats } from '@fundtrace/eventlog';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { testConfig } from './config';
import { randomToken } from './random';
import { noteCreated } from './run-ledger';

/**
 * A unique, short stream namespace (`t` + 8 base-36 characters): streams become
 * `<ns>_LEDGER_<code>` and subjects `<ns>.ledger.<code>.…`, so test files never see
 * each other's events on the shared NATS server.
 */
export function testNamespace(): string {
  const ns = `t${randomToken(8)}`;
  noteCreated('namespace', ns);
  return ns;
}

/** Connects to the test NATS (NATS_URL or the machine's 127.0.0.1:4222). */
export function connectTestNats(name = 'fundtrace-test', url = testConfig.natsUrl): Promise<NatsConnection> {
  return connectNats(url, { name });
}

/** Deletes every stream of namespace `ns` (deny_delete protects messages, not a whole test stream). */
export async function deleteNamespaceStreams(jsm: JetStreamManager, ns: string): Promise<string[]> {
  if (ns.length === 0)
    throw new RangeError('refusing to delete the streams of the empty (production) namespace');
  const prefix = `${ns}_`;
  const doomed: string[] = [];
  for await (const name of jsm.streams.names()) if (name.startsWith(prefix)) doomed.push(name);
  for (const name of doomed) await jsm.streams.delete(name);
  return doomed;
}
