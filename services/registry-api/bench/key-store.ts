/**
 * What per-household data keys cost an import (decision 0042): creating, wrapping and storing one
 * key per household in windows as the import does, then fetching them again (the cache cold, as
 * after a restart). Run against a scratch database on the machine's PostgreSQL:
 *   pnpm exec tsx services/registry-api/bench/key-store.ts [households]
 * Numbers go to stdout; nothing is asserted.
 */
import { randomBytes } from 'node:crypto';
import { silentLogger } from '@fundtrace/eventlog';
import { parseKeyring } from '@fundtrace/pii';
import { createTestDatabase } from '@fundtrace/testkit';
import { DataKeyStore } from '../src/keys/key-store';
import { importBatchEventsMax } from '../src/writer/registry-writer';

const households = Number(process.argv[2] ?? 30_500);
const keyring = parseKeyring({
  keys: `m1:${randomBytes(32).toString('base64')}`,
  activeKeyId: 'm1',
  hmacKey: randomBytes(32).toString('base64'),
});
const ids = Array.from({ length: households }, (_, i) => `41132500${String(i).padStart(6, '0')}`);
const database = await createTestDatabase();

async function timed(label: string, work: (store: DataKeyStore) => Promise<void>): Promise<void> {
  const store = await DataKeyStore.open({ url: database.url, keyring, logger: silentLogger() });
  const start = performance.now();
  await work(store);
  const seconds = (performance.now() - start) / 1000;
  console.log(
    `${label.padEnd(34)} ${seconds.toFixed(2).padStart(6)} s  ${Math.round(households / seconds)} households/s`,
  );
  await store.close();
}

try {
  await timed('create + wrap + insert (windows)', async (store) => {
    for (let from = 0; from < ids.length; from += importBatchEventsMax) {
      await store.keysFor('411325', ids.slice(from, from + importBatchEventsMax));
    }
  });
  await timed('fetch + unwrap (cold cache)', async (store) => {
    for (let from = 0; from < ids.length; from += importBatchEventsMax) {
      await store.keysFor('411325', ids.slice(from, from + importBatchEventsMax));
    }
  });
} finally {
  await database.drop();
}
