import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProjector } from '@fundtrace/books';
import { streamName } from '@fundtrace/events';
import {
  connectTestNats,
  createTestDatabase,
  deleteNamespaceStreams,
  testNamespace,
} from '@fundtrace/testkit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { bulkLoad } from '../../bench/src/bulk-load';
import { tokensFor } from '../../bench/src/stack';
import { startGeneratedRegistry } from '../test/generated-registry';

/**
 * What a `fundtrace generate` data set costs to load and project, for comparing two data sets
 * (e.g. before and after a change to the generator):
 *
 *   node --import tsx packages/cli/src/main.ts generate --households 5000 --years 1 --seed b8 --out /tmp/ds
 *   node --import tsx packages/cli/bench/generate-cost.ts /tmp/ds
 *
 * It loads the data set through the writers as `pnpm bench` does (@fundtrace/bench bulkLoad, a
 * registry-api process), projects it with the projector in this process, and prints events and
 * bytes of the county's ledger stream, load and projection wall time and the load average. Each
 * run has its own namespace and database, removed at the end.
 */
const county = '411325';

async function main(dir: string) {
  const summary = JSON.parse(await readFile(join(dir, 'summary.json'), 'utf8')) as { commands: number };
  const logDir = await mkdtemp(join(tmpdir(), 'generate-cost-'));
  const ns = testNamespace();
  const database = await createTestDatabase();
  const nc = await connectTestNats('generate-cost');
  const jsm = await jetstreamManager(nc);
  const jwtSecret = randomBytes(32).toString('hex');
  const loadBefore = loadavg()[0]!;
  const registry = await startGeneratedRegistry({ ns, databaseUrl: database.url, jwtSecret, logDir });
  try {
    const loaded = await bulkLoad(join(dir, 'commands.ndjson'), {
      js: jetstream(nc),
      jsm,
      ns,
      endpoints: { registryUrl: registry.url, ledgerUrl: '', tokens: await tokensFor(jwtSecret) },
    });
    await registry.stop();
    const info = await jsm.streams.info(streamName('ledger', county, ns));
    const t = performance.now();
    const projector = startProjector({ nc, db: database.db, schema: 'public', ns });
    await projector.discover();
    for (;;) {
      const lag = await projector.lag();
      if (lag.length > 0 && lag.every((l) => l.lag === 0)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const projectMs = performance.now() - t;
    await projector.stop();
    const projected = await jsm.streams.names();
    let events = 0;
    for await (const name of projected)
      if (name.startsWith(`${ns}_`)) events += (await jsm.streams.info(name)).state.messages;
    process.stdout.write(
      `${JSON.stringify({
        dataSet: dir,
        commands: summary.commands,
        eventsAllStreams: events,
        ledgerEvents: info.state.messages,
        ledgerBytes: info.state.bytes,
        loadMs: Math.round(loaded.ms),
        ledgerLoadMs: Math.round(loaded.ledgerMs),
        projectMs: Math.round(projectMs),
        projectEventsPerS: Math.round(events / (projectMs / 1000)),
        loadAverage: [loadBefore, loadavg()[0]!].map((x) => x.toFixed(2)),
      })}\n`,
    );
  } finally {
    await registry.stop();
    await deleteNamespaceStreams(jsm, ns);
    await nc.close();
    await database.drop();
    await rm(logDir, { recursive: true, force: true });
  }
}

await main(process.argv[2] ?? '');
