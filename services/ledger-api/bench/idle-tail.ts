/**
 * Benchmark (not a test): what registry tails cost while nothing happens. Four tails, as a
 * ledger-api of the demo chain runs them: three on empty REGISTRY streams and one (411300) on a
 * stream that does not exist; the process's CPU time over `seconds` of waiting (decision 0037).
 *
 *   pnpm exec tsx services/ledger-api/bench/idle-tail.ts [seconds]
 */
import { randomBytes } from 'node:crypto';
import { ensurePartitionStreams, silentLogger } from '@fundtrace/eventlog';
import { streamName } from '@fundtrace/events';
import { deleteNamespaceStreams } from '@fundtrace/testkit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { RegistryTail } from '../src/writer/registry-tail';

const seconds = Number(process.argv[2] ?? 60);
const ns = `idle${randomBytes(3).toString('hex')}`;
const nc = await connect({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222' });
const js = jetstream(nc);
const jsm = await jetstreamManager(nc);
const tails: RegistryTail[] = [];
try {
  for (const p of ['000000', '410000', '411300', '411325']) {
    if (p !== '411300') await ensurePartitionStreams(jsm, { partition: p, ns, contexts: ['registry'] }); // 411300: missing stream
    const t = new RegistryTail(js, jsm, streamName('registry', p, ns), silentLogger());
    await t.start();
    tails.push(t);
  }
  const before = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const cpu = process.cpuUsage(before);
  const wall = performance.now() - t0;
  console.log(
    JSON.stringify({
      seconds,
      cpuMs: Math.round((cpu.user + cpu.system) / 1000),
      cpuShare: +(((cpu.user + cpu.system) / 1000 / wall) * 100).toFixed(3),
      outMsgs: nc.stats().outMsgs,
      inMsgs: nc.stats().inMsgs,
    }),
  );
} finally {
  for (const t of tails) await t.stop();
  await deleteNamespaceStreams(jsm, ns);
  await nc.close();
}
