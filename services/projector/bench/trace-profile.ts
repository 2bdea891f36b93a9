/**
 * Where a household trace's time goes, on books kept by `trace.ts --keep` (decision 0057): the
 * buffers PostgreSQL hits and reads a trace (EXPLAIN (ANALYZE, BUFFERS), timing off), the
 * backend's CPU a trace (from /proc: PostgreSQL runs on this machine), the client's CPU a trace
 * (process.cpuUsage) for the whole call and for the query alone, and the GC pauses that fell inside
 * timed traces, the answer's bytes and the client's heap allocated a trace (decision 0100). Figures
 * the machine's load moves little, beside the wall-clock percentiles.
 *
 * Usage: node --import tsx services/projector/bench/trace-profile.ts <database url> [samples=300]
 */
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { householdTraceQuery, traceHouseholdUp } from '@fundtrace/books';
import { createDb, type Database } from '@fundtrace/db';
import { seededRandom } from '@fundtrace/pii';
import { sql } from 'kysely';
import { householdIdOf, householdsFor, traceCounty } from '../../../packages/bench/src/trace-scale';
import { loadAverage, procCpuSeconds } from './support';

const url = process.argv[2];
if (url === undefined) throw new Error('usage: trace-profile.ts <database url> [samples]');
const samples = Number(process.argv[3] ?? 300);
const households = householdsFor(1_000_000);
const db = createDb<Database>(url, { schema: 'books', max: 1 });
const random = seededRandom('trace-profile');
const pick = () => householdIdOf(1 + Math.floor(random.next() * households));

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
};
const fmt = (xs: number[]) =>
  `p50 ${pct(xs, 0.5).toFixed(2)} p99 ${pct(xs, 0.99).toFixed(2)} mean ${(xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(2)}`;

/** CPU (user + system) the pool's one backend has used so far, from /proc (same machine). */
async function backendCpuMs(): Promise<number> {
  const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db);
  return procCpuSeconds(rows[0]!.pid) * 1000;
}

try {
  for (let i = 0; i < 50; i++) await traceHouseholdUp(db, traceCounty, pick());
  // 1. Buffers and time inside PostgreSQL (timing off: no per-node clock reads).
  const hits: number[] = [];
  const reads: number[] = [];
  const inside: number[] = [];
  await db.connection().execute(async (conn) => {
    for (let i = 0; i < samples; i++) {
      const { rows } = await sql<{
        'QUERY PLAN': { Plan: Record<string, number>; 'Execution Time': number; 'Planning Time': number }[];
      }>`
        explain (analyze, buffers, timing off, format json) ${householdTraceQuery(traceCounty, pick())}`.execute(
        conn,
      );
      const plan = rows[0]!['QUERY PLAN'][0]!;
      hits.push(plan.Plan['Shared Hit Blocks']! + (plan.Plan['Local Hit Blocks'] ?? 0));
      reads.push(plan.Plan['Shared Read Blocks']!);
      inside.push(plan['Execution Time'] + plan['Planning Time']);
    }
  });
  console.log(`inside PostgreSQL ms: ${fmt(inside)}`);
  console.log(`shared buffers hit: ${fmt(hits)}; read (outside shared_buffers): ${fmt(reads)}`);
  // 2. Client: wall and CPU of the whole call, and of the query alone (text only).
  const wall: number[] = [];
  const gcs: { start: number; duration: number }[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcs.push({ start: entry.startTime, duration: entry.duration });
  });
  observer.observe({ entryTypes: ['gc'] });
  const windows: [number, number][] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    await traceHouseholdUp(db, traceCounty, pick());
    const ended = performance.now();
    wall.push(ended - started);
    windows.push([started, ended]);
  }
  const cpu1 = process.cpuUsage(cpu0);
  await new Promise((resolve) => setTimeout(resolve, 50));
  observer.disconnect();
  const inWindow = gcs.filter((gc) => windows.some(([a, b]) => gc.start >= a && gc.start < b));
  const slow = [...wall].sort((a, b) => b - a)[Math.floor(samples / 100)]!;
  const slowWithGc = windows.filter(
    ([a, b], i) => wall[i]! >= slow && gcs.some((gc) => gc.start >= a && gc.start < b),
  ).length;
  console.log(
    `GC: ${gcs.length} pauses (${gcs.reduce((t, g) => t + g.duration, 0).toFixed(1)} ms) during ${samples} traces, ` +
      `${inWindow.length} inside a timed trace (${inWindow.reduce((t, g) => t + g.duration, 0).toFixed(1)} ms); ` +
      `traces at or above the p99 (${slow.toFixed(2)} ms) with a GC inside: ${slowWithGc}`,
  );
  const backend = await backendCpuMs();
  for (let i = 0; i < samples; i++) await traceHouseholdUp(db, traceCounty, pick());
  const backendPerTrace = ((await backendCpuMs()) - backend) / samples;
  console.log(
    `backend CPU ${backendPerTrace.toFixed(3)} ms a trace (/proc of the connection's backend, 10 ms ticks over ${samples} traces)`,
  );
  const raw: number[] = [];
  const bytes: number[] = [];
  const cpu2 = process.cpuUsage();
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    const { rows } = await householdTraceQuery(traceCounty, pick()).execute(db);
    raw.push(performance.now() - started);
    bytes.push(Buffer.byteLength(rows[0]!.trace));
  }
  const cpu3 = process.cpuUsage(cpu2);
  // 3. Client garbage a trace: the heap grown across one call. A GC inside a call makes its
  // delta wrong (it frees), but one falls in ~1 % of calls, so the median is one without.
  const grown: number[] = [];
  for (let i = 0; i < samples; i++) {
    const before = process.memoryUsage().heapUsed;
    await traceHouseholdUp(db, traceCounty, pick());
    grown.push(process.memoryUsage().heapUsed - before);
  }
  const perTrace = (c: NodeJS.CpuUsage) => ((c.user + c.system) / 1000 / samples).toFixed(3);
  console.log(`traceHouseholdUp wall ms: ${fmt(wall)}; client CPU ${perTrace(cpu1)} ms a trace`);
  console.log(`query alone wall ms: ${fmt(raw)}; client CPU ${perTrace(cpu3)} ms a query`);
  console.log(
    `answer bytes p50 ${pct(bytes, 0.5)}; client heap allocated a trace p50 ${pct(grown, 0.5)} bytes (heapUsed across one call)`,
  );
  console.log(`load average ${loadAverage()}`);
} finally {
  await db.destroy();
}
