/**
 * Measures the PostgreSQL-backed tree at county scale (run: pnpm exec tsx
 * packages/merkle/bench/pg-proofs.ts [events]). Prints numbers; asserts nothing.
 * Uses a throwaway database on DATABASE_URL's server (testkit), dropped at the end.
 */
import { createTestDatabase } from '@fundtrace/testkit';
import {
  hashLeaf,
  proveConsistency,
  proveInclusion,
  proveInclusionMany,
  verifyInclusion,
} from '../src/index';
import { appendToTree, storedTree } from '../src/pg/index';

const events = Number(process.argv[2] ?? 100_000);
/** The log-keeper's batch size (services/log-keeper keeperBatchSize). */
const batch = 500;
const samples = 500;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const testDb = await createTestDatabase();
try {
  const leaves = Array.from({ length: events }, (_, i) => hashLeaf(Buffer.from(`411325:${i + 1}`)));
  let t = performance.now();
  for (let start = 0; start < events; start += batch) {
    await testDb.db
      .transaction()
      .execute((trx) => appendToTree(trx, 'LEDGER_411325', start, leaves.slice(start, start + batch)));
  }
  const appendMs = performance.now() - t;
  console.log(
    `append: ${events} leaves in ${batch}-leaf transactions: ${(appendMs / 1000).toFixed(1)} s, ${Math.round(events / (appendMs / 1000))} leaves/s`,
  );

  const tree = await storedTree(testDb.db, 'LEDGER_411325');
  const single: number[] = [];
  for (let i = 0; i < samples; i++) {
    const index = Math.floor(Math.random() * events);
    t = performance.now();
    const proof = await proveInclusion(tree, index, events);
    single.push(performance.now() - t);
    if (!proof.ok || !verifyInclusion(proof.value).ok) throw new Error(`proof ${index} failed`);
  }
  console.log(
    `inclusion proof from PG at n=${events}: p50 ${percentile(single, 50).toFixed(2)} ms, p99 ${percentile(single, 99).toFixed(2)} ms`,
  );

  const consistency: number[] = [];
  for (let i = 0; i < samples; i++) {
    const to = 1 + Math.floor(Math.random() * events);
    const from = 1 + Math.floor(Math.random() * to);
    t = performance.now();
    const proof = await proveConsistency(tree, from, to);
    consistency.push(performance.now() - t);
    if (!proof.ok) throw new Error(proof.message);
  }
  console.log(
    `consistency proof from PG: p50 ${percentile(consistency, 50).toFixed(2)} ms, p99 ${percentile(consistency, 99).toFixed(2)} ms`,
  );

  t = performance.now();
  const many = await proveInclusionMany(
    tree,
    Array.from({ length: 2000 }, (_, i) => i),
    events,
  );
  const manyMs = performance.now() - t;
  if (!many.ok) throw new Error(many.message);
  t = performance.now();
  for (const proof of many.value) if (!verifyInclusion(proof).ok) throw new Error('batch proof failed');
  const verifyMs = performance.now() - t;
  console.log(
    `2000 proofs in one query: ${manyMs.toFixed(0)} ms; verifying them: ${verifyMs.toFixed(0)} ms (${((verifyMs / 2000) * 1000).toFixed(0)} µs each)`,
  );
} finally {
  await testDb.drop();
}
